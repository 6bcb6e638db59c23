"""Model-card keyword arguments (for `hub.model_card.write_model_card`) describing a trained model."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

SE_KIND = {"baseline": "MLP squeeze-excitation", "lkan": "linear-KAN squeeze-excitation"}
CLASSIFIER_TRAINING_KEYS = ("epochs", "batch_size", "learning_rate", "weight_decay", "scheduler", "mixed_precision",
                            "seed", "rc_augment", "shift_augment", "length_mode")


def classifier_card(model, args, dataset_name: str, validation: dict[str, float], test: dict[str, float] | None,
                    baselines: dict[str, Any] | None = None) -> dict[str, Any]:
    """Card of a LegNet classifier trained with `args` (a ClassifierTrainingConfig); `args.model_card` wins."""
    cfg = model.config
    variant = getattr(cfg, "variant", "model")
    results = test if test is not None else validation
    repo = args.hub_model_id or "<folder>"
    card = dict(
        model_name=args.hub_model_id.split("/")[-1] if args.hub_model_id
        else f"legnet-{variant}-{dataset_name.replace('/', '-')}",
        summary=f"LegNet-style DNA sequence classifier, variant **{variant}** "
                f"({SE_KIND.get(variant, 'KAN convolutions')}), trained on `{dataset_name}` with kan-genomics-hf.",
        library_name="transformers", pipeline_tag="text-classification", task_type="text-classification",
        datasets=[dataset_name], dataset_name=dataset_name, dataset_split="test" if test is not None else "validation",
        results={k: v for k, v in results.items() if v is not None and not (isinstance(v, float) and math.isnan(v))},
        baselines={k: v["metrics"] for k, v in (baselines or {}).items()},
        details={"variant": variant, "parameters": f"{sum(p.numel() for p in model.parameters()):,}",
                 "block sizes": list(getattr(cfg, "block_sizes", [])),
                 "KAN grid size": getattr(cfg, "kan_grid_size", None), "labels": cfg.num_labels},
        training={k: getattr(args, k) for k in CLASSIFIER_TRAINING_KEYS},
        training_data=f"`{dataset_name}` (train split; model selected on validation MCC).",
        usage=("```python\nfrom transformers import AutoModelForSequenceClassification, AutoTokenizer\n"
               f"model = AutoModelForSequenceClassification.from_pretrained(\"{repo}\", trust_remote_code=True)\n"
               f"tokenizer = AutoTokenizer.from_pretrained(\"{repo}\", trust_remote_code=True)\n"
               "logits = model(**tokenizer([\"ACGT...\"], return_tensors=\"pt\")).logits\n```"),
        tags=["legnet", variant],
    )
    card.update(args.model_card)
    return card


def diffusion_card(cfg, results: dict[str, Any], class_names: list[str] | None) -> dict[str, Any]:
    """Card of an exported DNADiffusionPipeline trained with `cfg` (a DiffusionTrainingConfig)."""
    scores = {k: v for k, v in {"val_loss": results.get("final_val_loss"),
                                "val_loss_ema": results.get("final_val_loss_ema")}.items() if v is not None}
    classes = ", ".join(class_names) if class_names else "(unconditional)"
    usage = ("import kan_genomics_hf\nfrom kan_genomics_hf import DNADiffusionPipeline\n"
             "pipe = DNADiffusionPipeline.from_pretrained('<this folder or repo>')\n"
             f"out = pipe(num_sequences=8, class_labels={class_names[0]!r}, num_inference_steps=50)\n"
             "print(out.sequences)") if class_names else (
        "from kan_genomics_hf import DNADiffusionPipeline\n"
        "pipe = DNADiffusionPipeline.from_pretrained('<this folder or repo>')\nprint(pipe(8).sequences)")
    return dict(
        model_name=f"kan-unet1d-{cfg.variant}",
        summary=f"A {cfg.variant} KAN UNet1D diffusion model generating {classes} DNA sequences.",
        library_name="diffusers", task_type="dna-generation", dataset_name=Path(cfg.data).stem,
        dataset_split="validation", results=scores,
        details={"variant": cfg.variant, "parameters": results["parameters"], "classes": classes,
                 "block_out_channels": list(cfg.block_out_channels), "layers_per_block": cfg.layers_per_block},
        training={"steps": results["global_step"], "loss": cfg.loss, "T": cfg.num_train_timesteps,
                  "betas": f"linear {cfg.beta_start} -> {cfg.beta_end}", "p_uncond": cfg.p_uncond,
                  "ema_decay": cfg.ema_decay, "lr": cfg.learning_rate, "batch_size": cfg.batch_size,
                  "train_seconds": round(results["train_seconds"], 1)},
        usage=usage,
        limitations="Generated sequences are statistical samples; validate them with an oracle and motif "
                    "analysis before any experimental use.",
        tags=["diffusion", "dna-generation", cfg.variant],
    )
