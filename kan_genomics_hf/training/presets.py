"""Named settings for `kan-genomics train --preset` (and the benchmark presets built on them) and
`kan-genomics train-diffusion --preset` (``DIFFUSION_PRESETS``).

``RECOMMENDED`` is the configuration chosen on validation MCC only (dev splits) in
``bench_results/gue_recipe_search`` (see its summary.md for the evidence behind every entry).
A preset fills in only flags still at their defaults; explicit flags win, and its ``--config``
entries come first so the user's ``--config KEY=VALUE`` override them.
"""
from __future__ import annotations

import argparse
import dataclasses
from typing import Any

# `kan-genomics train` settings (argparse dest = config field name) -> value
RECOMMENDED: dict[str, Any] = {
    "size": "200k",
    "epochs": 10,
    "batch_size": 64,
    "learning_rate": 5e-3,
    "scheduler": "onecycle",
    "weight_decay": 0.005,
    "early_stopping_patience": 3,
    "mixed_precision": "bf16",
}
# LegNetConfig KEY=VALUE entries: tanh squashing of the input of every SE KANLinear onto its grid (LKAN only; no
# parameters, no effect on the baseline / CKAN). Evidence (validation MCC x 100, dev splits only):
# - first screen (5 epochs, mouse_2, 2 seeds): LayerNorm +3.1 +- 0.7 over the paper-exact LKAN (2/2 seeds);
#   RC augmentation + RC-averaged evaluation +0.8 +- 2.0 (1/2) and one grid update after epoch 1 -0.9 +- 3.1 (1/2):
#   not included.
# - cpu-full screen (bench_results/gue_recipe_search/cpu_full_screen: the cpu-full recipe, 5 GUE tasks, seed 0),
#   paired with LayerNorm: tanh +1.0 MCC on average (+3.0 prom_300_tata, +2.2 tf_2, +0.1 mouse_2 and prom_core_all,
#   -0.2 mouse_0; 4/5 ahead); LayerNorm with grid range [-2, 2] -0.4 (2/5).
# - rejected on validation later: wider LKAN convolutions at 200k (grid 3 / an MLP SE in stage 0 / both: -3.1 / -2.1 /
#   -1.5 vs tanh, cpu_full_width_screen) and, for CKAN, kan_conv_input_norm=tanh (-1.2 [-2.4, -0.1] over 6 tasks x 3
#   seeds, bench_results/gue_cpu_full_fp32_ckan_tanh).
# - RC augmentation + RC-averaged evaluation on the cpu-full path (bench_results/gue_cpu_full_fp32_rc, 6 tasks x 3
#   seeds): pooled -0.8 (LKAN) / -1.0 (baseline), so not in any preset; it helps the TF-binding tasks mouse_0,
#   mouse_2, tf_2 (+1.1 to +2.3) and hurts the strand-specific promoter tasks (-4.1, -6.4): a per-task option.
RECOMMENDED_CONFIG: list[str] = ["kan_input_norm=tanh"]

TRAIN_PRESETS: dict[str, tuple[dict[str, Any], list[str]]] = {"recommended": (RECOMMENDED, RECOMMENDED_CONFIG)}

# ClassifierTrainingConfig fields that are recipe options (a benchmark preset passes them as `recipe`)
RECIPE_KEYS = ("rc_augment", "shift_augment", "rc_eval", "label_smoothing", "ema_decay", "grid_update",
               "spline_lr_scale", "spline_weight_decay")


def _config_overrides(entries: list[str]) -> dict[str, Any]:
    import json

    out: dict[str, Any] = {}
    for entry in entries:
        key, _, value = entry.partition("=")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


# the same configuration as `kan-genomics benchmark` preset values (BenchmarkConfig fields)
RECOMMENDED_BENCHMARK: dict[str, Any] = {
    "size": RECOMMENDED["size"], "epochs": RECOMMENDED["epochs"], "batch_size": RECOMMENDED["batch_size"],
    "learning_rate": RECOMMENDED["learning_rate"], "scheduler": RECOMMENDED["scheduler"], "runs": 3,
    "max_train": None, "max_eval": None, "early_stopping_patience": RECOMMENDED["early_stopping_patience"],
    "mixed_precision": RECOMMENDED["mixed_precision"],
    "recipe": {k: RECOMMENDED[k] for k in RECIPE_KEYS if k in RECOMMENDED},
    "config_overrides": _config_overrides(RECOMMENDED_CONFIG),
}


def field_defaults(*dataclass_types: type) -> dict[str, Any]:
    """{field name: default} of the given dataclasses (the defaults of the flags derived from them)."""
    out: dict[str, Any] = {}
    for dtype in dataclass_types:
        for f in dataclasses.fields(dtype):
            if f.default is not dataclasses.MISSING:
                out[f.name] = f.default
            elif f.default_factory is not dataclasses.MISSING:
                out[f.name] = f.default_factory()
    return out


def _unset(args: argparse.Namespace, key: str, defaults: dict[str, Any]) -> bool:
    """Whether a preset may fill `key`: the user did not write its flag (``args.given_flags``, set by
    `commands._common.parse_with_given_flags`), or, for a namespace built without that record, its value
    equals the default."""
    given = getattr(args, "given_flags", None)
    if given is not None:
        return key not in given
    return getattr(args, key, defaults.get(key)) == defaults.get(key)


def apply_train_preset(args: argparse.Namespace, defaults: dict[str, Any]) -> argparse.Namespace:
    """Fill ``args`` from ``args.preset`` (None = nothing) where the user gave no flag (`_unset`; ``defaults``,
    e.g. from `field_defaults`); the preset's --config entries go before the user's."""
    name = getattr(args, "preset", None)
    if not name:
        return args
    if name not in TRAIN_PRESETS:
        raise ValueError(f"unknown train preset {name!r}; choose from {sorted(TRAIN_PRESETS)}")
    values, config = TRAIN_PRESETS[name]
    for key, value in values.items():
        if _unset(args, key, defaults):
            setattr(args, key, value)
    args.config = list(config) + list(getattr(args, "config", []) or [])
    return args


# `kan-genomics train-diffusion --preset` settings (DiffusionTrainingConfig field -> value). "variants" holds the
# per-variant model sizes that give the three variants about the same parameter count. The evidence (validation
# chr9 sample quality of each option) is bench_results/generation/screening.md; the measured times are in
# bench_results/generation/results.md.
DIFFUSION_PRESETS: dict[str, dict[str, Any]] = {
    "cpu": {
        "val_chromosomes": ("chr9",),
        "exclude_chromosomes": ("chr8",),
        "num_train_timesteps": 100,
        "beta_schedule": "linear",
        "beta_start": 1e-4,
        "beta_end": 0.2,
        # x0 ("sample") prediction: at 3,000 steps (chr9, 128 per cell type, seed 0) 4-mer JS 0.0075 against 0.025
        # for noise prediction and 0.024 for v prediction, and guidance that works (own-class 0.33 / 0.38 at w = 3 /
        # 5, against 0.25 for noise prediction at w = 3); bench_results/generation/conditioning_screen
        "prediction_type": "sample",
        "loss": "huber",
        "batch_size": 32,
        "learning_rate": 1e-3,
        "lr_schedule": "cosine",
        "lr_warmup_steps": 200,
        "max_steps": 3000,
        "ema_decay": 0.995,
        "layers_per_block": 1,
        "sample_every_epochs": 0,
        "save_steps": 1000,
        "variants": {
            "baseline": {"block_out_channels": (16, 32)},  # 78,996 parameters with 4 classes
            "lkan": {"block_out_channels": (8, 16)},  # 66,476
            "ckan": {"block_out_channels": (8, 16), "kan_grid_size": 3},  # 74,156
        },
    },
}
# `cpu-long`: the `cpu` recipe for 20,000 steps (18 epochs; 31 min wall for the baseline, 1 thread, 2 shared cores).
# Validation (chr9, 256 per cell type, DDIM-50 eta 1): 4-mer JS 0.0043 at w = 1 and own-class fraction 0.31 / 0.44 /
# 0.51 at w = 1 / 3 / 5, against 0.0056 and 0.28 / 0.36 / 0.42 for `cpu` (bench_results/generation/val,
# long_run/val).
# Both presets are sampled with DDIM-50, eta 1 and guidance scale 5 in the benchmark (chosen on chr9).
DIFFUSION_PRESETS["cpu-long"] = {**DIFFUSION_PRESETS["cpu"], "max_steps": 20_000, "save_steps": 2000}


def diffusion_preset(name: str, variant: str) -> dict[str, Any]:
    """The DiffusionTrainingConfig values of preset `name` for `variant` (shared values + that variant's)."""
    if name not in DIFFUSION_PRESETS:
        raise ValueError(f"unknown train-diffusion preset {name!r}; choose from {sorted(DIFFUSION_PRESETS)}")
    values = dict(DIFFUSION_PRESETS[name])
    per_variant = values.pop("variants", {})
    return {**values, **per_variant.get(variant, {})}


def apply_diffusion_preset(args: argparse.Namespace, defaults: dict[str, Any]) -> argparse.Namespace:
    """Fill ``args`` from ``args.preset`` (None = nothing) for ``args.variant`` where the user gave no flag
    (`_unset`; ``defaults``, e.g. ``field_defaults(DiffusionTrainingConfig)``): explicit flags win."""
    name = getattr(args, "preset", None)
    if not name:
        return args
    for key, value in diffusion_preset(name, getattr(args, "variant", defaults.get("variant"))).items():
        if _unset(args, key, defaults):
            setattr(args, key, value)
    return args
