"""Sequence tables as arrays for diffusion training: one-hot in [-1, 1], class labels and groups."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..io.tables import read_dataframe
from ..modeling.dna_encoding import encode_batch, one_hot


def _check_one_length(seqs: list[str], path: Path) -> None:
    lengths = np.array([len(s) for s in seqs])
    if len(set(lengths.tolist())) != 1:
        bad = int(np.flatnonzero(lengths != lengths[0])[0])
        raise ValueError(f"{path}: all sequences must have one length for diffusion training; sequence 0 has "
                         f"{lengths[0]} bp but sequence {bad} has {lengths[bad]} bp")


def load_dna_table(path: str, sequence_column: str = "sequence", class_column: str | None = None,
                   max_samples: int | None = None, seed: int = 0, group_column: str | None = None):
    """Read a CSV/TSV/parquet of sequences (+ class column) -> (x in [-1,1] (N,4,L), labels (N,), class names,
    groups (N,) from `group_column`, e.g. chromosomes, or None)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"training data not found: {p}")
    df = read_dataframe(p)
    for col in (sequence_column, class_column, group_column):
        if col is not None and col not in df.columns:
            raise ValueError(f"{p}: no column {col!r}; columns are {list(df.columns)}")
    if max_samples is not None and len(df) > max_samples:
        df = df.sample(n=max_samples, random_state=seed).reset_index(drop=True)
    seqs = df[sequence_column].astype(str).tolist()
    _check_one_length(seqs, p)
    codes = np.stack(encode_batch(seqs))
    x = (one_hot(codes) * 2.0 - 1.0).astype(np.float32)
    groups = df[group_column].astype(str).to_numpy() if group_column is not None else None
    if class_column is None:
        return x, np.zeros(len(seqs), np.int64), None, groups
    names = sorted(df[class_column].astype(str).unique().tolist())
    labels = df[class_column].astype(str).map({n: i for i, n in enumerate(names)}).to_numpy(np.int64)
    return x, labels, names, groups
