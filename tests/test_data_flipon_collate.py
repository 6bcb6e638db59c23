"""Flipon builder (GC-matched / shuffled / uniform negatives) and the batch collator."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from kan_genomics_hf.data.collate import DNACollator, center_crop_or_pad, shift_sequence
from kan_genomics_hf.data.flipon import build_flipon_dataset, to_flipon_csv
from kan_genomics_hf.io import read_bed
from kan_genomics_hf.sequence import dinucleotide_shuffle


@pytest.fixture()
def genome(tmp_path):
    rng = np.random.default_rng(0)
    fa = tmp_path / "genome.fa"
    chroms = {}
    with open(fa, "w") as fh:
        for name in ("chr1", "chr2"):
            # GC varies along the chromosome so GC matching has something to do
            parts = [rng.choice(list("ACGT"), 500, p=[(1 - g) / 2, g / 2, g / 2, (1 - g) / 2])
                     for g in (0.3, 0.5, 0.7) * 4]
            seq = "".join("".join(p) for p in parts)
            chroms[name] = seq
            fh.write(f">{name}\n" + "\n".join(seq[i:i + 60] for i in range(0, len(seq), 60)) + "\n")
    bed = tmp_path / "pos.bed"
    bed.write_text("track name=x\n" + "".join(f"chr1\t{s}\t{s + 40}\n" for s in range(100, 5000, 400)))
    return fa, bed


def test_gc_matched_negatives(genome):
    fa, bed = genome
    dd = build_flipon_dataset(bed, fa, negatives="gc_matched", length=100, seed=1)
    rows = [r for split in dd.values() for r in split]
    pos = [r for r in rows if r["label"] == 1]
    neg = [r for r in rows if r["label"] == 0]
    assert len(pos) == len(neg) == len(read_bed(bed))
    gc = lambda s: (s.count("G") + s.count("C")) / len(s)  # noqa: E731
    assert abs(np.mean([gc(r["sequence"]) for r in pos]) - np.mean([gc(r["sequence"]) for r in neg])) < 0.02
    assert all(len(r["sequence"]) == 100 for r in rows)


def test_shuffled_and_uniform_negatives(genome, tmp_path):
    fa, bed = genome
    dd = build_flipon_dataset(bed, fa, negatives="shuffled", length=64, seed=2)
    assert {r["kind"] for s in dd.values() for r in s} == {"positive", "shuffled"}
    dd = build_flipon_dataset(bed, fa, negatives="uniform", length=64)
    out = to_flipon_csv(dd, tmp_path / "flipons.csv")
    from kan_genomics_hf.data.loading import load_genomic_dataset

    assert sum(len(s) for s in load_genomic_dataset(out).values()) == 2 * len(read_bed(bed))
    with pytest.raises(ValueError, match="negatives"):
        build_flipon_dataset(bed, fa, negatives="random")


def test_dinucleotide_shuffle_preserves_counts():
    rng = np.random.default_rng(0)
    for _ in range(50):
        s = "".join(rng.choice(list("ACGT"), int(rng.integers(3, 80))))
        r = dinucleotide_shuffle(s, rng)
        assert Counter(zip(s, s[1:])) == Counter(zip(r, r[1:]))


def test_bed_errors(tmp_path):
    bad = tmp_path / "bad.bed"
    bad.write_text("chr1\t10\n")
    with pytest.raises(ValueError, match="bad.bed:1"):
        read_bed(bad)


def test_crop_pad_shift():
    assert center_crop_or_pad("ACGTAC", 4) == "CGTA"
    assert center_crop_or_pad("AC", 5) == "NACNN"
    assert shift_sequence("ACGT", 1) == "NACG" and shift_sequence("ACGT", -2) == "GTNN"


def test_collator_modes_and_deterministic_augmentation():
    from kan_genomics_hf import DNATokenizer

    tok = DNATokenizer()
    rows = [{"sequence": "ACGTAC", "label": 1, "idx": 0}, {"sequence": "ACG", "label": 0, "idx": 1}]
    b = DNACollator(tok)(rows)
    assert b["input_ids"].shape == (2, 6) and b["attention_mask"][1].tolist() == [1, 1, 1, 0, 0, 0]
    assert b["labels"].tolist() == [1, 0]
    fixed = DNACollator(tok, length_mode="fixed", fixed_length=4)(rows)
    assert fixed["input_ids"].shape == (2, 4) and fixed["attention_mask"].all()
    aug = DNACollator(tok, rc_prob=0.5, max_shift=2, seed=3)
    first = aug(rows)["input_ids"]
    assert (aug(rows)["input_ids"] == first).all()  # same (seed, epoch, row) -> same augmentation
    seen = set()
    for epoch in range(8):
        aug.set_epoch(epoch)
        seen.add(tuple(aug(rows)["input_ids"][0].tolist()))
    assert len(seen) > 1
    with pytest.raises(ValueError, match="fixed_length"):
        DNACollator(tok, length_mode="fixed")
