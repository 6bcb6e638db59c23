"""Sequences from any sequence file: FASTA, a CSV/TSV table column, or plain text (one per line)."""
from __future__ import annotations

import os
from pathlib import Path

from .fasta import FastaRecord, is_fasta_path, read_fasta
from .files import base_suffix, open_text
from .tables import read_dataframe

SEQUENCE_TABLE_SUFFIXES = (".csv", ".tsv")


def _starts_with_header(path: Path) -> bool:
    with open_text(path) as fh:
        return next((line for line in fh if line.strip()), "").startswith(">")


def _table_records(path: Path, column: str, filter_column: str | None, filter_value: str | None):
    df = read_dataframe(path)
    for col in (column, filter_column):
        if col is not None and col not in df.columns:
            raise ValueError(f"{path}: no column {col!r}; columns are {list(df.columns)}")
    if filter_column is not None:
        df = df[df[filter_column].astype(str) == str(filter_value)]
        if df.empty:
            raise ValueError(f"{path}: no rows with {filter_column} == {filter_value!r}")
    ids = df["id"].astype(str).tolist() if "id" in df.columns else [str(i) for i in range(len(df))]
    return [FastaRecord(i, i, s) for i, s in zip(ids, df[column].astype(str).tolist())]


def read_sequence_records(path: str | os.PathLike, column: str = "sequence",
                          filter_column: str | None = None, filter_value: str | None = None,
                          limit: int | None = None) -> list[FastaRecord]:
    """Records of a FASTA file (by suffix or a leading '>'), a CSV/TSV (the `column`, ids from an 'id' column
    or row numbers, optionally only rows where `filter_column` == `filter_value`) or a text file (one per line)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"sequence file not found: {path}; check the path")
    if base_suffix(path) in SEQUENCE_TABLE_SUFFIXES:
        records = _table_records(path, column, filter_column, filter_value)
    elif is_fasta_path(path) or _starts_with_header(path):
        records = read_fasta(path)
    else:
        with open_text(path) as fh:
            seqs = [line.strip() for line in fh if line.strip()]
        records = [FastaRecord(str(i), str(i), s) for i, s in enumerate(seqs)]
    if not records:
        raise ValueError(f"{path}: no sequences")
    return records[:limit] if limit else records


def read_sequences(path: str | os.PathLike, column: str = "sequence", filter_column: str | None = None,
                   filter_value: str | None = None, limit: int | None = None) -> list[str]:
    """Just the sequences of ``read_sequence_records``."""
    return [r.sequence for r in read_sequence_records(path, column, filter_column, filter_value, limit)]
