"""Generation metrics on known inputs: identical sets, shuffled sets, edit distances, novelty, oracle, errors."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from kan_genomics_hf.evaluation.generation import (
    _codes,
    diversity,
    equal_size_rows,
    evaluate_generation,
    js_divergence,
    kl_divergence,
    kmer_counts,
    levenshtein_batch,
    load_jaspar_pwms,
    metric_direction,
    metrics_markdown,
    motif_hits,
    nearest_train,
    own_class_fraction,
    plot_generation_histograms,
    reference_values,
    shuffle_sequences,
)


def _random_set(n: int, length: int, seed: int, motif: str = "TGACTCA") -> list[str]:
    """Random sequences each carrying an AP-1 site, so k-mer and motif spectra are non-uniform."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        s = list(rng.choice(list("AACGTT"), length))
        p = int(rng.integers(0, length - len(motif)))
        s[p: p + len(motif)] = motif
        out.append("".join(s))
    return out


def _lev(a, b) -> int:
    d = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, d[0] = d[0], i
        for j, cb in enumerate(b, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (ca != cb))
    return d[-1]


def test_levenshtein_matches_reference_dp() -> None:
    rng = np.random.default_rng(0)
    for n, m in [(6, 6), (9, 4), (0, 3), (3, 0), (1, 1), (15, 11)]:
        a, b = rng.integers(0, 4, (25, n)), rng.integers(0, 4, (25, m))
        assert levenshtein_batch(a, b).tolist() == [_lev(x.tolist(), y.tolist()) for x, y in zip(a, b)]


def test_identical_sets_score_zero_divergence() -> None:
    seqs = _random_set(40, 60, 0)
    m = evaluate_generation(seqs, seqs, paper_metrics=False)
    for k in (3, 4, 5, 6):
        assert m[f"kmer_js_{k}"] == pytest.approx(0.0, abs=1e-12)
    assert m["motif_kl"] == pytest.approx(0.0, abs=1e-12)
    assert m["gc_wasserstein"] == pytest.approx(0.0, abs=1e-12)


def test_shuffled_scores_worse_and_real_vs_real_ordering() -> None:
    refs = reference_values(_random_set(120, 80, 1), paper_metrics=False)
    rr, sr = refs["real_vs_real"], refs["shuffled_vs_real"]
    for key in ("kmer_js_4", "kmer_js_6", "motif_kl"):
        assert rr[key] < sr[key], key
    # shuffling keeps composition: GC distribution is (nearly) unchanged
    assert abs(sr["gc_mean_generated"] - rr["gc_mean_generated"]) < 1e-9


def test_kmer_counts_and_divergences_known_values() -> None:
    counts = kmer_counts(_codes(["ACGTN", "AC"], "x"), 2)  # AC, CG, GT, AC (N and the boundary skipped)
    assert counts.sum() == 4 and counts[0 * 4 + 1] == 2
    assert js_divergence([1, 0], [0, 1]) == pytest.approx(1.0)
    assert kl_divergence([5, 5], [5, 5]) == 0.0
    assert kl_divergence([9, 0], [0, 9]) > 0


def test_diversity_and_novelty() -> None:
    seqs = _random_set(30, 40, 2)
    assert diversity(_codes([seqs[0]] * 5, "g")) == 0.0
    div = diversity(_codes(seqs, "g"))
    assert 0.2 < div < 0.8
    nov = nearest_train(_codes(seqs[:10], "g"), _codes(seqs, "t"))
    assert nov["novelty"] == 0.0 and nov["memorized_fraction"] == 1.0
    nov2 = nearest_train(_codes(_random_set(10, 40, 9), "g"), _codes(seqs, "t"))
    assert nov2["novelty"] > 0.1 and nov2["memorized_fraction"] == 0.0


def test_motif_scan_finds_planted_site_on_both_strands() -> None:
    names, pwms, widths = load_jaspar_pwms()
    assert len(names) > 500  # JASPAR CORE vertebrates, offline from pyjaspar's SQLite
    idx = next(i for i, n in enumerate(names) if n.endswith(" FOS::JUN"))
    plain, rc = "A" * 20 + "ATGACTCAT" + "A" * 20, "T" * 20 + "ATGAGTCAT" + "T" * 20
    hits = motif_hits(_codes([plain, rc, "A" * 49], "x"), pwms, widths, threshold=0.8)
    assert hits[0, idx] >= 1 and hits[1, idx] >= 1 and hits[2, idx] == 0


def test_oracle_callable_and_paper_metrics() -> None:
    gen, ref = _random_set(20, 50, 3), _random_set(20, 50, 4)

    def oracle(seqs):
        gc = np.array([(s.count("G") + s.count("C")) / len(s) for s in seqs])
        return np.stack([1 - gc, gc], axis=1)

    m = evaluate_generation(gen, ref, oracle=oracle, target_class=0, motifs=False)
    assert 0 <= m["oracle_target_fraction"] <= 1 and m["oracle_mse"] >= 0
    assert 20 < m["paper_positional_kl"] < 100  # compares positions: large even for same-distribution sets
    assert m["paper_onehot_diversity"] > 0
    assert not any("wasserstein" in k and k.startswith("paper") for k in m)  # identically 0: not reported
    same = evaluate_generation(gen, gen, oracle=oracle, motifs=False, paper_metrics=False)
    assert same["oracle_mse"] == pytest.approx(0.0, abs=1e-12)


def test_legnet_oracle_model_tokenizer_and_folder(tmp_path) -> None:
    import torch

    from kan_genomics_hf import DNATokenizer, LegNetConfig, LegNetForSequenceClassification, save_classifier
    from kan_genomics_hf.evaluation.generation import load_oracle, oracle_scores

    torch.manual_seed(0)
    model = LegNetForSequenceClassification(LegNetConfig(block_sizes=[16, 8], num_labels=3)).eval()
    tok = DNATokenizer()
    seqs = _random_set(6, 30, 7)
    probs = load_oracle((model, tok))(seqs)
    assert probs.shape == (6, 3) and np.allclose(probs.sum(1), 1, atol=1e-5)
    save_classifier(model, tok, tmp_path / "oracle")
    np.testing.assert_allclose(load_oracle(str(tmp_path / "oracle"))(seqs), probs, atol=1e-5)
    res = oracle_scores(seqs, _random_set(6, 30, 8), str(tmp_path / "oracle"), target_class=2)
    assert 0 <= res["oracle_target_fraction"] <= 1
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_oracle(str(tmp_path / "missing"))


def test_invalid_characters_are_named() -> None:
    with pytest.raises(ValueError, match=r"generated: sequence 1: invalid character 'X' at position 3"):
        evaluate_generation(["ACGT", "ACGX"], ["ACGT"])
    with pytest.raises(ValueError, match=r"reference: sequence 0: invalid character 'R' at position 0"):
        evaluate_generation(["ACGT"], ["RCGT"])
    with pytest.raises(ValueError, match="reference: no sequences"):
        evaluate_generation(["ACGT"], [])
    with pytest.raises(TypeError, match="single string"):
        evaluate_generation("ACGT", ["ACGT"])


def test_plots_and_markdown(tmp_path) -> None:
    seqs = _random_set(20, 40, 5)
    paths = plot_generation_histograms({"a": seqs, "shuffled": shuffle_sequences(seqs)}, tmp_path)
    assert [p.name for p in paths] == ["gc_content_hist.png", "motif_hits_hist.png", "pairwise_edit_hist.png"]
    assert all(p.stat().st_size > 1000 for p in paths)
    md = metrics_markdown({"x": {"kmer_js_4": 0.5}, "y": {"kmer_js_4": 0.25, "diversity": 0.1}})
    assert "| kmer_js_4 | lower | 0.5 | 0.25 |" in md and "| diversity | near real |  | 0.1 |" in md
    assert md.count("\n") == 4
    assert list(itertools.islice(shuffle_sequences(["AACG"], 1), 1))[0] != "" and sorted(shuffle_sequences(["AACG"])[0]) == list("AACG")


def test_js_and_kl_match_the_closed_forms() -> None:
    rng = np.random.default_rng(3)
    p, q = rng.integers(0, 9, 64).astype(float), rng.integers(0, 9, 64).astype(float)
    pn, qn = p / p.sum(), q / q.sum()
    m = 0.5 * (pn + qn)

    def kl2(a, b):
        nz = a > 0
        return np.sum(a[nz] * np.log2(a[nz] / b[nz]))

    assert js_divergence(p, q) == pytest.approx(0.5 * kl2(pn, m) + 0.5 * kl2(qn, m), abs=1e-12)
    assert js_divergence(np.zeros(4), np.ones(4)) == 0.5 and js_divergence(np.zeros(4), np.zeros(4)) == 0.0
    pp, qp = (p + 1) / (p + 1).sum(), (q + 1) / (q + 1).sum()
    assert kl_divergence(p, q) == pytest.approx(float(np.sum(pp * np.log(pp / qp))), abs=1e-12)


def test_equal_size_rows_share_one_sample_size() -> None:
    rows = equal_size_rows(_random_set(10, 40, 7), _random_set(100, 40, 8), motifs=False, paper_metrics=False)
    assert list(rows) == ["generated", "real_vs_real", "shuffled_vs_real"]
    assert {(r["n_generated"], r["n_reference"]) for r in rows.values()} == {(10.0, 10.0)}
    small = equal_size_rows(_random_set(30, 40, 7), _random_set(20, 40, 8), motifs=False, paper_metrics=False)
    assert {(r["n_generated"], r["n_reference"]) for r in small.values()} == {(10.0, 10.0)}
    with pytest.raises(ValueError, match="reference values at 11 sequences per side need 22 reference sequences"):
        reference_values(_random_set(20, 40, 8), size=11)


def test_metric_directions() -> None:
    keys = ("kmer_js_4", "motif_kl", "own_class_fraction_mean", "diversity", "n_generated")
    assert [metric_direction(k) for k in keys] == ["lower", "lower", "higher", "near real", ""]


def test_own_class_fraction_beside_chance() -> None:
    def oracle(seqs):  # class 0 = starts with A, class 1 = anything else, class 2 never
        return np.array([[1.0, 0.0, 0.0] if s[0] == "A" else [0.0, 1.0, 0.0] for s in seqs])

    res = own_class_fraction({"a": ["AC", "AG", "CC", "AT"], "b": ["CA", "GA"]}, oracle, ["a", "b", "c"])
    assert res == {"own_class_fraction[a]": 0.75, "own_class_fraction[b]": 1.0, "own_class_fraction_mean": 0.875,
                   "chance_rate": 1 / 3}
    with pytest.raises(ValueError, match=r"^class 'z' is not an oracle class; oracle classes: a, b, c$"):
        own_class_fraction({"z": ["AC"]}, oracle, ["a", "b", "c"])
