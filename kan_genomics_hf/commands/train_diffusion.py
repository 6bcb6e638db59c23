"""`kan-genomics train-diffusion`: train a baseline / LKAN / CKAN KANUNet1DModel on DNA (works under
`accelerate launch`); --push-to-hub takes its token from the HF_TOKEN environment variable."""
from __future__ import annotations

import argparse
import json
from typing import Any

from ..training.config import DiffusionTrainingConfig
from ._common import add_dataclass_arguments, add_runtime_args, dataclass_from_args, fail, setup_runtime


def add_arguments(p: argparse.ArgumentParser) -> None:
    """All options of DiffusionTrainingConfig as command-line flags, plus --threads."""
    add_dataclass_arguments(p, DiffusionTrainingConfig)
    add_runtime_args(p)  # --cpu is the config's own flag, so this adds --threads


def build_pipeline(unet: Any, cfg: DiffusionTrainingConfig) -> Any:
    """The DNADiffusionPipeline (DDIM, the config's noise schedule) that `train_diffusion` samples and exports."""
    from ..pipelines.dna_diffusion import DNADiffusionPipeline, make_scheduler

    return DNADiffusionPipeline(unet, make_scheduler("ddim", cfg.num_train_timesteps, cfg.beta_start, cfg.beta_end))


def run(args: argparse.Namespace) -> int:
    """Train and print the summary (without the per-step history)."""
    from ..hub.push import PushToHubError
    from ..training.diffusion import train_diffusion

    try:
        cfg = dataclass_from_args(DiffusionTrainingConfig, args)
    except ValueError as err:
        return fail(str(err))
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
