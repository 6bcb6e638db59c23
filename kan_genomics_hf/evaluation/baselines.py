"""The two classical baselines reported beside every deep model: GC content alone, and a k-mer count
logistic regression (k chosen among 4-6 on the validation split). Flipon-style data is often separable
by GC alone, and on several GUE tasks a k-mer model is within a few MCC points of deep models."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..sequence import gc_content
from .metrics import classification_metrics

BASELINE_NAMES = ("gc_content", "kmer_lr")


def _gc_features(seqs: Sequence[str]) -> np.ndarray:
    g = gc_content(seqs)
    return np.stack([g, g ** 2], axis=1)


def _kmer_vectorizer(k: int):
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(analyzer="char", ngram_range=(k, k), lowercase=True, dtype=np.float32)


def _kmer_matrix(vec, seqs: Sequence[str], fit: bool = False):
    from sklearn.preprocessing import normalize

    x = vec.fit_transform(seqs) if fit else vec.transform(seqs)
    return normalize(x, norm="l1") * 100.0  # k-mer frequencies (length-independent), scaled for the solver


def _fit_lr(x, y, seed: int, c: float = 1.0):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=2000, random_state=seed).fit(x, y)


def gc_baseline(train, test, seed: int = 0) -> dict[str, Any]:
    """Logistic regression on GC fraction (and its square); returns test metrics and scores."""
    model = _fit_lr(_gc_features(train["sequence"]), np.asarray(train["label"]), seed)
    probs = model.predict_proba(_gc_features(test["sequence"]))
    return {"metrics": classification_metrics(test["label"], _full(probs, model.classes_)), "scores": probs,
            "params": int(model.coef_.size + model.intercept_.size)}


def _full(probs: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Scatter predict_proba columns into a dense (n, max_class+1) matrix (classes absent in train -> 0)."""
    out = np.zeros((len(probs), int(classes.max()) + 1))
    out[:, classes] = probs
    return out


def kmer_baseline(train, validation, test, ks: Sequence[int] = (4, 5, 6), seed: int = 0) -> dict[str, Any]:
    """k-mer frequency logistic regression; k picked by validation MCC; returns test metrics and scores."""
    y = np.asarray(train["label"])
    best = None
    for k in ks:
        vec = _kmer_vectorizer(k)
        x = _kmer_matrix(vec, train["sequence"], fit=True)
        model = _fit_lr(x, y, seed)
        val = classification_metrics(validation["label"],
                                     _full(model.predict_proba(_kmer_matrix(vec, validation["sequence"])), model.classes_))
        if best is None or val["mcc"] > best[0]:
            best = (val["mcc"], k, vec, model)
    _, k, vec, model = best
    probs = _full(model.predict_proba(_kmer_matrix(vec, test["sequence"])), model.classes_)
    return {"metrics": classification_metrics(test["label"], probs), "scores": probs, "k": k,
            "params": int(model.coef_.size + model.intercept_.size)}


def run_baselines(dd, seed: int = 0, ks: Sequence[int] = (4, 5, 6), max_train: int | None = None) -> dict[str, dict[str, Any]]:
    """Both baselines on a DatasetDict (fit on train, k chosen on validation, scored on test); each entry
    also records `train_rows` / `test_rows`, the rows it was fit and scored on."""
    train = dd["train"]
    if max_train is not None and len(train) > max_train:
        train = train.shuffle(seed=seed).select(range(max_train))
    gc = gc_baseline(train, dd["test"], seed)
    km = kmer_baseline(train, dd["validation"], dd["test"], ks=ks, seed=seed)
    rows = {"train_rows": len(train), "test_rows": len(dd["test"])}  # what each baseline was fit / scored on
    return {"gc_content": {"metrics": gc["metrics"], "params": gc["params"], **rows},
            "kmer_lr": {"metrics": km["metrics"], "params": km["params"], "k": km["k"], **rows}}
