"""Every benchmark PNG has a title and labelled axes (MCC x 100), seeds give error bars, equal sizes give
bars per dataset x variant instead of a size axis; the KAN edge grid labels its axes."""
from __future__ import annotations

import pytest

from kan_genomics_hf.evaluation.report import write_plots


def _rows(params: dict[str, int]) -> list[dict]:
    rows = [{"dataset": d, "variant": v, "kind": "main", "seed": s, "test": {"mcc": 0.5 + 0.01 * s},
             "params": params[v], "flops": 1000 * params[v]}
            for d in ("gue/tf_0", "gue/tf_1") for v in ("baseline", "lkan") for s in (0, 1)]
    rows += [{"kind": "grid", "grid_size": g, "params": 100 * g, "seconds_per_step": 0.01 * g} for g in (3, 6)]
    rows += [{"kind": "ablation", "blocks_replaced": b, "seed": s, "test": {"mcc": 0.4 + 0.01 * b}}
             for b in (0, 1, 2) for s in (0, 1)]
    return rows


@pytest.mark.parametrize("params,expected", [({"baseline": 200_000, "lkan": 200_400}, "mcc_by_variant"),
                                             ({"baseline": 50_000, "lkan": 2_000_000}, "mcc_vs_params")])
def test_plots_have_titles_labels_and_one_unit(tmp_path, params, expected):
    desc: dict = {}
    paths = write_plots(_rows(params), tmp_path, descriptions=desc)
    assert expected in paths and {"grid_size", "ablation"} <= set(paths)
    assert ("mcc_vs_params" in paths) == (expected == "mcc_vs_params")
    for name, path in paths.items():
        assert path.is_file() and path.stat().st_size > 1000
        assert desc[name]["title"] and desc[name]["xlabel"] and desc[name]["ylabel"]
    for name in (expected, "ablation"):
        assert desc[name]["ylabel"] == "test MCC × 100" and "mean ± std over 2 seeds" in desc[name]["title"]
    assert desc["grid_size"]["ylabel2"] == "training step time (s)"


def test_edge_grid_has_axis_labels(tiny_legnet, tmp_path, monkeypatch):
    import matplotlib.figure

    from kan_genomics_hf.interpret.kan_edges import kan_linear_layers, plot_edge_functions

    saved = []
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", lambda fig, *a, **k: saved.append(fig))
    layer = next(iter(kan_linear_layers(tiny_legnet("lkan")).values()))
    plot_edge_functions(layer, tmp_path / "edges.png", top_k=2)
    (fig,) = saved
    assert fig.get_suptitle()
    for ax in fig.axes[:2]:
        assert ax.get_xlabel().startswith("input") and ax.get_ylabel().startswith("phi(x)") and ax.get_title()


def test_demo_plots_and_table_follow_the_plot_rules(tmp_path, monkeypatch):
    """The demo's one-seed figures say so, use MCC x 100 like the benchmark plots, and its table bolds no winner."""
    import matplotlib.figure

    from kan_genomics_hf.commands.demo import _extra_plots, _table

    rows = [{"variant": v, "kind": k, "params": p, "test": {"mcc": m, "accuracy": 0.8, "roc_auc": 0.9, "f1": 0.8},
             "validation_curve": c} for v, k, p, m, c in [("kmer_lr", "classical", 256, 0.61, None),
                                                          ("lkan", "main", 50_000, 0.64, [0.3, 0.5, 0.6])]]
    saved = []
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", lambda fig, *a, **k: saved.append(fig))
    _extra_plots(rows, tmp_path)
    assert len(saved) == 2
    for fig in saved:
        (ax,) = fig.axes
        assert "1 seed" in ax.get_title() and ax.get_xlabel() and "MCC × 100" in ax.get_ylabel()
    bar_heights = sorted(round(p.get_height(), 6) for p in saved[0].axes[0].patches)
    assert bar_heights == [61.0, 64.0]
    table = _table(rows)
    assert "**" not in table and "64.0" in table and "1 seed" in table
