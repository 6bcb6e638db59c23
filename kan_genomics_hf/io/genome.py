"""Random access to a genome FASTA (plain or bgzipped, through pyfaidx) and genomic region strings.

``Genome(path)`` indexes the file once (``<path>.fai``, plus ``<path>.gzi`` for bgzip) and then reads any
``[start, end)`` slice from disk, so memory does not grow with the genome. Coordinates are 0-based half-open
everywhere in code; region *strings* follow samtools: ``chr1:1001-2000`` is 1-based inclusive (= BED
``chr1 1000 2000``), ``chr1`` is the whole chromosome. Every bad input raises a one-line ``ValueError`` /
``FileNotFoundError`` naming the file, the chromosome or the region and the fix.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .bed import read_bed


@dataclass(frozen=True, order=True)
class Region:
    """A 0-based half-open interval ``[start, end)`` on ``chrom``."""

    chrom: str
    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start

    def __str__(self) -> str:  # samtools style, 1-based inclusive
        return f"{self.chrom}:{self.start + 1}-{self.end}"


def _gzip_kind(path: Path) -> str | None:
    """'bgzf' for a bgzip file, 'gzip' for plain gzip, None when not compressed."""
    with open(path, "rb") as fh:
        head = fh.read(18)
    if head[:2] != b"\x1f\x8b":
        return None
    # BGZF: gzip with FEXTRA set and a 'BC' extra subfield
    return "bgzf" if len(head) >= 14 and head[3] & 4 and head[12:14] == b"BC" else "gzip"


class Genome:
    """A genome FASTA opened for random access: ``chromosomes`` (name -> length, file order) and ``fetch``."""

    def __init__(self, path: str | os.PathLike):
        import pyfaidx

        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"genome FASTA {self.path} does not exist; check --genome")
        if _gzip_kind(self.path) == "gzip":
            raise ValueError(f"genome FASTA {self.path} is gzip- but not bgzip-compressed, so it cannot be read at "
                             f"random positions; recompress it: zcat {self.path.name} | bgzip > "
                             f"{self.path.name.removesuffix('.gz')}.bgz (or decompress it)")
        try:
            self._fasta = pyfaidx.Fasta(str(self.path), as_raw=True, sequence_always_upper=False,
                                        read_long_names=False, rebuild=True)
        except (pyfaidx.FastaIndexingError, pyfaidx.UnsupportedCompressionFormat, ValueError, OSError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ValueError(f"genome FASTA {self.path} could not be indexed ({first}); it must be a FASTA file "
                             "with equal-length lines inside each record (samtools faidx accepts it)") from None
        self.chromosomes: dict[str, int] = {name: len(rec) for name, rec in self._fasta.records.items()}
        if not self.chromosomes:
            raise ValueError(f"genome FASTA {self.path} holds no records")

    def __enter__(self) -> Genome:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._fasta.close()

    def length(self, chrom: str) -> int:
        """Length of ``chrom``; an unknown name raises a ValueError listing some known ones."""
        if chrom not in self.chromosomes:
            names = list(self.chromosomes)
            shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
            raise ValueError(f"chromosome {chrom!r} is not in genome {self.path.name} (it has {shown}); "
                             "use the FASTA's record names (e.g. 'chr1' vs '1')")
        return self.chromosomes[chrom]

    def check(self, region: Region, what: str = "region") -> Region:
        """``region`` if it lies on a known chromosome inside its length, else a one-line ValueError."""
        length = self.length(region.chrom)
        if region.end > length:
            raise ValueError(f"{what} {region} ends past the end of {region.chrom} ({length:,} bp in "
                             f"{self.path.name}); clip it to {region.chrom}:{region.start + 1}-{length}")
        return region

    def fetch(self, chrom: str, start: int, end: int) -> str:
        """Bases ``[start, end)`` of ``chrom`` as stored (case kept); the range must lie inside the chromosome."""
        length = self.length(chrom)
        if not 0 <= start <= end <= length:
            raise ValueError(f"{chrom}:{start + 1}-{end} is outside {chrom} (1-{length}) in {self.path.name}")
        return str(self._fasta[chrom][start:end])


_REGION = re.compile(r"^(?P<chrom>[^\s:]+)(?::(?P<start>[\d,]+)-(?P<end>[\d,]+))?$")


def parse_region(text: str) -> Region:
    """``chr:start-end`` (1-based inclusive, commas allowed) -> Region; ``chr`` alone -> end -1 (whole chromosome)."""
    m = _REGION.match(text.strip())
    if m is None:
        raise ValueError(f"region {text!r} is not chrom:start-end (1-based inclusive, e.g. chr1:1001-2000) nor a "
                         "chromosome name nor an existing BED file")
    if m.group("start") is None:
        return Region(m.group("chrom"), 0, -1)
    start, end = int(m.group("start").replace(",", "")), int(m.group("end").replace(",", ""))
    if start < 1 or end < start:
        raise ValueError(f"region {text!r}: start must be >= 1 and end >= start (1-based inclusive coordinates)")
    return Region(m.group("chrom"), start - 1, end)


def resolve_regions(items: list[str] | None, genome: Genome) -> list[Region]:
    """The regions to scan: each item a BED file or a region string (no items: every chromosome), checked
    against the genome, sorted by (chromosome name, start) and with overlapping / touching regions merged."""
    regions: list[Region] = []
    if not items:
        regions = [Region(c, 0, n) for c, n in genome.chromosomes.items()]
    for item in items or []:
        if os.path.isfile(item):
            for chrom, start, end in read_bed(item):
                regions.append(genome.check(Region(chrom, start, end), f"BED region in {item}"))
            continue
        region = parse_region(item)
        if region.end == -1:
            region = Region(region.chrom, 0, genome.length(region.chrom))
        regions.append(genome.check(region))
    merged: list[Region] = []
    for r in sorted(regions):
        if merged and merged[-1].chrom == r.chrom and r.start <= merged[-1].end:
            merged[-1] = Region(r.chrom, merged[-1].start, max(merged[-1].end, r.end))
        else:
            merged.append(r)
    return merged
