"""Issue 13, item 5: build_flipon_dataset never bends bad coordinates."""
from __future__ import annotations

import numpy as np
import pytest

from kan_genomics_hf.data.flipon import build_flipon_dataset


@pytest.fixture
def genome(tmp_path):
    rng = np.random.default_rng(0)
    seq = "".join(rng.choice(list("ACGT"), size=4000))
    path = tmp_path / "genome.fa"
    path.write_text(f">chr1\n{seq}\n>chrM\nACGTACGTACGT\n")
    return path


def bed(tmp_path, lines):
    path = tmp_path / "regions.bed"
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


def test_region_past_chromosome_end_is_an_error(tmp_path, genome):
    with pytest.raises(ValueError, match=r"region 2 \(chr1:5000-5100\) ends past the end of chr1 \(4000 bp in"):
        build_flipon_dataset(bed(tmp_path, ["chr1\t100\t200", "chr1\t5000\t5100"]), genome, length=64)


def test_short_chromosomes_are_reported_with_counts(tmp_path, genome):
    lines = [f"chr1\t{100 * i}\t{100 * i + 50}" for i in range(1, 31)] + ["chrM\t1\t5", "chrM\t2\t6"]
    with pytest.warns(UserWarning, match=r"skipped 2 region\(s\) on chromosomes shorter than 64 bp \(chrM\).*30 positives kept"):
        dd = build_flipon_dataset(bed(tmp_path, lines), genome, length=64, negatives="shuffled")
    assert sum(len(dd[s]) for s in dd) == 60


def test_only_short_chromosome_regions_is_an_error(tmp_path, genome):
    with pytest.raises(ValueError, match=r"no usable positive windows of 64 bp .*skipped 1 region\(s\) on chromosomes shorter"):
        build_flipon_dataset(bed(tmp_path, ["chrM\t1\t5"]), genome, length=64)


@pytest.mark.parametrize("length", [0, -5, 2.5])
def test_bad_length_is_an_error(tmp_path, genome, length):
    with pytest.raises(ValueError, match=rf"length must be a whole number of bp >= 1, got {length}"):
        build_flipon_dataset(bed(tmp_path, ["chr1\t100\t200"]), genome, length=length)


def test_too_few_windows_is_one_error(tmp_path, genome):
    with pytest.raises(ValueError, match=r"2 windows from .* are too few for stratified test/validation splits"):
        build_flipon_dataset(bed(tmp_path, ["chr1\t100\t200"]), genome, length=64, negatives="uniform")
