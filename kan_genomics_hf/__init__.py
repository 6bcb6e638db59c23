"""kan-genomics-hf: Kolmogorov-Arnold Networks for genomics on the Hugging Face stack.

Public names are imported lazily (see `_EXPORTS`), so the import is light (no torch, no transformers).
It installs the registration (`registration`, the only place): the LegNet classes join transformers' Auto
classes and the "dna-classification" pipeline task, and `DiffusionPipeline.from_pretrained` finds
DNADiffusionPipeline, each as soon as that library is imported.
"""
from __future__ import annotations

import importlib
import warnings
from typing import Any

__version__ = "0.1.0"

# public name -> module (relative to this package) that defines it
_EXPORTS: dict[str, str] = {
    "KANLinear": ".modeling.kan_layers",
    "KANConv1d": ".modeling.kan_layers",
    "KANUNet1DModel": ".modeling.unet_kan_1d",
    "DNADiffusionPipeline": ".pipelines.dna_diffusion",
    "evaluate_generation": ".evaluation.generation",
    "LegNetConfig": ".modeling.configuration_legnet",
    "LegNetModel": ".modeling.modeling_legnet",
    "LegNetForSequenceClassification": ".modeling.modeling_legnet",
    "LegNetPreTrainedModel": ".modeling.modeling_legnet",
    "DNATokenizer": ".modeling.tokenization_dna",
    "save_classifier": ".models.loading",
    "load_classifier": ".models.loading",
    "count_parameters": ".modeling.sizing",
    "scale_config": ".modeling.sizing",
    "preset_config": ".modeling.sizing",
    "SIZE_PRESETS": ".modeling.sizing",
    "DNAClassificationPipeline": ".pipelines.dna_classification",
    "in_silico_mutagenesis": ".interpret.mutagenesis",
    "plot_mutagenesis": ".interpret.mutagenesis",
    "plot_edge_functions": ".interpret.kan_edges",
    "rank_edges": ".interpret.kan_edges",
    "prune_edges": ".interpret.kan_edges",
    "count_flops_per_sequence": ".models.profiling",
    "load_genomic_dataset": ".data.loading",
    "build_flipon_dataset": ".data.flipon",
    "summarize_dataset": ".data.summary",
    "DNACollator": ".data.collate",
    "ClassifierTrainingConfig": ".training.config",
    "DiffusionTrainingConfig": ".training.config",
    "train_classifier": ".training.trainer",
    "classification_metrics": ".evaluation.metrics",
    "run_baselines": ".evaluation.baselines",
    "BenchmarkConfig": ".experiments.benchmark",
    "run_benchmark": ".experiments.benchmark",
    "write_model_card": ".hub.model_card",
    "push_folder": ".hub.push",
}


# old public name -> new one (the old name still works, with a FutureWarning)
_RENAMED: dict[str, str] = {"TrainingArguments": "ClassifierTrainingConfig"}


def __getattr__(name: str) -> Any:
    if name in _RENAMED:
        warnings.warn(f"kan_genomics_hf.{name} is renamed; use kan_genomics_hf.{_RENAMED[name]}", FutureWarning,
                      stacklevel=2)
        return __getattr__(_RENAMED[name])
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kan_genomics_hf' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


__all__ = sorted(_EXPORTS)

# AutoConfig/AutoModel/AutoModelForSequenceClassification/AutoTokenizer know "kan_legnet" once transformers' Auto
# classes load; the "dna-classification" task and `DiffusionPipeline.from_pretrained` once transformers.pipelines /
# diffusers load
from .registration import install as _install_registration  # noqa: E402

_install_registration()
