"""Evaluation protocols giving mean ± std: multi-seed (same splits, different seeds — GUE's select-on-dev,
test-once protocol repeated) or stratified k-fold (train+validation re-split into k folds, test fixed)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

PROTOCOLS = ("seeds", "kfold")


def protocol_runs(dd, protocol: str = "seeds", n: int = 3, seed: int = 0) -> Iterator[tuple[str, int, Any]]:
    """Yield (run_id, seed, DatasetDict) for each of the `n` runs of the protocol."""
    import datasets

    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    if n < 1:
        raise ValueError(f"need at least one run, got {n}")
    if protocol == "seeds":
        for i in range(n):
            yield f"seed{seed + i}", seed + i, dd
        return
    if n < 2:
        raise ValueError("k-fold needs k >= 2")
    from sklearn.model_selection import StratifiedKFold

    pool = datasets.concatenate_datasets([dd["train"], dd["validation"]])
    labels = np.asarray(pool["label"])
    folds = StratifiedKFold(n_splits=n, shuffle=True, random_state=seed)
    for i, (tr, va) in enumerate(folds.split(np.zeros(len(labels)), labels)):
        yield f"fold{i}", seed + i, datasets.DatasetDict(
            {"train": pool.select(tr.tolist()), "validation": pool.select(va.tolist()), "test": dd["test"]})


def subsample(dd, max_train: int | None = None, max_eval: int | None = None, seed: int = 0):
    """Stratified-by-shuffle caps on the train and on the validation/test sizes (for CPU-sized runs)."""
    import datasets

    out = {}
    for split, ds in dd.items():
        cap = max_train if split == "train" else max_eval
        if cap is not None and len(ds) > cap:
            ds = ds.shuffle(seed=seed).select(range(cap))
        out[split] = ds
    return datasets.DatasetDict(out)
