"""`kan-genomics generate`: sample DNA from a saved DNADiffusionPipeline and write FASTA (+ optional one-hot .npy)."""
from __future__ import annotations

import argparse
from typing import Any


def run(args: argparse.Namespace) -> int:
    """Load the pipeline, sample, write FASTA; print a one-line summary."""
    import time
    from pathlib import Path

    import numpy as np
    import torch

    from ..pipelines.dna_diffusion import DNADiffusionPipeline, make_scheduler

    if not Path(args.model).exists() and "/" not in str(args.model):
        raise SystemExit(f"error: model folder not found: {args.model}")
    pipe = DNADiffusionPipeline.from_pretrained(args.model)
    if args.scheduler:
        n_train = int(pipe.scheduler.config.num_train_timesteps)
        cfg = pipe.scheduler.config
        pipe.scheduler = make_scheduler(args.scheduler, n_train, cfg.beta_start, cfg.beta_end)
    steps = args.steps or int(pipe.scheduler.config.num_train_timesteps)
    labels = args.class_labels
    if labels is not None:
        labels = [int(v) if v.lstrip("-").isdigit() else v for v in labels.split(",")]
        labels = [lab for lab in labels for _ in range(args.num_sequences)]
    total = args.num_sequences * (len(args.class_labels.split(",")) if args.class_labels else 1)
    generator = torch.Generator().manual_seed(args.seed)
    t0 = time.time()
    try:
        out = pipe(num_sequences=total, sequence_length=args.length, class_labels=labels,
                   guidance_scale=args.guidance_scale, num_inference_steps=steps, eta=args.eta,
                   generator=generator, batch_size=args.batch_size)
    except ValueError as err:
        raise SystemExit(f"error: {err}") from None
    seconds = time.time() - t0
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
    p.add_argument("--num-sequences", type=int, default=16, help="sequences per class (or in total if unconditional)")
    p.add_argument("--class", dest="class_labels", default=None,
                   help="comma-separated class names or ids; omit for unconditional sampling")
    p.add_argument("--guidance-scale", type=float, default=1.0,
                   help="w in eps_null + w (eps_c - eps_null): 0 unconditional, 1 conditional, >1 guided")
    p.add_argument("--steps", type=int, default=50, help="inference steps (<= training steps); 0 = all training steps")
    p.add_argument("--scheduler", choices=("ddim", "ddpm"), default=None, help="override the saved scheduler")
    p.add_argument("--eta", type=float, default=0.0, help="DDIM eta (0 = deterministic)")
    p.add_argument("--length", type=int, default=None, help="sequence length (default: the model's sample_size)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", default="generated.fa", help="FASTA output path")
    p.add_argument("--onehot", default=None, help="also save the one-hot array (N, 4, L) as .npy")
    p.set_defaults(func=run)
