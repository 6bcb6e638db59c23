"""Model-card keyword arguments (for `hub.model_card.write_model_card`) describing a trained model."""
from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SE_KIND = {"baseline": "MLP squeeze-excitation", "lkan": "linear-KAN squeeze-excitation"}
CLASSIFIER_TRAINING_KEYS = ("epochs", "batch_size", "learning_rate", "weight_decay", "scheduler", "mixed_precision",
                            "seed", "rc_augment", "shift_augment", "length_mode")


def _rows(n: int) -> str:
    return f"{n:,} row" + ("" if n == 1 else "s")


def split_rows_text(rows: Mapping[str, int], full_rows: Mapping[str, int] | None = None) -> dict[str, str]:
    """Per split: "3,000 rows (a random subsample of 32,378)" or "3,000 rows (the whole split)"; without
    `full_rows` (sizes before subsampling unknown) just "3,000 rows"."""
    out = {}
    for split, n in rows.items():
        full = (full_rows or {}).get(split)
        if full is None:
            out[split] = _rows(n)
        elif full > n:
            out[split] = f"{_rows(n)} (a random subsample of {full:,})"
        else:
            out[split] = f"{_rows(n)} (the whole split)"
    return out


def is_subsampled(rows: Mapping[str, int], full_rows: Mapping[str, int] | None, split: str) -> bool:
    return bool(full_rows) and split in rows and full_rows.get(split, rows[split]) > rows[split]


def hardware_of(accelerator: Any) -> str:
    """'cpu', or 'cuda (NVIDIA H200)' etc.: the device type of the run (and the GPU name when there is one)."""
    device = getattr(accelerator, "device", None)
    kind = getattr(device, "type", None) or str(device or "cpu")
    if kind == "cuda":
        try:
            import torch

            return f"cuda ({torch.cuda.get_device_name(device)})"
        except Exception:  # noqa: BLE001 - the name is a nicety
            return kind
    return kind


def classifier_card(model, args, dataset_name: str, validation: dict[str, float], test: dict[str, float] | None,
                    baselines: dict[str, Any] | None = None, *, rows: Mapping[str, int] | None = None,
                    full_rows: Mapping[str, int] | None = None, num_processes: int = 1,
                    hardware: str | None = None) -> dict[str, Any]:
    """Card of a LegNet classifier trained with `args` (a ClassifierTrainingConfig); `args.model_card` wins.

    `rows`: rows per split actually used; `full_rows`: the split sizes before `--max-train` / `--max-eval`
    (when known, the card says which splits are subsamples); `num_processes` and `hardware` describe the run
    (effective batch = batch_size x num_processes x gradient_accumulation_steps)."""
    cfg = model.config
    variant = getattr(cfg, "variant", "model")
    results = test if test is not None else validation
    scored = "test" if test is not None else "validation"
    repo = args.hub_model_id or "<folder>"
    rows = dict(rows or {})
    texts = split_rows_text(rows, full_rows)
    split_label = scored
    if scored in rows:
        split_label = (f"{scored} (random {rows[scored]:,}-row subsample)" if is_subsampled(rows, full_rows, scored)
                       else f"{scored} ({_rows(rows[scored])})")
    if rows:
        parts = ", ".join(f"{split}: {text}" for split, text in texts.items())
        training_data = f"`{dataset_name}`, rows used per split: {parts}. Model selected on validation MCC."
        if any(is_subsampled(rows, full_rows, s) for s in rows):
            training_data += (" The subsample was drawn with `--max-train` / `--max-eval` (seeded shuffle); "
                              "scores on the full splits will differ.")
    else:
        training_data = f"`{dataset_name}` (train split; model selected on validation MCC)."
    results_note = f"Scored on the {texts[scored]} of the {scored} split." if scored in texts else ""
    accumulation = getattr(args, "gradient_accumulation_steps", 1)
    training = {k: getattr(args, k) for k in CLASSIFIER_TRAINING_KEYS}
    training["batch_size"] = f"{args.batch_size} per process"
    training["effective batch"] = (f"{args.batch_size * num_processes * accumulation} "
                                   f"({args.batch_size} x {num_processes} processes x {accumulation} accumulation)")
    training["processes"] = num_processes
    training["hardware"] = hardware or "not recorded"
    baseline_rows = {}
    for name, entry in (baselines or {}).items():
        metrics = dict(entry["metrics"])
        train_n, test_n = entry.get("train_rows", rows.get("train")), entry.get("test_rows", rows.get("test"))
        if train_n is not None:
            metrics["train rows"] = f"{train_n:,}"
        if test_n is not None:
            metrics["test rows"] = f"{test_n:,}"
        baseline_rows[name] = metrics
    baselines_note = "Classical baselines (GC content, k-mer logistic regression)"
    if rows.get("train") is not None and rows.get("test") is not None:
        baselines_note += (f", trained on the same {_rows(rows['train'])} and scored on the same "
                           f"{_rows(rows['test'])} as the model (rows per baseline in the table):")
    else:
        baselines_note += " on the same split:"
    card = dict(
        model_name=args.hub_model_id.split("/")[-1] if args.hub_model_id
        else f"legnet-{variant}-{dataset_name.replace('/', '-')}",
        summary=f"LegNet-style DNA sequence classifier, variant **{variant}** "
                f"({SE_KIND.get(variant, 'KAN convolutions')}), trained on `{dataset_name}` with kan-genomics-hf.",
        library_name="transformers", pipeline_tag="text-classification", task_type="text-classification",
        datasets=[dataset_name], dataset_name=dataset_name, dataset_split=split_label,
        results={k: v for k, v in results.items() if v is not None and not (isinstance(v, float) and math.isnan(v))},
        results_note=results_note,
        baselines=baseline_rows, baselines_note=baselines_note,
        details={"variant": variant, "parameters": f"{sum(p.numel() for p in model.parameters()):,}",
                 "block sizes": list(getattr(cfg, "block_sizes", [])),
                 "KAN grid size": getattr(cfg, "kan_grid_size", None), "labels": cfg.num_labels},
        training=training,
        training_data=training_data,
        usage=("```python\nfrom transformers import AutoModelForSequenceClassification, AutoTokenizer\n"
               f"model = AutoModelForSequenceClassification.from_pretrained(\"{repo}\", trust_remote_code=True)\n"
               f"tokenizer = AutoTokenizer.from_pretrained(\"{repo}\", trust_remote_code=True)\n"
               "logits = model(**tokenizer([\"ACGT...\"], return_tensors=\"pt\")).logits\n```"),
        tags=["legnet", variant],
    )
    if getattr(cfg, "training_length", None):
        card["details"]["training length (median, bp)"] = cfg.training_length
    card.update(args.model_card)
    return card


def data_file_label(path: str) -> str:
    """How a card names a data file: its file name when `path` is absolute, else `path` as given."""
    p = Path(path)
    return p.name if p.is_absolute() else str(path)


def diffusion_card(cfg, results: dict[str, Any], class_names: list[str] | None) -> dict[str, Any]:
    """Card of an exported DNADiffusionPipeline trained with `cfg` (a DiffusionTrainingConfig)."""
    scores = {k: v for k, v in {"val_loss": results.get("final_val_loss"),
                                "val_loss_ema": results.get("final_val_loss_ema")}.items() if v is not None}
    classes = ", ".join(class_names) if class_names else "(unconditional)"
    code = ("from kan_genomics_hf import DNADiffusionPipeline\n\n"
            "pipe = DNADiffusionPipeline.from_pretrained(\"<this folder or repo>\")\n")
    code += (f"out = pipe(num_sequences=8, class_labels={class_names[0]!r}, num_inference_steps=50)\n"
             "print(out.sequences)") if class_names else "print(pipe(8).sequences)"
    data = data_file_label(cfg.data) if getattr(cfg, "data", None) else None
    training_data = ""
    if data:
        training_data = f"`{data}`"
        if getattr(cfg, "sequence_column", None):
            training_data += f" (sequence column `{cfg.sequence_column}`"
            training_data += f", class column `{cfg.class_column}`)" if getattr(cfg, "class_column", None) else ")"
        if getattr(cfg, "max_train_samples", None):
            training_data += f"; a seeded random subset of at most {cfg.max_train_samples:,} rows"
        training_data += "."
    params = results.get("parameters")
    return dict(
        model_name=f"kan-unet1d-{cfg.variant}",
        summary=f"A {cfg.variant} KAN UNet1D diffusion model generating {classes} DNA sequences.",
        library_name="diffusers", task_type="dna-generation",
        dataset_name=Path(data).stem if data else None, dataset_split="validation", results=scores,
        details={"variant": cfg.variant, "parameters": f"{params:,}" if isinstance(params, int) else params,
                 "classes": classes, "block_out_channels": list(cfg.block_out_channels),
                 "layers_per_block": cfg.layers_per_block},
        training={"steps": f"{results['global_step']:,}", "loss": cfg.loss, "T": cfg.num_train_timesteps,
                  "betas": f"linear {cfg.beta_start:g} -> {cfg.beta_end:g}", "p_uncond": cfg.p_uncond,
                  "ema_decay": cfg.ema_decay, "lr": cfg.learning_rate, "batch_size": cfg.batch_size,
                  "seed": cfg.seed, "train_seconds": round(results["train_seconds"], 1)},
        training_data=training_data,
        usage=f"```python\n{code}\n```",
        limitations="Generated sequences are statistical samples; validate them with an oracle and motif "
                    "analysis before any experimental use.",
        tags=["diffusion", "dna-generation", cfg.variant],
    )
