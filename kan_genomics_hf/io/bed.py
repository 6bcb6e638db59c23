"""The BED reader: (chrom, start, end) intervals, 0-based half-open, plain or compressed."""
from __future__ import annotations

import os

from .files import open_text

BED_SUFFIXES = (".bed", ".bed.gz", ".bed.bgz")


def _parse_bed_line(line: str, where: str) -> tuple[str, int, int]:
    parts = line.split("\t") if "\t" in line else line.split()
    if len(parts) < 3:
        raise ValueError(f"{where}: a BED line needs chrom, start, end; got {line!r}")
    try:
        start, end = int(parts[1]), int(parts[2])
    except ValueError:
        raise ValueError(f"{where}: start/end are not integers: {line!r}") from None
    if end <= start or start < 0:
        raise ValueError(f"{where}: empty or negative interval {start}-{end}; BED needs 0 <= start < end")
    return parts[0], start, end


def read_bed(path: str | os.PathLike) -> list[tuple[str, int, int]]:
    """(chrom, start, end) of each BED line; blank, '#', 'track' and 'browser' lines skipped."""
    regions = []
    with open_text(path) as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith(("#", "track", "browser")):
                continue
            regions.append(_parse_bed_line(line, f"{path}:{lineno}"))
    if not regions:
        raise ValueError(f"{path}: no BED regions; each line needs chrom, start, end")
    return regions
