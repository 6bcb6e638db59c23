"""Opening text files that may be compressed (.gz / .bgz) or start with a UTF-8 byte-order mark."""
from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import IO

COMPRESSED_SUFFIXES = (".gz", ".bgz")


def is_compressed(path: str | os.PathLike) -> bool:
    """True for names ending in .gz or .bgz (bgzip files are valid multi-member gzip files)."""
    return str(path).lower().endswith(COMPRESSED_SUFFIXES)


def base_suffix(path: str | os.PathLike) -> str:
    """The suffix that names the format, below any compression suffix: 'x.fa.gz' -> '.fa'."""
    p = Path(path)
    if is_compressed(p):
        p = p.with_suffix("")
    return p.suffix.lower()


def open_text(path: str | os.PathLike) -> IO[str]:
    """Open for reading as text: gzip-decompressed when compressed, a leading BOM dropped, any line ending."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"file not found: {path}; check the path")
    if is_compressed(path):
        return gzip.open(path, "rt", encoding="utf-8-sig", newline=None)
    return open(path, encoding="utf-8-sig", newline=None)
