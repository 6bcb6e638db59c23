"""Synthetic genomes for tests and benchmarks: GC-matched random chromosomes with planted motif sites (on
either strand) and runs of N, written as FASTA (optionally a bgzipped copy) without holding a whole genome
as text (one chromosome of codes at a time)."""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..sequence import reverse_complement

# a G-quadruplex-like motif and TF-like consensus motifs, the kinds the built-in synthetic data plants
DEFAULT_MOTIFS = ("GGGTAGGGCAGGGATGGG", "TGACTCATCACGTGAC")
_BASES = np.frombuffer(b"ACGTN", dtype=np.uint8)
LINE_WIDTH = 60


@dataclass(frozen=True)
class PlantedSite:
    """A motif written at ``[start, end)`` of ``chrom`` (0-based); strand '-' means its reverse complement."""

    chrom: str
    start: int
    end: int
    motif: str
    strand: str


def _chromosome(length: int, n_sites: int, n_runs: int, run_length: int, motifs: Sequence[str], gc: float,
                rng: np.random.Generator, chrom: str, first_site: int) -> tuple[np.ndarray, list[PlantedSite]]:
    p = [(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2]
    codes = rng.choice(4, size=length, p=p).astype(np.uint8)
    slots = n_sites + n_runs
    kinds = rng.permutation(["site"] * n_sites + ["run"] * n_runs)
    sites = []
    width = length / max(1, slots)
    for i, kind in enumerate(kinds):
        centre = int((i + 0.5) * width + rng.uniform(-0.2, 0.2) * width)
        if kind == "run":
            a = max(0, centre - run_length // 2)
            codes[a: a + run_length] = 4
            continue
        k = first_site + len(sites)
        motif, strand = motifs[k % len(motifs)], "+-"[(k // len(motifs)) % 2]  # each motif on both strands
        text = motif if strand == "+" else reverse_complement(motif)
        a = max(0, min(length - len(text), centre - len(text) // 2))
        codes[a: a + len(text)] = _codes(text)
        sites.append(PlantedSite(chrom, a, a + len(text), motif, strand))
    return codes, sites


def _codes(text: str) -> np.ndarray:
    lut = np.full(256, 4, np.uint8)
    for i, b in enumerate(b"ACGT"):
        lut[b] = i
    return lut[np.frombuffer(text.encode(), np.uint8)]


def _write_record(fh, name: str, codes: np.ndarray) -> None:
    fh.write(f">{name}\n".encode())
    text = _BASES[codes]
    for s in range(0, len(text), LINE_WIDTH * 100_000):
        block = text[s: s + LINE_WIDTH * 100_000]
        full = len(block) // LINE_WIDTH * LINE_WIDTH
        if full:
            lines = np.concatenate([block[:full].reshape(-1, LINE_WIDTH),
                                    np.full((full // LINE_WIDTH, 1), ord("\n"), np.uint8)], axis=1)
            fh.write(lines.tobytes())
        if len(block) > full:
            fh.write(block[full:].tobytes() + b"\n")


def write_synthetic_genome(path: str | os.PathLike, lengths: dict[str, int], sites_per_chrom: int | dict[str, int] = 0,
                           n_runs_per_chrom: int = 0, n_run_length: int = 500, motifs: Sequence[str] = DEFAULT_MOTIFS,
                           gc: float = 0.45, seed: int = 0, bgzip_copy: str | os.PathLike | None = None
                           ) -> list[PlantedSite]:
    """Write a FASTA of random chromosomes (``lengths``: name -> bp, in file order), each with
    ``sites_per_chrom`` planted motifs (an int, or name -> count; cycling through ``motifs``, each on both strands in
    turn) and ``n_runs_per_chrom``
    runs of N, spread along it; ``bgzip_copy`` also writes a BGZF-compressed copy. Returns the planted sites."""
    rng = np.random.default_rng(seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sites: list[PlantedSite] = []
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    bgz = None
    if bgzip_copy is not None:
        from Bio import bgzf

        bgz_tmp = Path(bgzip_copy).with_name(f".{Path(bgzip_copy).name}.tmp-{os.getpid()}")
        bgz = bgzf.BgzfWriter(str(bgz_tmp), "wb")
    with open(tmp, "wb") as fh:
        for name, length in lengths.items():
            n_sites = sites_per_chrom.get(name, 0) if isinstance(sites_per_chrom, dict) else sites_per_chrom
            codes, planted = _chromosome(length, n_sites, n_runs_per_chrom, n_run_length, motifs, gc, rng,
                                         name, len(sites))
            sites += planted
            _write_record(fh, name, codes)
            if bgz is not None:
                _write_record(bgz, name, codes)
    os.replace(tmp, path)
    if bgz is not None:
        bgz.close()
        os.replace(bgz_tmp, bgzip_copy)
    return sites
