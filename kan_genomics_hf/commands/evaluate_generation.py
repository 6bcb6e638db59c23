"""`kan-genomics evaluate-generation`: score generated DNA against real sequences (JSON + Markdown + PNG)."""
from __future__ import annotations

import argparse
from typing import Any


def run(args: argparse.Namespace) -> int:
    """Compute the metrics (plus real-vs-real / shuffled references if asked) and write them to output-dir."""
    from pathlib import Path

    from ..evaluation.generation import (
        evaluate_generation,
        metrics_markdown,
        plot_generation_histograms,
        reference_values,
    )
    from ..io.atomic import write_json_atomic
    from ..io.sequences import read_sequences
    from ..sequence import shuffle_nucleotides

    try:
        gen = read_sequences(args.generated)
        ref = read_sequences(args.reference, args.column, args.filter_column, args.filter_value)
        if args.max_reference and len(ref) > args.max_reference:
            import random

            ref = random.Random(args.seed).sample(ref, args.max_reference)
        train = read_sequences(args.train, args.column) if args.train else None
        target = None
        if args.target_class is not None:
            target = int(args.target_class)
        metrics = evaluate_generation(gen, ref, train=train, oracle=args.oracle, target_class=target,
                                      motif_threshold=args.motif_threshold, jaspar_release=args.jaspar_release,
                                      seed=args.seed)
        rows = {"generated": metrics}
        if args.references:
            refs = reference_values(ref, seed=args.seed, motif_threshold=args.motif_threshold,
                                    jaspar_release=args.jaspar_release)
            rows.update(refs)
    except (ValueError, FileNotFoundError, TypeError) as err:
        raise SystemExit(f"error: {err}") from None
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "generation_metrics.json", rows)
    md = "# Generation metrics\n\n" + metrics_markdown(rows)
    if not args.no_plots:
        sets = {"generated": gen, "reference": ref, "shuffled reference": shuffle_nucleotides(ref, args.seed)}
        paths = plot_generation_histograms(sets, out, jaspar_release=args.jaspar_release,
                                           motif_threshold=args.motif_threshold)
        md += "\n" + "\n".join(f"![{p.stem}]({p.name})" for p in paths) + "\n"
    (out / "generation_metrics.md").write_text(md)
    print(md)
    return 0


def register(subparsers: Any) -> None:
    """Add the `evaluate-generation` subcommand."""
    p = subparsers.add_parser("evaluate-generation", help="metrics of generated vs real DNA", description=__doc__)
    p.add_argument("--generated", required=True, help="FASTA / CSV / one-per-line file of generated sequences")
    p.add_argument("--reference", required=True, help="real sequences (FASTA / CSV / text)")
    p.add_argument("--column", default="sequence", help="sequence column for CSV inputs")
    p.add_argument("--filter-column", default=None, help="CSV: keep reference rows where this column ...")
    p.add_argument("--filter-value", default=None, help="... equals this value (e.g. a cell type)")
    p.add_argument("--max-reference", type=int, default=2000, help="random subset of the reference (0 = all)")
    p.add_argument("--train", default=None, help="training sequences for novelty / memorisation")
    p.add_argument("--oracle", default=None, help="saved sequence classifier folder used as the oracle")
    p.add_argument("--target-class", default=None, help="oracle class id the generated sequences should have")
    p.add_argument("--motif-threshold", type=float, default=0.8, help="hit if PWM score >= this fraction of max")
    p.add_argument("--jaspar-release", default="JASPAR2024")
    p.add_argument("--references", action="store_true", help="also compute real-vs-real and shuffled-vs-real")
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output-dir", default="generation_eval")
    p.set_defaults(func=run)
