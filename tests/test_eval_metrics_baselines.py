"""Metrics (plain, evaluate-compatible, mean ± std), the classical baselines and protocols."""
from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import matthews_corrcoef, roc_auc_score

from kan_genomics_hf.evaluation.metrics import classification_metrics, mean_std


def test_binary_metrics_match_sklearn_and_use_scores():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    p = np.clip(y * 0.3 + rng.random(200) * 0.7, 0, 1)
    m = classification_metrics(y, p)
    assert m["mcc"] == pytest.approx(matthews_corrcoef(y, p > 0.5))
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, p))  # on scores, not thresholded labels
    two_col = classification_metrics(y, np.stack([1 - p, p], 1))
    assert two_col == pytest.approx(m)
    logits = classification_metrics(y, np.log(p + 1e-9) - np.log(1 - p + 1e-9))
    assert logits["roc_auc"] == pytest.approx(m["roc_auc"], abs=1e-6)


def test_multiclass_macro_and_single_class_auc():
    y = np.array([0, 1, 2, 2, 1, 0])
    probs = np.eye(3)[[0, 1, 2, 1, 1, 0]] * 0.8 + 0.2 / 3
    m = classification_metrics(y, probs)
    assert m["accuracy"] == pytest.approx(5 / 6) and 0 < m["f1"] < 1 and m["roc_auc"] > 0.8
    assert math.isnan(classification_metrics([1, 1], [0.2, 0.9])["roc_auc"])
    with pytest.raises(ValueError, match="references"):
        classification_metrics([0, 1, 1], [0.1, 0.2])


def test_evaluate_module_offline_and_combine():
    import evaluate

    from kan_genomics_hf.evaluation.metrics import DNAClassificationMetrics

    y = [0, 1, 1, 0, 1]
    probs = [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3], [0.1, 0.9]]
    metric = DNAClassificationMetrics()
    metric.add_batch(predictions=probs[:2], references=y[:2])
    metric.add_batch(predictions=probs[2:], references=y[2:])
    assert metric.compute() == pytest.approx(classification_metrics(y, np.array(probs)))
    combined = evaluate.combine([DNAClassificationMetrics()])
    assert combined.compute(predictions=probs, references=y)["mcc"] == pytest.approx(
        classification_metrics(y, np.array(probs))["mcc"])


def test_mean_std():
    s = mean_std([{"mcc": 0.5}, {"mcc": 0.7}, {"mcc": float("nan")}])
    assert s["mcc"]["mean"] == pytest.approx(0.6) and s["mcc"]["n"] == 2
    assert s["mcc"]["std"] == pytest.approx(np.std([0.5, 0.7], ddof=1))


def _gc_separable():
    import datasets

    rng = np.random.default_rng(0)

    def make(n):
        seqs, labels = [], []
        for i in range(n):
            gc = 0.65 if i % 2 else 0.35
            seqs.append("".join(rng.choice(list("ACGT"), 60, p=[(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2])))
            labels.append(i % 2)
        return datasets.Dataset.from_dict({"sequence": seqs, "label": labels})

    return datasets.DatasetDict({"train": make(200), "validation": make(60), "test": make(60)})


def test_baselines_gc_separates_gc_data_but_not_synthetic():
    from kan_genomics_hf.data.synthetic import load_synthetic
    from kan_genomics_hf.evaluation.baselines import run_baselines

    res = run_baselines(_gc_separable(), ks=(4,))
    assert res["gc_content"]["metrics"]["mcc"] > 0.8 and res["kmer_lr"]["k"] == 4
    syn = run_baselines(load_synthetic(n_train=300, n_validation=60, n_test=200, length=60), ks=(4, 5))
    assert abs(syn["gc_content"]["metrics"]["mcc"]) < 0.25  # GC-matched background
    assert syn["kmer_lr"]["params"] > 0


def test_protocols_seeds_and_kfold():
    from kan_genomics_hf.data.protocols import protocol_runs, subsample

    dd = _gc_separable()
    runs = list(protocol_runs(dd, "seeds", 3, seed=5))
    assert [r[1] for r in runs] == [5, 6, 7] and runs[0][2] is dd
    folds = list(protocol_runs(dd, "kfold", 4))
    assert len(folds) == 4
    val_sets = [set(f[2]["validation"]["sequence"]) for f in folds]
    assert all(not (a & b) for i, a in enumerate(val_sets) for b in val_sets[i + 1:])
    assert all(len(f[2]["train"]) + len(f[2]["validation"]) == 260 for f in folds)
    small = subsample(dd, max_train=50, max_eval=10)
    assert (len(small["train"]), len(small["test"])) == (50, 10)
    with pytest.raises(ValueError, match="protocol"):
        list(protocol_runs(dd, "bootstrap", 2))
