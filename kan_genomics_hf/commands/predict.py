"""`kan-genomics predict`: class probabilities for sequences given on the command line, in a FASTA file
or in a text/CSV file (one sequence per line or a `sequence` column); writes CSV."""
from __future__ import annotations

import argparse

from ._common import add_runtime_args, fail, setup_runtime


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("predict", help="predict classes of DNA sequences with a trained model",
                              description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("model", help="saved model folder or Hub id")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--sequence", "-s", action="append", help="a DNA sequence (repeatable)")
    src.add_argument("--input", "-i", help="FASTA, CSV with a 'sequence' column, or one sequence per line")
    p.add_argument("--output", "-o", default=None, help="CSV output (default: print to stdout)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--rc-averaging", action="store_true", help="average forward and reverse-complement logits")
    add_runtime_args(p)
    p.set_defaults(func=run)


def read_sequences(path: str) -> tuple[list[str], list[str]]:
    """(ids, sequences) from FASTA, CSV (sequence column) or plain lines."""
    from pathlib import Path

    from ..data.loading import FASTA_SUFFIXES, _read_fasta

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such input file: {path}")
    if p.name.lower().endswith(FASTA_SUFFIXES) or p.read_text()[:1] == ">":
        recs = _read_fasta(p)
        return [h.split()[0] for h, _ in recs], [s for _, s in recs]
    if p.suffix.lower() in (".csv", ".tsv"):
        import pandas as pd

        df = pd.read_csv(p, sep="\t" if p.suffix.lower() == ".tsv" else ",")
        if "sequence" not in df.columns:
            raise ValueError(f"{path}: CSV needs a 'sequence' column (has {list(df.columns)})")
        ids = df["id"].astype(str).tolist() if "id" in df.columns else [str(i) for i in range(len(df))]
        return ids, df["sequence"].astype(str).tolist()
    seqs = [line.strip() for line in p.read_text().splitlines() if line.strip()]
    return [str(i) for i in range(len(seqs))], seqs


def predict(model, tokenizer, seqs: list[str], batch_size: int = 128):
    """(n, C) class probabilities; invalid characters raise a ValueError naming the sequence."""
    import numpy as np
    import torch

    from ..modeling.dna_encoding import encode_batch

    encode_batch(seqs)  # validates: names sequence index, position and character
    out = []
    with torch.no_grad():
        for i in range(0, len(seqs), batch_size):
            enc = tokenizer(seqs[i:i + batch_size], padding="longest", return_tensors="pt")
            logits = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits
            out.append(torch.softmax(logits.float(), -1).numpy())
    return np.concatenate(out)


def run(args: argparse.Namespace) -> int:
    setup_runtime(args)
    import csv
    import io
    import sys

    from .evaluate import load_model_and_tokenizer

    try:
        model, tokenizer = load_model_and_tokenizer(args.model)
        ids, seqs = (read_sequences(args.input) if args.input
                     else ([str(i) for i in range(len(args.sequence))], args.sequence))
        if args.rc_averaging:
            model.config.rc_averaging = True
        probs = predict(model, tokenizer, seqs, args.batch_size)
    except (ValueError, FileNotFoundError, TypeError) as err:
        return fail(str(err))
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
