"""Shared by the genome-scan and variant-effect tests: one small classifier trained (once per test session) on the
built-in synthetic data, and helpers to compare peaks with planted sites."""
from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from kan_genomics_hf import DNATokenizer, LegNetConfig, LegNetForSequenceClassification, save_classifier
from kan_genomics_hf.data.synthetic import make_synthetic_sequences
from kan_genomics_hf.modeling.dna_encoding import encode_padded, one_hot

LENGTH = 100  # training length, hence the default scan window


@functools.cache
def trained_motif_model() -> Path:
    """A baseline LegNet (~3k parameters) trained a few seconds on synthetic G4 / TF-motif data (difficulty 0), with
    reverse-complement augmentation; saved with ``save_classifier`` into a temporary folder removed at exit."""
    seqs, labels = make_synthetic_sequences(2000, length=LENGTH, difficulty=0.0, seed=1)
    x = torch.from_numpy(one_hot(encode_padded(seqs, 4)[0]))
    y = torch.tensor(labels)
    torch.manual_seed(0)
    config = LegNetConfig(variant="baseline", block_sizes=[16, 16, 8], num_labels=2, max_sequence_length=4 * LENGTH,
                          id2label={0: "background", 1: "motif"}, label2id={"background": 0, "motif": 1})
    model = LegNetForSequenceClassification(config)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-2)
    generator = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(5):
        perm = torch.randperm(len(y), generator=generator)
        for s in range(0, len(y), 128):
            i = perm[s: s + 128]
            xb = x[i].clone()
            flip = torch.rand(len(i), generator=generator) < 0.5
            xb[flip] = xb[flip].flip((1, 2))
            loss = model(inputs_embeds=xb, labels=y[i]).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    model.config.training_length = LENGTH
    folder = Path(tempfile.mkdtemp(prefix="kan-genomics-motif-model-"))
    atexit.register(shutil.rmtree, folder, True)
    save_classifier(model, DNATokenizer(), folder / "model")
    return folder / "model"


def read_peaks(path: Path) -> list[tuple[str, int, int, float, int]]:
    """(chrom, start, end, max score, summit) of each peaks.bed line."""
    out = []
    for line in path.read_text().splitlines():
        f = line.split("\t")
        out.append((f[0], int(f[1]), int(f[2]), float(f[6]), int(f[7])))
    return out


def recall_precision(peaks, sites, threshold: float) -> tuple[float, float, int]:
    """Fraction of planted sites overlapped by a peak with max score >= threshold, fraction of those peaks that
    overlap a site, and the number of those peaks."""
    kept = [p for p in peaks if p[3] >= threshold]

    def overlaps(p, s) -> bool:
        return p[0] == s.chrom and p[1] < s.end and s.start < p[2]

    recall = float(np.mean([any(overlaps(p, s) for p in kept) for s in sites]))
    precision = float(np.mean([any(overlaps(p, s) for s in sites) for p in kept])) if kept else 0.0
    return recall, precision, len(kept)
