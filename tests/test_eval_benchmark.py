"""The benchmark runner and its reports (tables with bold best, CSV/JSON, plots, sweeps, resume)."""
from __future__ import annotations

import dataclasses
import json

import pytest

from kan_genomics_hf.evaluation.report import aggregate, markdown_table, paper_comparison_table, write_reports
from kan_genomics_hf.experiments.benchmark import BenchmarkConfig, load_rows, run_benchmark


def test_tiny_benchmark_with_sweeps_and_reports(tmp_path):
    cfg = BenchmarkConfig(
        datasets=["synthetic"], output_dir=str(tmp_path), variants=["baseline", "lkan"], size="none",
        config_overrides={"block_sizes": [8, 8], "kernel_size": 3}, runs=2, epochs=1, batch_size=64,
        learning_rate=5e-3, dataset_options={"synthetic": {"n_train": 64, "n_validation": 40, "n_test": 40,
                                                           "length": 48}},
        grid_sizes=[3, 6], ablation_blocks=True, progress=False)
    rows = run_benchmark(cfg)
    kinds = [r["kind"] for r in rows]
    assert kinds.count("main") == 4 and kinds.count("classical") == 2
    assert kinds.count("grid") == 2 and kinds.count("ablation") == 2
    grid = sorted((r for r in rows if r["kind"] == "grid"), key=lambda r: r["grid_size"])
    assert grid[0]["params"] < grid[1]["params"]  # a larger grid costs parameters
    paths = write_reports(rows, tmp_path, title="tiny")
    md = paths["markdown"].read_text()
    assert "**" in md and "k-mer LR" in md and "Grid-size sweep" in md and "Blocks replaced" in md
    assert " ± " in md  # two runs -> mean ± std
    assert json.loads(paths["json"].read_text())["summary"]["synthetic"]["lkan"]["n"] == 2
    assert paths["csv"].read_text().startswith("dataset,model,mcc_mean")
    size_plot = "mcc_vs_params" if "mcc_vs_params" in paths else "mcc_by_variant"  # equal sizes: bars
    for key in (size_plot, "grid_size", "ablation"):
        assert paths[key].stat().st_size > 1000
    # a rerun finds everything done in runs.jsonl and trains nothing
    n_lines = len((tmp_path / "runs.jsonl").read_text().splitlines())
    run_benchmark(cfg)
    assert len((tmp_path / "runs.jsonl").read_text().splitlines()) == n_lines
    assert len(load_rows(tmp_path)) == len(rows)
    # ... but never reuses runs trained with other options: a changed recipe is refused, naming the run and the fix
    stored = (tmp_path / "benchmark_config.json").read_text()
    with pytest.raises(ValueError, match=r"runs.jsonl: run 'synthetic\|main\|baseline\|seed0' was trained with "
                                         r"recipe \{\}, this call asks for \{'rc_eval': True\}; use another --output-dir"):
        run_benchmark(dataclasses.replace(cfg, recipe={"rc_eval": True}))
    assert (tmp_path / "benchmark_config.json").read_text() == stored


def test_paper_table_and_bold_best():
    rows = [{"dataset": "gue/tf_0", "variant": v, "kind": "main", "test": {"mcc": m}, "params": 10, "flops": None}
            for v, m in (("baseline", 0.5), ("lkan", 0.6), ("ckan", 0.55))]
    rows.append({"dataset": "gue/tf_0", "variant": "kmer_lr", "kind": "classical", "test": {"mcc": 0.58}, "params": 3})
    assert "**" not in markdown_table(aggregate(rows))  # one seed names no winner
    rows += [{**r, "run": "seed1", "test": {"mcc": r["test"]["mcc"] + 0.02}} for r in rows if r["kind"] == "main"]
    agg = aggregate(rows)
    table = markdown_table(agg)
    assert "**61.0 ± 1.4**" in table and "**58.0**" not in table
    cmp = paper_comparison_table(agg)
    assert "65.1" in cmp and "67.4" in cmp and "71.99" in cmp


def test_benchmark_cli_merge(tmp_path, capsys):
    from kan_genomics_hf.cli import main

    shard = tmp_path / "shard"
    shard.mkdir()
    rows = [{"run_key": f"gue/tf_0|main|{v}|seed{s}", "dataset": "gue/tf_0", "variant": v, "kind": "main",
             "run": f"seed{s}", "test": {"mcc": 0.4 + 0.01 * s}, "params": 50000, "flops": 10**6}
            for v in ("baseline", "lkan") for s in range(3)]
    (shard / "runs.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert main(["benchmark", "--output-dir", str(tmp_path / "merged"), "--merge", str(shard)]) == 0
    md = (tmp_path / "merged" / "results.md").read_text()
    assert "41.0 ± 1.0" in md and "65.1" in md
    assert main(["benchmark", "--output-dir", str(tmp_path / "m2"), "--merge", str(tmp_path / "empty")]) == 1
    # a later folder's rerun of one variant replaces that variant's runs (same keys), the rest stay
    rerun = tmp_path / "rerun"
    rerun.mkdir()
    (rerun / "runs.jsonl").write_text("\n".join(json.dumps({**r, "test": {"mcc": 0.5 + 0.01 * i}})
                                                for i, r in enumerate(x for x in rows if x["variant"] == "lkan")))
    assert main(["benchmark", "--output-dir", str(tmp_path / "m3"), "--merge", str(shard), str(rerun)]) == 0
    assert "3 runs of" in capsys.readouterr().out
    summary = json.loads((tmp_path / "m3" / "results.json").read_text())["summary"]["gue/tf_0"]
    assert summary["lkan"]["n"] == 3 and summary["baseline"]["n"] == 3
    assert abs(summary["lkan"]["mean"] - 0.51) < 1e-9 and abs(summary["baseline"]["mean"] - 0.41) < 1e-9
