"""Classification metrics for DNA models: MCC (primary), accuracy, ROC-AUC on scores, precision, recall,
F1 (macro for multi-class) — as a plain function, as an offline `evaluate` module, and mean ± std.

Usage::

    from kan_genomics_hf.evaluation.metrics import classification_metrics, DNAClassificationMetrics
    classification_metrics(labels, probs)                    # probs: (n,) positive-class or (n, C)
    metric = DNAClassificationMetrics()                      # evaluate.Metric, no network needed
    metric.add_batch(predictions=probs_2d, references=labels); metric.compute()
    evaluate.combine([metric])                               # works with other evaluate modules
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

METRIC_NAMES = ("mcc", "accuracy", "roc_auc", "precision", "recall", "f1")


def _as_probabilities(scores: np.ndarray) -> np.ndarray:
    """(n,) positive-class scores -> (n, 2); (n, C) logits or probabilities -> rows summing to 1."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 1:
        if scores.min(initial=0) < 0 or scores.max(initial=0) > 1:
            scores = 1 / (1 + np.exp(-scores))
        return np.stack([1 - scores, scores], axis=1)
    if scores.ndim != 2:
        raise ValueError(f"scores must be (n,) or (n, classes), got shape {scores.shape}")
    if scores.shape[1] == 1:
        return _as_probabilities(scores[:, 0])
    rows = scores.sum(axis=1)
    if scores.min(initial=0) < 0 or not np.allclose(rows, 1, atol=1e-3):
        z = scores - scores.max(axis=1, keepdims=True)
        e = np.exp(z)
        scores = e / e.sum(axis=1, keepdims=True)
    return scores


def classification_metrics(references: Sequence[int], scores: Any, num_classes: int | None = None) -> dict[str, float]:
    """All metrics from true labels and scores ((n,) positive-class probability/logit or (n, C)).

    ROC-AUC uses the scores (one-vs-rest macro for multi-class); it is NaN when the references hold a
    single class. Precision/recall/F1 are binary (positive = 1) for two classes, macro otherwise."""
    from sklearn import metrics as skm

    y = np.asarray(references, dtype=np.int64)
    probs = _as_probabilities(scores)
    if len(y) != len(probs):
        raise ValueError(f"{len(y)} references but {len(probs)} score rows")
    if len(y) == 0:
        raise ValueError("cannot compute metrics on zero examples")
    n_classes = max(num_classes or 0, probs.shape[1], int(y.max()) + 1)
    pred = probs.argmax(axis=1)
    average = "binary" if n_classes == 2 else "macro"
    labels = list(range(n_classes))
    out = {
        "mcc": float(skm.matthews_corrcoef(y, pred)),
        "accuracy": float(skm.accuracy_score(y, pred)),
        "precision": float(skm.precision_score(y, pred, average=average, labels=labels if average == "macro" else None, zero_division=0)),
        "recall": float(skm.recall_score(y, pred, average=average, labels=labels if average == "macro" else None, zero_division=0)),
        "f1": float(skm.f1_score(y, pred, average=average, labels=labels if average == "macro" else None, zero_division=0)),
    }
    present = np.unique(y)
    if len(present) < 2:
        out["roc_auc"] = float("nan")
    elif n_classes == 2:
        out["roc_auc"] = float(skm.roc_auc_score(y, probs[:, 1]))
    else:
        p = probs[:, present]
        p = p / np.clip(p.sum(axis=1, keepdims=True), 1e-12, None)
        out["roc_auc"] = float(skm.roc_auc_score(y, p, multi_class="ovr", average="macro", labels=present)
                               if len(present) > 2 else skm.roc_auc_score(y == present[1], p[:, 1]))
    return {k: out[k] for k in METRIC_NAMES}


def mean_std(runs: Iterable[Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """{metric: {"mean", "std", "n"}} over runs (sample std, ddof=1; 0 for a single run), NaNs ignored."""
    runs = list(runs)
    keys = [k for k in runs[0] if isinstance(runs[0][k], (int, float))] if runs else []
    out = {}
    for k in keys:
        vals = np.array([r[k] for r in runs if r.get(k) is not None and not math.isnan(r[k])], dtype=float)
        out[k] = {"mean": float(vals.mean()) if len(vals) else float("nan"),
                  "std": float(vals.std(ddof=1)) if len(vals) > 1 else 0.0, "n": int(len(vals))}
    return out


def _make_module():
    import datasets
    import evaluate

    class DNAClassificationMetrics(evaluate.Metric):
        """`evaluate` metric computing MCC, accuracy, ROC-AUC, precision, recall, F1 from class scores, offline."""

        def _info(self):
            return evaluate.MetricInfo(
                description="MCC, accuracy, ROC-AUC (on scores), precision, recall, F1 (macro for multi-class).",
                citation="Cherednichenko & Poptsova, Kolmogorov-Arnold Networks for Genomic Tasks (2025)",
                inputs_description="predictions: per-example class scores (list of floats, probabilities or "
                                   "logits); references: integer labels.",
                features=datasets.Features({"predictions": datasets.Sequence(datasets.Value("float32")),
                                            "references": datasets.Value("int64")}),
            )

        def _compute(self, predictions, references, num_classes: int | None = None):
            return classification_metrics(references, np.asarray(predictions), num_classes=num_classes)

    return DNAClassificationMetrics


def __getattr__(name: str) -> Any:
    if name == "DNAClassificationMetrics":  # built lazily: importing evaluate is slow
        cls = _make_module()
        globals()[name] = cls
        return cls
    raise AttributeError(name)


def compute_metrics_for_trainer(eval_pred: Any) -> dict[str, float]:
    """`compute_metrics` callback for transformers.Trainer (EvalPrediction of logits, labels)."""
    logits, labels = eval_pred
    return classification_metrics(labels, logits)
