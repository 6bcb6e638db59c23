"""The package's one FASTA reader and writer (Biopython's parser underneath).

Reads plain or compressed files (``FASTA_SUFFIXES``: .fa/.fasta/.fna/.fas, each also with .gz/.bgz),
Windows line endings and a UTF-8 byte-order mark. Data before the first header, an empty record or a
file without records raise a one-line ``ValueError`` naming the file and the record. ``write_fasta``
writes atomically (temp file + rename), gzip-compressed for .gz and BGZF for .bgz.
"""
from __future__ import annotations

import gzip
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .files import base_suffix, open_text

FASTA_BASE_SUFFIXES = (".fa", ".fasta", ".fna", ".fas")
FASTA_SUFFIXES = tuple(s + c for s in FASTA_BASE_SUFFIXES for c in ("", ".gz", ".bgz"))


@dataclass(frozen=True)
class FastaRecord:
    """One FASTA record: ``id`` (first word of the header), ``description`` (whole header) and ``sequence``."""

    id: str
    description: str
    sequence: str


def is_fasta_path(path: str | os.PathLike) -> bool:
    """True when the file name ends in one of ``FASTA_SUFFIXES`` (case-insensitive)."""
    return str(path).lower().endswith(FASTA_SUFFIXES)


def _checked_lines(handle: Iterable[str], path: Path) -> Iterator[str]:
    """Yield the lines; raise if anything but blank lines comes before the first '>' header."""
    started = False
    for lineno, line in enumerate(handle, 1):
        if not started and line.strip():
            if not line.startswith(">"):
                raise ValueError(f"{path}:{lineno}: sequence data before the first '>' header; "
                                 "start the file with a '>name' line")
            started = True
        yield line


def iter_fasta(path: str | os.PathLike, allow_empty: bool = False) -> Iterator[FastaRecord]:
    """Records of a FASTA file one at a time (see the module docstring for what is accepted)."""
    from Bio.SeqIO.FastaIO import SimpleFastaParser

    path = Path(path)
    with open_text(path) as handle:
        for number, (title, seq) in enumerate(SimpleFastaParser(_checked_lines(handle, path)), 1):
            words = title.split()
            rid = words[0] if words else f"seq{number - 1}"
            if not seq and not allow_empty:
                raise ValueError(f"{path}: record {number} ({rid!r}) has no sequence; remove it or add its bases")
            yield FastaRecord(rid, title.strip(), seq)


def read_fasta(path: str | os.PathLike, allow_empty: bool = False) -> list[FastaRecord]:
    """All records of a FASTA file; a file without records raises a ValueError naming it."""
    records = list(iter_fasta(path, allow_empty=allow_empty))
    if not records:
        raise ValueError(f"{path}: no FASTA records; a record starts with a '>name' header line")
    return records


def _open_for_write(path: Path):
    if str(path).lower().endswith(".bgz"):
        from Bio import bgzf

        return bgzf.BgzfWriter(str(path), "wb")
    if str(path).lower().endswith(".gz"):
        return gzip.open(path, "wb")
    return open(path, "wb")


def write_fasta(path: str | os.PathLike, sequences: Sequence[str | FastaRecord],
                names: Sequence[str] | None = None, width: int = 0) -> Path:
    """Write sequences (or ``FastaRecord``s) as FASTA atomically; headers are ``names``, the records'
    descriptions, or seq<i>; ``width`` > 0 wraps sequence lines. Returns the path."""
    if names is not None and len(names) != len(sequences):
        raise ValueError(f"{len(names)} names for {len(sequences)} sequences; pass one name per sequence")
    if width < 0:
        raise ValueError(f"width must be >= 0 (0 = one line per sequence), got {width}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}{path.suffix}")
    try:
        with _open_for_write(tmp) as fh:
            for i, item in enumerate(sequences):
                seq = item.sequence if isinstance(item, FastaRecord) else item
                header = names[i] if names is not None else (
                    item.description if isinstance(item, FastaRecord) else f"seq{i}")
                lines = [seq[j:j + width] for j in range(0, len(seq), width)] if width > 0 else [seq]
                fh.write(("\n".join([f">{header}", *lines]) + "\n").encode())
            if hasattr(fh, "flush"):
                fh.flush()
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


__all__ = ["FASTA_SUFFIXES", "FastaRecord", "base_suffix", "is_fasta_path", "iter_fasta", "read_fasta", "write_fasta"]
