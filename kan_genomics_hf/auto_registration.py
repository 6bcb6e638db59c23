"""Register the LegNet classes with transformers' Auto classes and the 'dna-classification' pipeline task.

`import kan_genomics_hf` calls `install()`: the Auto classes are registered at once (this imports torch
and transformers, ~3 s; lazy hooks on transformers proved fragile because our own modules import it);
the pipeline task is registered right after `transformers.pipelines` finishes importing (one-shot import
hook; importing the pipelines costs ~6 s, so it is not done eagerly), or at once if already imported.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import warnings
from typing import Any, Callable

_done: set[str] = set()


def register_auto_classes() -> None:
    """AutoConfig / AutoModel / AutoModelForSequenceClassification / AutoTokenizer know "kan_legnet" (idempotent)."""
    if "auto" in _done:
        return
    from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification, AutoTokenizer

    from .modeling.configuration_legnet import LegNetConfig
    from .modeling.modeling_legnet import LegNetForSequenceClassification, LegNetModel
    from .modeling.tokenization_dna import DNATokenizer

    AutoConfig.register(LegNetConfig.model_type, LegNetConfig, exist_ok=True)
    AutoModel.register(LegNetConfig, LegNetModel, exist_ok=True)
    AutoModelForSequenceClassification.register(LegNetConfig, LegNetForSequenceClassification, exist_ok=True)
    AutoTokenizer.register(LegNetConfig, slow_tokenizer_class=DNATokenizer, exist_ok=True)
    _done.add("auto")


def register_pipeline_task() -> None:
    """Make pipeline("dna-classification", ...) available (idempotent)."""
    if "pipeline" in _done:
        return
    module = sys.modules.get(__package__ + ".pipelines.dna_classification")
    if module is not None and getattr(getattr(module, "__spec__", None), "_initializing", False):
        return  # that module is being imported right now and registers the task itself when it finishes
    from .pipelines.dna_classification import register_dna_classification_pipeline

    register_dna_classification_pipeline()
    _done.add("pipeline")


class _AfterImport(importlib.abc.MetaPathFinder):
    """One-shot finder that runs ``callback`` right after module ``name`` has been executed."""

    def __init__(self, name: str, callback: Callable[[], None]) -> None:
        self.name, self.callback = name, callback

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != self.name:
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        original = spec.loader.exec_module
        callback = self.callback

        def exec_module(module: Any) -> None:
            original(module)
            try:
                callback()
            except Exception as err:  # never break the user's import because of us; say what failed
                warnings.warn(f"kan_genomics_hf: registering with {fullname} failed: {err!r}", stacklevel=2)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _when_imported(name: str, callback: Callable[[], None]) -> None:
    if name in sys.modules:
        callback()
    elif not any(isinstance(f, _AfterImport) and f.name == name for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterImport(name, callback))


def install() -> None:
    """Register the Auto classes now and the pipeline task once transformers.pipelines is imported."""
    register_auto_classes()
    _when_imported("transformers.pipelines", register_pipeline_task)
