"""Argument groups and helpers shared by the train / evaluate / predict / benchmark / demo commands."""
from __future__ import annotations

import argparse
import json
import os
from typing import Any


def add_dataset_args(p: argparse.ArgumentParser, default: str | None = "synthetic") -> None:
    """--dataset/--data-dir/--dataset-option options."""
    g = p.add_argument_group("data")
    g.add_argument("--dataset", default=default, required=default is None,
                   help="dataset name (synthetic, gb/<name>, gue/<task>, gue_plus/<task>, dnadiffusion) or a path "
                        "(folder with train/dev/test CSV/TSV/parquet, CSV with a split column, FASTA). "
                        "Default: %(default)s")
    g.add_argument("--data-dir", default=None,
                   help="root for gue/gue_plus tasks (else $KAN_GENOMICS_GUE_ROOT), or the DNA-Diffusion CSV")
    g.add_argument("--dataset-option", action="append", default=[], metavar="KEY=VALUE",
                   help="extra loader option, e.g. difficulty=0.3 or n_train=5000 for 'synthetic' (repeatable)")
    g.add_argument("--max-train", type=int, default=None, help="subsample the training split to at most N rows")
    g.add_argument("--max-eval", type=int, default=None, help="subsample validation/test to at most N rows")


def add_runtime_args(p: argparse.ArgumentParser) -> None:
    """--threads/--cpu options."""
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default: torch's choice; 1 is fastest on a busy machine)")
    p.add_argument("--cpu", action="store_true", help="force CPU even when a GPU is present")


def parse_kv(items: list[str]) -> dict[str, Any]:
    """KEY=VALUE strings -> dict, values parsed as JSON when possible (numbers, lists, booleans)."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise SystemExit(f"error: expected KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


def setup_runtime(args: argparse.Namespace) -> None:
    """Apply --threads and quiet noisy library progress bars."""
    import torch

    if getattr(args, "threads", None):
        torch.set_num_threads(args.threads)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        import datasets

        datasets.disable_progress_bars()
    except ImportError:
        pass
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:
        pass


def load_dataset_from_args(args: argparse.Namespace, print_summary: bool = True):
    """Load (and optionally summarise) the dataset named by the data arguments."""
    from ..data.loading import load_genomic_dataset
    from ..data.summary import format_summary, summarize_dataset
    from ..data.protocols import subsample

    dd = load_genomic_dataset(args.dataset, data_dir=args.data_dir, **parse_kv(args.dataset_option))
    dd = subsample(dd, args.max_train, args.max_eval, seed=getattr(args, "seed", 0))
    if print_summary:
        print(format_summary(summarize_dataset(dd), args.dataset))
    return dd


def fail(message: str) -> int:
    """Print a one-line error and return exit code 1."""
    import sys

    print(f"error: {message}", file=sys.stderr)
    return 1
