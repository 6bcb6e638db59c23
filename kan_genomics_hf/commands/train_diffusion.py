"""`kan-genomics train-diffusion`: train a baseline / LKAN / CKAN KANUNet1DModel on DNA (works under `accelerate launch`)."""
from __future__ import annotations

import argparse
import json
from typing import Any


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _strs(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.split(",") if v.strip())


def add_arguments(p: argparse.ArgumentParser) -> None:
    """All options of DiffusionTrainingConfig as command-line flags."""
    p.add_argument("--data", required=True, help="CSV/TSV/parquet with a sequence column (+ class column)")
    p.add_argument("--output-dir", required=True)
    p.add_argument("--sequence-column", default="sequence")
    p.add_argument("--class-column", default="cell_type", help="column of class names; 'none' = unconditional")
    p.add_argument("--val-fraction", type=float, default=0.05)
    p.add_argument("--val-chromosomes", type=_strs, default=None, help="e.g. chr9: hold these out for validation")
    p.add_argument("--exclude-chromosomes", type=_strs, default=None, help="e.g. chr8: never train on these (test)")
    p.add_argument("--chromosome-column", default="chr")
    p.add_argument("--max-train-samples", type=int, default=None, help="random subset of the table (seeded)")
    p.add_argument("--variant", choices=("baseline", "lkan", "ckan"), default="baseline")
    p.add_argument("--block-out-channels", type=_ints, default=(32, 64, 128))
    p.add_argument("--layers-per-block", type=int, default=1)
    p.add_argument("--attention-levels", type=_ints, default=None, help="levels with attention (default: deepest)")
    p.add_argument("--kan-grid-size", type=int, default=5)
    p.add_argument("--kan-spline-order", type=int, default=3)
    p.add_argument("--num-train-timesteps", type=int, default=50)
    p.add_argument("--beta-start", type=float, default=1e-4)
    p.add_argument("--beta-end", type=float, default=0.2)
    p.add_argument("--loss", choices=("mse", "huber"), default="huber")
    p.add_argument("--p-uncond", type=float, default=0.1, help="classifier-free-guidance label dropout")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--learning-rate", type=float, default=1e-4)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many optimizer steps (overrides --epochs)")
    p.add_argument("--max-time-s", type=float, default=None, help="stop after this many seconds of training")
    p.add_argument("--ema-decay", type=float, default=0.995, help="EMA decay; 0 disables EMA")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint-every", type=int, default=500)
    p.add_argument("--keep-last", type=int, default=2)
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in output-dir")
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--sample-every-epochs", type=int, default=1, help="0 disables periodic sampling")
    p.add_argument("--sample-num-per-class", type=int, default=32)
    p.add_argument("--sample-steps", type=int, default=50)
    p.add_argument("--no-sample-motifs", action="store_true", help="skip the JASPAR scan during periodic sampling")
    p.add_argument("--push-to-hub", default=None, metavar="REPO_ID")
    p.add_argument("--hub-token", default=None)
    p.add_argument("--mixed-precision", choices=("no", "fp16", "bf16"), default="no")
    p.add_argument("--cpu", action="store_true")


def config_from_args(args: argparse.Namespace) -> Any:
    """DiffusionTrainingConfig from parsed flags."""
    from ..training.diffusion import DiffusionTrainingConfig

    return DiffusionTrainingConfig(
        data=args.data, output_dir=args.output_dir, sequence_column=args.sequence_column,
        class_column=None if str(args.class_column).lower() == "none" else args.class_column,
        val_fraction=args.val_fraction, val_chromosomes=args.val_chromosomes,
        exclude_chromosomes=args.exclude_chromosomes, chromosome_column=args.chromosome_column,
        max_train_samples=args.max_train_samples, variant=args.variant,
        block_out_channels=args.block_out_channels, layers_per_block=args.layers_per_block,
        attention_levels=args.attention_levels, kan_grid_size=args.kan_grid_size,
        kan_spline_order=args.kan_spline_order, num_train_timesteps=args.num_train_timesteps,
        beta_start=args.beta_start, beta_end=args.beta_end, loss=args.loss, p_uncond=args.p_uncond,
        batch_size=args.batch_size, learning_rate=args.learning_rate, weight_decay=args.weight_decay,
        epochs=args.epochs, max_steps=args.max_steps, max_time_s=args.max_time_s,
        ema_decay=args.ema_decay if args.ema_decay > 0 else None, seed=args.seed,
        checkpoint_every=args.checkpoint_every, keep_last=args.keep_last, resume=args.resume,
        log_every=args.log_every, sample_every_epochs=args.sample_every_epochs,
        sample_num_per_class=args.sample_num_per_class, sample_steps=args.sample_steps,
        sample_motifs=not args.no_sample_motifs, push_to_hub=args.push_to_hub, hub_token=args.hub_token,
        mixed_precision=args.mixed_precision, cpu=args.cpu,
    )


def run(args: argparse.Namespace) -> int:
    """Train and print the summary (without the per-step history)."""
    from ..training.diffusion import train_diffusion

    results = train_diffusion(config_from_args(args))
    print(json.dumps({k: v for k, v in results.items() if k not in ("history", "config")}, indent=2, default=str))
    return 0


def register(subparsers: Any) -> None:
    """Add the `train-diffusion` subcommand."""
    p = subparsers.add_parser("train-diffusion", help="train a KAN UNet1D diffusion model on DNA sequences",
                              description=__doc__)
    add_arguments(p)
    p.set_defaults(func=run)
