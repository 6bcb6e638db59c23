"""`kan-genomics evaluate-generation`: score generated DNA against real sequences (JSON + Markdown + PNG).

Every row of the table is computed at one sample size n (the generated count; the reference is subsampled
to n, and real-vs-real / shuffled-vs-real use n vs n), so the divergences compare. With --class-column the
generated FASTA is split by its `class=` headers and each class is scored against the reference rows of that
class (per-cell-type tables and their mean); with --oracle also the own-class fraction beside chance.
"""
from __future__ import annotations

import argparse
from typing import Any

from ._common import add_runtime_args, fail, setup_runtime


def _generated_by_class(path: str) -> dict[str | None, list[str]]:
    """Generated sequences grouped by the `class=<name>` word of their FASTA headers (None without one)."""
    from ..io.sequences import read_sequence_records

    groups: dict[str | None, list[str]] = {}
    for rec in read_sequence_records(path):
        label = next((w[len("class="):] for w in rec.description.split() if w.startswith("class=")), None)
        groups.setdefault(label, []).append(rec.sequence)
    return groups


def _reference_by_class(args: argparse.Namespace, names: list[str], column: str | None = None) -> dict[str, list[str]]:
    """Reference sequences per generated class name (names resolved against the column's values, so K562
    finds K562_ENCLB843GMH)."""
    from ..io.tables import read_dataframe
    from ..modeling.unet_kan_1d import resolve_class_name

    column = column or args.class_column
    df = read_dataframe(args.reference)
    for col in (args.column, column):
        if col not in df.columns:
            raise ValueError(f"{args.reference}: no column {col!r}; columns are {list(df.columns)}")
    values = sorted(df[column].astype(str).unique())
    out = {}
    for name in names:
        value = values[resolve_class_name(name, values)]
        out[name] = df.loc[df[column].astype(str) == value, args.column].astype(str).tolist()
    return out


def _sample(seqs: list[str], n: int, seed: int) -> list[str]:
    """At most n of seqs (seeded), so the plotted reference has the generated set's size."""
    import random

    return seqs if len(seqs) <= n else random.Random(seed).sample(seqs, n)


def _oracle_classes(oracle: str) -> list[str]:
    from ..models.loading import load_classifier

    model, _ = load_classifier(oracle)
    return [model.config.id2label[i] for i in range(model.config.num_labels)]


def evaluate(args: argparse.Namespace) -> tuple[dict[str, dict[str, float]], dict[str, list[str]], list[str]]:
    """(rows of the table, sequence sets for the plots, Markdown sections) for the parsed flags."""
    import numpy as np

    from ..evaluation.generation import equal_size_rows, metrics_markdown, own_class_fraction
    from ..io.sequences import read_sequences

    kw = dict(motif_threshold=args.motif_threshold, jaspar_release=args.jaspar_release, seed=args.seed)
    train = read_sequences(args.train, args.column) if args.train else None
    if not args.class_column:
        gen = read_sequences(args.generated)
        ref = (_reference_by_class(args, [args.filter_value], args.filter_column)[args.filter_value]
               if args.filter_column else read_sequences(args.reference, args.column))
        target = int(args.target_class) if args.target_class is not None else None
        rows = equal_size_rows(gen, ref, references=args.references, train=train, oracle=args.oracle,
                               target_class=target, progress=True, **kw)
        return rows, {"generated": gen, "reference": _sample(ref, len(gen), args.seed)}, []
    groups = _generated_by_class(args.generated)
    if None in groups:
        raise ValueError(f"{args.generated}: {len(groups[None])} sequences without a class= header; "
                         "--class-column needs FASTA written by `kan-genomics generate --class ...`")
    refs = _reference_by_class(args, list(groups))
    per_class = {name: equal_size_rows(groups[name], refs[name], references=args.references, train=train,
                                       progress=True, **kw) for name in groups}
    sections = [f"## {name}\n\n" + metrics_markdown(r) for name, r in per_class.items()]
    rows = {row: {k: float(np.mean([r[row][k] for r in per_class.values()])) for k in per_class[next(iter(groups))][row]}
            for row in per_class[next(iter(groups))]}
    if args.oracle:
        classes = _oracle_classes(args.oracle)
        from ..modeling.unet_kan_1d import resolve_class_name

        mapped = {classes[resolve_class_name(n if n in classes else n.split("_")[0], classes)]: s
                  for n, s in groups.items()}
        rows["generated"].update(own_class_fraction(mapped, args.oracle, classes))
    sets = {"generated": [s for v in groups.values() for s in v],
            "reference": [s for n, v in refs.items() for s in _sample(v, len(groups[n]), args.seed)]}
    return rows, sets, sections


def run(args: argparse.Namespace) -> int:
    """Compute the metrics (plus real-vs-real / shuffled references if asked) and write them to output-dir."""
    from pathlib import Path

    from ..evaluation.generation import metrics_markdown, plot_generation_histograms
    from ..io.atomic import write_json_atomic
    from ..sequence import shuffle_nucleotides

    setup_runtime(args)
    try:
        rows, sets, sections = evaluate(args)
    except (ValueError, FileNotFoundError, TypeError) as err:
        return fail(str(err))
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "generation_metrics.json", rows)
    n = int(rows["generated"]["n_generated"])
    title = "mean over classes" if sections else "all sequences"
    md = (f"# Generation metrics ({title}; every row at n = {n} sequences per side)\n\n" + metrics_markdown(rows)
          + "".join("\n" + s for s in sections))
    if not args.no_plots:
        print(f"plotting histograms of {len(sets['generated'])} sequences per set ...", flush=True)
        sets["shuffled reference"] = shuffle_nucleotides(sets["reference"], args.seed)
        paths = plot_generation_histograms(sets, out, jaspar_release=args.jaspar_release,
                                           motif_threshold=args.motif_threshold)
        md += "\n" + "\n".join(f"![{p.stem}]({p.name})" for p in paths) + "\n"
    (out / "generation_metrics.md").write_text(md)
    print(md)
    return 0


def register(subparsers: Any) -> None:
    """Add the `evaluate-generation` subcommand."""
    p = subparsers.add_parser("evaluate-generation", help="metrics of generated vs real DNA", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--generated", required=True, help="FASTA / CSV / one-per-line file of generated sequences")
    p.add_argument("--reference", required=True, help="real sequences (FASTA / CSV / text)")
    p.add_argument("--column", default="sequence", help="sequence column for CSV inputs (default: sequence)")
    p.add_argument("--class-column", default=None,
                   help="CSV: per-class evaluation; generated FASTA headers carry class=<name> (e.g. cell_type)")
    p.add_argument("--filter-column", default=None, help="CSV: keep reference rows where this column ...")
    p.add_argument("--filter-value", default=None, help="... equals this value (e.g. K562_ENCLB843GMH)")
    p.add_argument("--train", default=None, help="training sequences for novelty / memorisation")
    p.add_argument("--oracle", default=None,
                   help="saved classifier trained on real data of the same classes (own-class fraction vs chance)")
    p.add_argument("--target-class", default=None, help="oracle class id the generated sequences should have")
    p.add_argument("--motif-threshold", type=float, default=0.8,
                   help="hit if PWM score >= this fraction of max (default: 0.8)")
    p.add_argument("--jaspar-release", default="JASPAR2024", help="JASPAR release (default: JASPAR2024)")
    p.add_argument("--references", action="store_true",
                   help="also real-vs-real and shuffled-vs-real at the same sample size")
    p.add_argument("--no-plots", action="store_true", help="skip the histogram PNGs")
    p.add_argument("--seed", type=int, default=0, help="subsampling / shuffling seed (default: 0)")
    p.add_argument("--output-dir", default="generation_eval", help="where to write (default: generation_eval)")
    add_runtime_args(p)
    p.set_defaults(func=run)
