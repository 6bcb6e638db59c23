"""Interpretability: KAN edge functions (evaluate/plot/rank/prune) and in-silico mutagenesis."""
from __future__ import annotations

import pytest
import torch

from kan_genomics_hf import DNATokenizer, KANLinear, LegNetConfig, LegNetForSequenceClassification
from kan_genomics_hf.interpret import (
    InputRecorder,
    edge_functions,
    edge_importance,
    in_silico_mutagenesis,
    kan_linear_layers,
    plot_edge_functions,
    plot_mutagenesis,
    prune_edges,
    rank_edges,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_edge_functions_sum_to_the_layer_output():
    torch.manual_seed(0)
    layer = KANLinear(5, 3)
    with torch.no_grad():
        layer.spline_weight.normal_()
    x = torch.rand(7, 5) * 2 - 1
    xs, phi = edge_functions(layer, x)
    assert phi.shape == (7, 3, 5)
    assert torch.allclose(phi.sum(-1), layer(x).detach(), atol=1e-5)
    xs, phi = edge_functions(layer, n_points=11)
    assert xs.shape == (11, 5) and xs[0, 0].item() == pytest.approx(layer.grid[0, 0].item())


def test_rank_and_prune_edges():
    torch.manual_seed(1)
    layer = KANLinear(4, 3)
    with torch.no_grad():
        layer.base_weight[1, 2] = 5.0  # make one edge clearly the largest
    ranked = rank_edges(layer, top_k=3)
    assert ranked[0][:2] == (1, 2) and ranked[0][2] >= ranked[1][2] >= ranked[2][2]
    keep = prune_edges(layer, fraction=0.5)
    assert keep.sum().item() == 6 and keep[1, 2]
    imp = edge_importance(layer)
    assert (imp[~keep] == 0).all() and (imp[keep] > 0).all()
    assert edge_importance(layer, norm="std").shape == (3, 4)
    kept = prune_edges(layer, threshold=float(imp.max()))
    assert kept.sum().item() == 1
    with pytest.raises(ValueError, match="exactly one of"):
        prune_edges(layer)
    with pytest.raises(TypeError, match="expects a KANLinear"):
        edge_functions(torch.nn.Linear(2, 2))


def test_plot_edges_of_a_trained_lkan_with_recorded_inputs(tmp_path):
    model = LegNetForSequenceClassification(LegNetConfig(variant="lkan", block_sizes=[16, 16, 8], num_labels=2))
    layers = kan_linear_layers(model)
    assert set(layers) == {f"legnet.blocks.{i}.se.fc{j}" for i in (0, 1) for j in (1, 2)}
    enc = DNATokenizer()(["ACGTACGTTT", "GGGCCA"], padding=True, return_tensors="pt")
    with InputRecorder(layers) as rec:
        model(**enc)
    data = rec.data("legnet.blocks.0.se.fc1")
    assert data.shape == (2, 64)
    out = plot_edge_functions(layers["legnet.blocks.0.se.fc1"], tmp_path / "edges.png", top_k=4, data=data, title="SE")
    assert out.read_bytes()[:8] == PNG_MAGIC
    with pytest.raises(ValueError, match="outside the layer"):
        plot_edge_functions(layers["legnet.blocks.0.se.fc1"], tmp_path / "x.png", edges=[(99, 0)])


def test_in_silico_mutagenesis_matches_direct_predictions(tmp_path):
    torch.manual_seed(0)
    model = LegNetForSequenceClassification(LegNetConfig(variant="ckan", block_sizes=[16, 8], num_labels=3)).eval()
    seq = "ACGTTGCAAN"
    res = in_silico_mutagenesis(model, seq, batch_size=7)
    eff = res["effects"]
    assert eff.shape == (10, 4) and eff[0, 0] == 0 and eff[3, 3] == 0
    tok = DNATokenizer()
    with torch.no_grad():
        ref = model(**tok([seq], return_tensors="pt")).logits[0, res["target"]]
        mutant = seq[:4] + "C" + seq[5:]
        mut = model(**tok([mutant], return_tensors="pt")).logits[0, res["target"]]
    assert eff[4, 1] == pytest.approx(float(mut - ref), abs=1e-5)
    assert res["reference_score"] == pytest.approx(float(ref), abs=1e-6)
    probs = in_silico_mutagenesis(model, seq, target=1, output="prob")
    assert probs["target"] == 1 and abs(probs["effects"]).max() <= 1
    out = plot_mutagenesis(res, tmp_path / "ism.png")
    assert out.read_bytes()[:8] == PNG_MAGIC
    with pytest.raises(ValueError, match="invalid character 'X' at position 2"):
        in_silico_mutagenesis(model, "ACXT")
    with pytest.raises(ValueError, match="target 7 outside"):
        in_silico_mutagenesis(model, "ACGT", target=7)
