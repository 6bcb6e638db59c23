"""sequence/: GC content, reverse complement and composition-preserving shuffles (exact counts)."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from kan_genomics_hf.sequence import (
    dinucleotide_shuffle,
    gc_content,
    gc_fraction,
    reverse_complement,
    shuffle_nucleotides,
)


def _dinucleotides(s: str) -> Counter:
    return Counter(a + b for a, b in zip(s, s[1:]))


@pytest.mark.parametrize("seed", range(20))
def test_dinucleotide_shuffle_preserves_counts_exactly(seed):
    rng = np.random.default_rng(seed)
    seq = "".join(rng.choice(list("ACGTN" if seed % 4 == 0 else "ACGT"), int(rng.integers(3, 400))))
    out = dinucleotide_shuffle(seq, np.random.default_rng(seed + 100))
    assert len(out) == len(seq) and out[0] == seq[0] and out[-1] == seq[-1]
    assert _dinucleotides(out) == _dinucleotides(seq)


def test_dinucleotide_shuffle_is_seeded_and_actually_shuffles():
    seq = "".join(np.random.default_rng(1).choice(list("ACGT"), 200))
    a = dinucleotide_shuffle(seq, np.random.default_rng(5))
    assert a == dinucleotide_shuffle(seq, np.random.default_rng(5)) and a != seq
    assert len({dinucleotide_shuffle("ACGTTGCAACGT", np.random.default_rng(s)) for s in range(30)}) > 3
    assert dinucleotide_shuffle("AC") == "AC"


def test_nucleotide_shuffle_and_composition():
    seqs = ["AACCGGTTN", "GGGGCC"]
    out = shuffle_nucleotides(seqs, seed=3)
    assert [sorted(s) for s in out] == [sorted(s) for s in seqs] and out == shuffle_nucleotides(seqs, seed=3)
    np.testing.assert_allclose(gc_content(["GGCC", "AATT", "GCNN", "NNNN"]), [1.0, 0.0, 1.0, 0.0])
    assert gc_fraction("gcAT") == 0.5
    assert reverse_complement("AACGTN") == "NACGTT"
