"""Build flipon-style (non-B DNA) classification datasets from a BED of positive regions + a genome FASTA.

Negatives, per `negatives=`:
- "gc_matched" (default, the honest choice): random genome windows whose GC content is within `gc_tolerance`
  of the paired positive, not overlapping any positive, with few N;
- "shuffled": a dinucleotide-preserving shuffle of each positive (Altschul-Erickson), same composition;
- "uniform": uniform random A/C/G/T strings - what the paper did; a GC-content baseline separates these.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..io.bed import read_bed
from ..io.genome import Genome
from ..sequence import dinucleotide_shuffle, gc_fraction

NEGATIVE_KINDS = ("gc_matched", "shuffled", "uniform")


def build_flipon_dataset(
    bed: str | os.PathLike,
    genome_fasta: str | os.PathLike,
    negatives: str = "gc_matched",
    length: int = 512,
    negatives_per_positive: int = 1,
    gc_tolerance: float = 0.02,
    max_n_fraction: float = 0.01,
    test_fraction: float = 0.1,
    validation_fraction: float = 0.1,
    seed: int = 0,
    max_tries: int = 2000,
):
    """Positives = `length`-bp windows centred on BED regions; negatives as chosen; returns a DatasetDict
    (train/validation/test, stratified seeded split) with columns sequence, label, chrom, start, end, kind.

    A region ending past its chromosome is an error (BED and genome disagree); regions on chromosomes
    shorter than `length` or with too many N are skipped with one warning giving the counts."""
    import datasets

    _check_options(negatives, length, test_fraction, validation_fraction)
    rng = np.random.default_rng(seed)
    genome = Genome(genome_fasta)
    sizes = dict(genome.chromosomes)
    rows: dict[str, list[Any]] = {k: [] for k in _COLUMNS}
    positives, skipped = _add_positives(rows, bed, genome, genome_fasta, sizes, length, max_n_fraction)
    report = "; ".join(f"{n} region(s) {why}" for why, n in skipped.items())
    if not rows["sequence"]:
        raise ValueError(f"no usable positive windows of {length} bp from {bed}: skipped {report}")
    if skipped:
        warnings.warn(f"build_flipon_dataset: skipped {report} of {bed}; {len(rows['sequence'])} positives kept",
                      stacklevel=2)
    sampler = _GenomeSampler(genome, genome_fasta, sizes, positives, length, max_n_fraction, rng)
    for seq in list(rows["sequence"]):
        for _ in range(negatives_per_positive):
            if negatives == "uniform":
                _add_row(rows, "".join(rng.choice(list("ACGT"), size=length)), 0, "", -1, -1, "uniform")
            elif negatives == "shuffled":
                _add_row(rows, dinucleotide_shuffle(seq, rng), 0, "", -1, -1, "shuffled")
            else:
                cand, chrom, a = sampler.gc_matched(gc_fraction(seq), gc_tolerance, max_tries)
                _add_row(rows, cand, 0, chrom, a, a + length, "gc_matched")
    ds = datasets.Dataset.from_dict(rows, features=datasets.Features({
        "sequence": datasets.Value("string"), "label": datasets.ClassLabel(names=["negative", "positive"]),
        "chrom": datasets.Value("string"), "start": datasets.Value("int64"), "end": datasets.Value("int64"),
        "kind": datasets.Value("string")}))
    return _stratified_splits(ds, bed, test_fraction, validation_fraction, seed)


_COLUMNS = ("sequence", "label", "chrom", "start", "end", "kind")


def _check_options(negatives: str, length: int, test_fraction: float, validation_fraction: float) -> None:
    if negatives not in NEGATIVE_KINDS:
        raise ValueError(f"negatives must be one of {NEGATIVE_KINDS}, got {negatives!r}")
    if int(length) != length or length < 1:
        raise ValueError(f"length must be a whole number of bp >= 1, got {length!r}; pass the window size, e.g. length=512")
    if not (0 < test_fraction and 0 < validation_fraction and test_fraction + validation_fraction < 1):
        raise ValueError(f"need 0 < test_fraction, 0 < validation_fraction and their sum < 1, got {test_fraction} "
                         f"and {validation_fraction}")


def _add_row(rows: dict[str, list[Any]], seq, label, chrom, start, end, kind) -> None:
    for k, v in zip(rows, (seq, label, chrom, start, end, kind)):
        rows[k].append(v)


def _add_positives(rows: dict[str, list[Any]], bed, genome, genome_fasta, sizes: dict[str, int], length: int,
                   max_n_fraction: float) -> tuple[dict[str, list[tuple[int, int]]], dict[str, int]]:
    """Append one `length`-bp window centred on each usable BED region to `rows`; returns the positive
    intervals per chromosome and the skipped-region counts per reason."""
    positives: dict[str, list[tuple[int, int]]] = {}
    skipped: dict[str, int] = {}
    for number, (chrom, s, e) in enumerate(read_bed(bed), 1):
        if chrom not in sizes:
            raise ValueError(f"BED chromosome {chrom!r} is not in {genome_fasta} (has {', '.join(list(sizes)[:5])}...)")
        if e > sizes[chrom]:
            raise ValueError(f"{bed}: region {number} ({chrom}:{s}-{e}) ends past the end of {chrom} "
                             f"({sizes[chrom]} bp in {genome_fasta}); fix that line or use the genome the BED was made on")
        if sizes[chrom] < length:
            reason = f"on chromosomes shorter than {length} bp ({chrom})"
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        start = max(0, min((s + e) // 2 - length // 2, sizes[chrom] - length))
        seq = genome.fetch(chrom, start, start + length).upper()
        if seq.count("N") > max_n_fraction * length:
            reason = f"with more than {max_n_fraction:.0%} N"
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        positives.setdefault(chrom, []).append((start, start + length))
        _add_row(rows, seq, 1, chrom, start, start + length, "positive")
    return positives, skipped


class _GenomeSampler:
    """Draws random N-poor genome windows that overlap no positive, chromosomes weighted by length."""

    def __init__(self, genome, genome_fasta, sizes: dict[str, int], positives: dict[str, list[tuple[int, int]]],
                 length: int, max_n_fraction: float, rng: np.random.Generator):
        self.genome, self.genome_fasta, self.sizes, self.positives = genome, genome_fasta, sizes, positives
        self.length, self.max_n_fraction, self.rng = length, max_n_fraction, rng
        self.chroms = [c for c in sizes if sizes[c] >= length]
        weights = np.array([sizes[c] for c in self.chroms], dtype=float)
        weights /= weights.sum()
        self.weights = weights

    def overlaps(self, chrom: str, a: int, b: int) -> bool:
        return any(a < pe and ps < b for ps, pe in self.positives.get(chrom, ()))

    def gc_matched(self, target: float, gc_tolerance: float, max_tries: int) -> tuple[str, str, int]:
        """The window whose GC content is closest to `target` within `max_tries` draws (stopping early at
        one within `gc_tolerance`); returns (sequence, chrom, start)."""
        length, rng = self.length, self.rng
        best = None
        for _ in range(max_tries):
            chrom = self.chroms[int(rng.choice(len(self.chroms), p=self.weights))]
            a = int(rng.integers(0, self.sizes[chrom] - length + 1))
            if self.overlaps(chrom, a, a + length):
                continue
            cand = self.genome.fetch(chrom, a, a + length).upper()
            if cand.count("N") > self.max_n_fraction * length:
                continue
            diff = abs(gc_fraction(cand) - target)
            if best is None or diff < best[0]:
                best = (diff, cand, chrom, a)
            if diff <= gc_tolerance:
                break
        if best is None:
            raise ValueError(f"could not draw any N-free {length}-bp negative window from {self.genome_fasta}")
        return best[1], best[2], best[3]


def _stratified_splits(ds, bed, test_fraction: float, validation_fraction: float, seed: int):
    """Seeded, label-stratified train/validation/test DatasetDict."""
    import datasets

    try:
        first = ds.train_test_split(test_size=test_fraction, seed=seed, stratify_by_column="label")
        second = first["train"].train_test_split(test_size=validation_fraction / (1 - test_fraction), seed=seed + 1,
                                                 stratify_by_column="label")
    except ValueError as err:
        raise ValueError(f"{len(ds)} windows from {bed} are too few for stratified test/validation splits "
                         f"({str(err).splitlines()[0]}); add BED regions or raise the fractions") from None
    return datasets.DatasetDict({"train": second["train"], "validation": second["test"], "test": first["test"]})


def to_flipon_csv(dd, path: str | os.PathLike) -> Path:
    """Write a DatasetDict in the authors' flipon format: one CSV with columns sequence,label,split."""
    import pandas as pd

    frames = []
    for split, ds in dd.items():
        frames.append(pd.DataFrame({"sequence": ds["sequence"], "label": ds["label"], "split": split}))
    path = Path(path)
    pd.concat(frames).to_csv(path, index=False)
    return path
