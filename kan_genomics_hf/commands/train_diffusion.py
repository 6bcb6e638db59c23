"""`kan-genomics train-diffusion`: train a baseline / LKAN / CKAN KANUNet1DModel on DNA (works under
`accelerate launch`); --push-to-hub takes its token from the HF_TOKEN environment variable."""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import Any

from ..training.config import DiffusionTrainingConfig, option
from ..training.presets import DIFFUSION_PRESETS
from ._common import add_dataclass_arguments, add_runtime_args, dataclass_from_args, fail, setup_runtime


@dataclass
class DiffusionPresetOptions:
    """A named configuration (training/presets.py, DIFFUSION_PRESETS) under the explicit flags."""

    preset: str | None = option(None, choices=tuple(DIFFUSION_PRESETS),
                                help="cpu: the CPU recipe chosen on validation (chr9) sample quality in "
                                     "bench_results/generation/screening.md and conditioning_screen/: T=100 linear "
                                     "betas, x0 (sample) prediction, Huber loss, "
                                     "lr 1e-3 with 200 warm-up steps and cosine decay, batch 32, EMA 0.995, 3,000 "
                                     "steps, chr9 validation / chr8 held out, widths per variant for ~70-80k "
                                     "parameters (see bench_results/generation/results.md for the times); "
                                     "cpu-long: the same for 20,000 steps (about 50 min on one core; "
                                     "bench_results/generation/long_run); explicit flags override it")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """All options of DiffusionTrainingConfig as command-line flags, plus --preset and --threads."""
    add_dataclass_arguments(p, DiffusionPresetOptions)
    add_dataclass_arguments(p, DiffusionTrainingConfig)
    add_runtime_args(p)  # --cpu is the config's own flag, so this adds --threads


def build_pipeline(unet: Any, cfg: DiffusionTrainingConfig) -> Any:
    """The DNADiffusionPipeline (DDIM, the config's noise schedule) that `train_diffusion` samples and exports."""
    from ..pipelines.dna_diffusion import DNADiffusionPipeline, make_scheduler

    return DNADiffusionPipeline(unet, make_scheduler("ddim", cfg.num_train_timesteps, cfg.beta_start, cfg.beta_end,
                                                     cfg.beta_schedule, cfg.prediction_type))


def run(args: argparse.Namespace) -> int:
    """Train and print the summary (without the per-step history)."""
    from ..hub.push import PushToHubError
    from ..training.diffusion import train_diffusion
    from ..training.presets import apply_diffusion_preset, field_defaults

    try:
        apply_diffusion_preset(args, field_defaults(DiffusionTrainingConfig))
        cfg = dataclass_from_args(DiffusionTrainingConfig, args)
    except ValueError as err:
        return fail(str(err))
    if args.preset:
        cfg.extra = {**cfg.extra, "preset": args.preset}
    setup_runtime(args)
    try:
        results = train_diffusion(cfg, build_pipeline)
    except (PushToHubError, FileExistsError) as err:
        return fail(str(err))
    print(json.dumps({k: v for k, v in results.items() if k not in ("history", "config")}, indent=2, default=str))
    return 0


def register(subparsers: Any) -> None:
    """Add the `train-diffusion` subcommand."""
    p = subparsers.add_parser("train-diffusion", help="train a KAN UNet1D diffusion model on DNA sequences",
                              description=__doc__)
    add_arguments(p)
    p.set_defaults(func=run)
