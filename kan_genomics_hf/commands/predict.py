"""`kan-genomics predict`: class probabilities for sequences given on the command line, in a FASTA file
or in a text/CSV file (one sequence per line or a `sequence` column); writes CSV."""
from __future__ import annotations

import argparse
import re
import sys

from ._common import add_runtime_args, fail, setup_runtime


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("predict", help="predict classes of DNA sequences with a trained model",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="saved model folder or Hub id")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--sequence", "-s", action="append", help="a DNA sequence (repeatable)")
    src.add_argument("--input", "-i", help="FASTA, CSV with a 'sequence' column, or one sequence per line")
    p.add_argument("--output", "-o", default=None, help="CSV output (default: print to stdout)")
    p.add_argument("--batch-size", type=int, default=128, help="sequences per forward pass (default: 128)")
    p.add_argument("--rc-averaging", action="store_true", help="average forward and reverse-complement logits")
    add_runtime_args(p)
    p.set_defaults(func=run)


def name_the_record(message: str, ids: list[str] | None) -> str:
    """'sequence 3: invalid character ...' -> 'record chr1:100-200 (sequence 3): invalid character ...'."""
    match = re.match(r"sequence (\d+): ", message)
    if ids is None or match is None or int(match.group(1)) >= len(ids):
        return message
    return f"record {ids[int(match.group(1))]} ({message[: match.end() - 2]}): {message[match.end():]}"


def run(args: argparse.Namespace) -> int:
    setup_runtime(args)
    import csv
    import io

    from ..data.input_checks import out_of_distribution_warning, training_length_of
    from ..io.sequences import read_sequence_records
    from ..models.predict import predict_proba
    from .evaluate import load_model_and_tokenizer

    records = None
    try:
        model, tokenizer = load_model_and_tokenizer(args.model)
        records = read_sequence_records(args.input) if args.input else None
        ids = [r.id for r in records] if records else [str(i) for i in range(len(args.sequence))]
        seqs = [r.sequence for r in records] if records else args.sequence
        warning = out_of_distribution_warning(seqs, ids, training_length_of(model.config))
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
        probs = predict_proba(model, tokenizer, seqs, args.batch_size, rc_averaging=True if args.rc_averaging else None)
    except (ValueError, FileNotFoundError, TypeError) as err:
        return fail(name_the_record(str(err), ids if records else None))
    names = [model.config.id2label.get(i, str(i)) for i in range(probs.shape[1])]
    buf = io.StringIO() if args.output is None else open(args.output, "w", newline="")
    w = csv.writer(buf)
    w.writerow(["id", "predicted_label", "score"] + [f"p_{n}" for n in names])
    for i, row in zip(ids, probs):
        k = int(row.argmax())
        w.writerow([i, names[k], f"{row[k]:.4f}"] + [f"{v:.4f}" for v in row])
    if args.output is None:
        sys.stdout.write(buf.getvalue())
    else:
        buf.close()
        print(f"wrote {len(ids)} predictions to {args.output}")
    return 0
