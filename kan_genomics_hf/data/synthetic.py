"""Built-in synthetic DNA classification data: planted G-quadruplex-like and TF-motif-like signals in a
GC-matched background, deterministic by seed, with a difficulty knob. The offline default dataset.

Negatives carry a *shuffled* copy of a motif (same base composition), so base composition does not
separate the classes and a GC-only classifier stays near MCC 0; only the arrangement of bases (the motif)
carries the label. `difficulty` in [0, 1] raises motif mutation, label noise and decoy similarity.
"""
from __future__ import annotations

import numpy as np

from ..sequence import permute_bases, reverse_complement

BASES = np.array(list("ACGT"))
# TF-like consensus motifs (AP-1, E-box, CTCF-core-like, GATA) planted on either strand
TF_MOTIFS = ("TGACTCAT", "CACGTGAC", "CCGCGNGGNGGCAG", "AGATAAGG")


def _g4_motif(rng: np.random.Generator) -> str:
    """A G-quadruplex-like motif: four runs of 3 G separated by loops of 1-4 random bases."""
    loops = ["".join(rng.choice(BASES, size=int(rng.integers(1, 5)))) for _ in range(3)]
    return "GGG" + loops[0] + "GGG" + loops[1] + "GGG" + loops[2] + "GGG"


def _tf_motif(rng: np.random.Generator) -> str:
    motif = TF_MOTIFS[int(rng.integers(len(TF_MOTIFS)))]
    return "".join(b if b != "N" else rng.choice(BASES) for b in motif)


def _mutate(motif: str, rate: float, rng: np.random.Generator) -> str:
    chars = np.array(list(motif))
    hit = rng.random(len(chars)) < rate
    chars[hit] = rng.choice(BASES, size=int(hit.sum()))
    return "".join(chars)


def _background(length: int, gc: float, rng: np.random.Generator) -> np.ndarray:
    p = np.array([(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2])
    return rng.choice(BASES, size=length, p=p)


def _plant(seq: np.ndarray, motif: str, rng: np.random.Generator) -> None:
    if rng.random() < 0.5:
        motif = reverse_complement(motif)
    start = int(rng.integers(0, len(seq) - len(motif) + 1))
    seq[start:start + len(motif)] = list(motif)


def make_synthetic_sequences(
    n: int, length: int = 200, num_classes: int = 2, difficulty: float = 0.5, seed: int = 0
) -> tuple[list[str], list[int]]:
    """Generate `n` sequences and labels (balanced classes): class 0 = background with shuffled decoys;
    binary: class 1 = a G4-like or TF-like motif; 3 classes: 1 = G4-like, 2 = TF-like."""
    if not 0.0 <= difficulty <= 1.0:
        raise ValueError(f"difficulty must be in [0, 1], got {difficulty}")
    if num_classes not in (2, 3):
        raise ValueError(f"num_classes must be 2 or 3, got {num_classes}")
    if length < 40:
        raise ValueError(f"length must be >= 40 to hold the planted motifs, got {length}")
    rng = np.random.default_rng(seed)
    mutation = 0.25 * difficulty
    label_noise = 0.06 * difficulty
    n_motifs = 2 if difficulty < 0.34 else 1
    seqs, labels = [], []
    for i in range(n):
        label = i % num_classes
        seq = _background(length, float(np.clip(rng.normal(0.45, 0.06), 0.25, 0.7)), rng)
        for _ in range(n_motifs):
            kind = label if num_classes == 3 else (int(rng.integers(1, 3)) if label == 1 else 0)
            if kind == 0:  # decoy with the composition of a real motif, bases shuffled
                source = _g4_motif(rng) if rng.random() < 0.5 else _tf_motif(rng)
                motif = permute_bases(source, rng)
            else:
                motif = _mutate(_g4_motif(rng) if kind == 1 else _tf_motif(rng), mutation, rng)
            _plant(seq, motif, rng)
        if rng.random() < label_noise:
            label = int(rng.integers(num_classes))
        seqs.append("".join(seq))
        labels.append(label)
    order = rng.permutation(n)
    return [seqs[i] for i in order], [labels[i] for i in order]


def load_synthetic(
    n_train: int = 2000,
    n_validation: int = 400,
    n_test: int = 400,
    length: int = 200,
    num_classes: int = 2,
    difficulty: float = 0.5,
    seed: int = 0,
):
    """The synthetic benchmark as a DatasetDict (train/validation/test; columns sequence, label)."""
    import datasets

    names = ["background", "motif"] if num_classes == 2 else ["background", "g4_like", "tf_like"]
    features = datasets.Features({"sequence": datasets.Value("string"), "label": datasets.ClassLabel(names=names)})
    out = {}
    for offset, (split, n) in enumerate((("train", n_train), ("validation", n_validation), ("test", n_test))):
        seqs, labels = make_synthetic_sequences(n, length, num_classes, difficulty, seed * 1000 + offset)
        out[split] = datasets.Dataset.from_dict({"sequence": seqs, "label": labels}, features=features)
    return datasets.DatasetDict(out)
