"""`kan-genomics generate`: sample DNA from a saved DNADiffusionPipeline and write FASTA (+ optional one-hot .npy)."""
from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from ._common import add_runtime_args, fail, setup_runtime


def check_args(args: argparse.Namespace) -> str | None:
    """The first problem with the flags as a one-line message (checked before the model is loaded), or None."""
    for flag, value in (("--guidance-scale", args.guidance_scale), ("--eta", args.eta)):
        if not math.isfinite(value):
            return f"{flag} must be a finite number, got {value}"
    for flag, path in (("--output", args.output), ("--onehot", args.onehot)):
        if path is not None and Path(path).is_dir():
            return f"{flag} {path} is a directory; give a file path such as {Path(path) / 'generated.fa'}"
    if args.num_sequences < 1:
        return f"--num-sequences must be >= 1, got {args.num_sequences}"
    if not Path(args.model).exists() and "/" not in str(args.model):
        return f"model folder not found: {args.model}"
    return None


def parse_class_labels(text: str | None) -> list[int | str] | None:
    """'K562,1' -> ['K562', 1] (ids as ints, names as typed: exact, unique prefix or the part before '_')."""
    if text is None:
        return None
    return [int(v) if v.strip().lstrip("-").isdigit() else v.strip() for v in text.split(",")]


def load_pipeline(args: argparse.Namespace):
    """The saved pipeline on the chosen device, with the scheduler overridden when --scheduler is given."""
    import torch

    from ..pipelines.dna_diffusion import DNADiffusionPipeline, make_scheduler

    pipe = DNADiffusionPipeline.from_pretrained(args.model)
    if args.scheduler:  # the trained noise schedule and prediction type carry over (x0 models stay x0)
        cfg = pipe.scheduler.config
        pipe.scheduler = make_scheduler(args.scheduler, int(cfg.num_train_timesteps), cfg.beta_start, cfg.beta_end,
                                        cfg.beta_schedule, cfg.prediction_type)
    return pipe.to("cuda" if torch.cuda.is_available() and not args.cpu else "cpu")


def run(args: argparse.Namespace) -> int:
    """Load the pipeline, sample, write FASTA; print a one-line summary."""
    import time

    import numpy as np
    import torch

    problem = check_args(args)
    if problem:
        return fail(problem)
    setup_runtime(args)
    try:
        pipe = load_pipeline(args)
    except (OSError, ValueError, TypeError) as err:
        return fail(f"cannot load a diffusion pipeline from {args.model}: {str(err).splitlines()[0]}")
    steps = args.steps or int(pipe.scheduler.config.num_train_timesteps)
    labels = parse_class_labels(args.class_labels)
    t0 = time.time()
    try:
        out = pipe(num_sequences=None if labels else args.num_sequences, class_labels=labels,
                   num_sequences_per_label=args.num_sequences if labels else 1, sequence_length=args.length,
                   guidance_scale=args.guidance_scale, num_inference_steps=steps, eta=args.eta,
                   generator=torch.Generator().manual_seed(args.seed), batch_size=args.batch_size,
                   use_clipped_model_output=True if args.clipped_model_output else None)
    except ValueError as err:
        return fail(str(err))
    seconds = max(time.time() - t0, 1e-9)
    path = out.to_fasta(args.output)
    if args.onehot:
        np.save(args.onehot, out.onehot)
    print(f"wrote {len(out.sequences)} sequences to {path} in {seconds:.1f} s ({len(out.sequences) / seconds:.1f} seq/s)")
    return 0


def register(subparsers: Any) -> None:
    """Add the `generate` subcommand."""
    p = subparsers.add_parser("generate", help="sample DNA sequences from a trained diffusion pipeline",
                              description=__doc__)
    p.add_argument("--model", required=True, help="folder (or Hub id) saved by train-diffusion / save_pretrained")
    p.add_argument("--output", required=True, help="FASTA file to write (not a directory)")
    p.add_argument("--num-sequences", type=int, default=16,
                   help="sequences per class (or in total if unconditional) (default: 16)")
    p.add_argument("--class", dest="class_labels", default=None,
                   help="comma-separated class names or ids; a unique prefix or the part before '_' is enough "
                        "(K562 -> K562_ENCLB843GMH); omit for unconditional sampling")
    p.add_argument("--guidance-scale", type=float, default=1.0,
                   help="w in eps_null + w (eps_c - eps_null): 0 unconditional, 1 conditional, >1 guided (default: 1)")
    p.add_argument("--steps", type=int, default=50,
                   help="inference steps (<= training steps); 0 = all training steps (default: 50)")
    p.add_argument("--scheduler", choices=("ddim", "ddpm"), default=None, help="override the saved scheduler")
    p.add_argument("--eta", type=float, default=0.0, help="DDIM eta (default: 0 = deterministic)")
    p.add_argument("--clipped-model-output", action="store_true",
                   help="DDIM: take the noise direction from the clipped x0 prediction (use_clipped_model_output; "
                        "recommended for unguided sampling, see bench_results/generation/ddim_gap)")
    p.add_argument("--length", type=int, default=None, help="sequence length (default: the model's sample_size)")
    p.add_argument("--batch-size", type=int, default=256, help="sequences per denoising batch (default: 256)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--onehot", default=None, help="also save the one-hot array (N, 4, L) as .npy")
    add_runtime_args(p)
    p.set_defaults(func=run)
