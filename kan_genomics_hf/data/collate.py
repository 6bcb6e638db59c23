"""Batching for DNA classifiers: the tokenizer turns strings into ids (the model one-hot encodes them);
variable lengths by mask-aware padding, centred crop/pad to a fixed length, or to the batch median
(the authors' recipe); reverse-complement and shift augmentation, deterministic per (seed, epoch, row)
so that resumed and multi-process runs see exactly the same batches."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..modeling.dna_encoding import reverse_complement

LENGTH_MODES = ("pad", "fixed", "median")


def center_crop_or_pad(seq: str, length: int, pad_char: str = "N") -> str:
    """Centre-crop a longer sequence or centre-pad a shorter one with `pad_char` (N = all-zero one-hot)."""
    n = len(seq)
    if n == length:
        return seq
    if n > length:
        start = (n - length) // 2
        return seq[start:start + length]
    left = (length - n) // 2
    return pad_char * left + seq + pad_char * (length - n - left)


def shift_sequence(seq: str, shift: int, pad_char: str = "N") -> str:
    """Shift by `shift` positions keeping the length (positive = content moves right), filling with N."""
    if shift == 0 or abs(shift) >= len(seq):
        return seq if shift == 0 else pad_char * len(seq)
    if shift > 0:
        return pad_char * shift + seq[:-shift]
    return seq[-shift:] + pad_char * (-shift)


class DNACollator:
    """Collate rows {sequence, label[, idx]} into input_ids / attention_mask / labels tensors.

    length_mode: "pad" (pad to the longest in the batch, masked), "fixed" (centred crop/pad to
    `fixed_length`), "median" (centred crop/pad to the batch median length). Augmentation (training only):
    reverse complement with probability `rc_prob`, random shift in [-max_shift, max_shift]."""

    def __init__(self, tokenizer: Any, length_mode: str = "pad", fixed_length: int | None = None,
                 max_length: int | None = None, rc_prob: float = 0.0, max_shift: int = 0, seed: int = 0) -> None:
        if length_mode not in LENGTH_MODES:
            raise ValueError(f"length_mode must be one of {LENGTH_MODES}, got {length_mode!r}")
        if length_mode == "fixed" and not fixed_length:
            raise ValueError("length_mode='fixed' needs fixed_length")
        if not 0.0 <= rc_prob <= 1.0:
            raise ValueError(f"rc_prob must be in [0, 1], got {rc_prob}")
        if max_shift < 0:
            raise ValueError(f"max_shift must be >= 0, got {max_shift}")
        self.tokenizer = tokenizer
        self.length_mode = length_mode
        self.fixed_length = fixed_length
        self.max_length = max_length
        self.rc_prob = rc_prob
        self.max_shift = max_shift
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Augmentation draws depend on the epoch (so each epoch sees new augmentations, reproducibly)."""
        self.epoch = int(epoch)

    @property
    def augments(self) -> bool:
        return self.rc_prob > 0 or self.max_shift > 0

    def _augment(self, seq: str, idx: int) -> str:
        rng = np.random.default_rng([self.seed, self.epoch, int(idx)])
        if self.max_shift:
            seq = shift_sequence(seq, int(rng.integers(-self.max_shift, self.max_shift + 1)))
        if self.rc_prob and rng.random() < self.rc_prob:
            seq = reverse_complement(seq)
        return seq

    def prepare_sequences(self, seqs: Sequence[str], idxs: Sequence[int] | None = None) -> list[str]:
        """Apply augmentation (if idxs given) and the length policy to raw strings."""
        seqs = list(seqs)
        if idxs is not None and self.augments:
            seqs = [self._augment(s, i) for s, i in zip(seqs, idxs)]
        if self.length_mode == "fixed":
            seqs = [center_crop_or_pad(s, self.fixed_length) for s in seqs]
        elif self.length_mode == "median":
            target = int(np.median([len(s) for s in seqs]))
            seqs = [center_crop_or_pad(s, target) for s in seqs]
        return seqs

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        idxs = [r["idx"] for r in rows] if self.augments and all("idx" in r for r in rows) else None
        seqs = self.prepare_sequences([r["sequence"] for r in rows], idxs)
        max_len = self.max_length
        enc = self.tokenizer(seqs, padding="longest", truncation=max_len is not None, max_length=max_len,
                             return_tensors="pt")
        batch = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
        if "label" in rows[0]:
            batch["labels"] = torch.tensor([int(r["label"]) for r in rows], dtype=torch.long)
        return batch
