"""The kan-genomics CLI: --help of every command, train -> evaluate -> predict on tiny data, clear errors,
the demo in --quick mode, and the scripts."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kan_genomics_hf.cli import COMMAND_MODULES, build_parser, main

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--dataset", "synthetic", "--dataset-option", "n_train=96", "--dataset-option", "n_validation=32",
        "--dataset-option", "n_test=32", "--dataset-option", "length=48"]


@pytest.mark.parametrize("command", ["demo", "train", "evaluate", "predict", "benchmark"])
def test_help(command, capsys):
    assert command in COMMAND_MODULES
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([command, "--help"])
    assert exit_info.value.code == 0
    assert len(capsys.readouterr().out) > 300


def test_train_evaluate_predict(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["train", *TINY, "--variant", "ckan", "--size", "none", "--config", "block_sizes=[8,8,8]",
               "--config", "kernel_size=3", "--epochs", "1", "--output-dir", str(out), "--no-progress",
               "--threads", "1"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "classical baseline kmer_lr" in text and "Dataset summary" in text
    best = out / "best"
    assert (best / "README.md").is_file() and (best / "model.safetensors").is_file()
    rc = main(["evaluate", str(best), *TINY, "--output", str(tmp_path / "eval.json"), "--no-baselines"])
    assert rc == 0
    report = json.loads((tmp_path / "eval.json").read_text())
    assert report["rows"] == 32 and set(report["metrics"]) >= {"mcc", "roc_auc"}
    fa = tmp_path / "x.fa"
    fa.write_text(">a\nACGTACGTGGGAGGGAGGGAGGG\n>b\nTTTTAAAACCCC\n")
    rc = main(["predict", str(best), "--input", str(fa), "--output", str(tmp_path / "pred.csv")])
    assert rc == 0
    lines = (tmp_path / "pred.csv").read_text().splitlines()
    assert lines[0].startswith("id,predicted_label,score,p_background") and lines[1].startswith("a,")
    capsys.readouterr()
    assert main(["predict", str(best), "-s", "ACGTXACG"]) == 1
    assert "invalid character 'X' at position 4" in capsys.readouterr().err


def test_clear_errors(tmp_path, capsys):
    assert main(["train", "--dataset", "gue/nope", "--output-dir", str(tmp_path)]) == 1
    assert "valid: gue/tf_0" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "missing"), *TINY]) == 1
    assert "could not load a classifier" in capsys.readouterr().err
    assert main(["train", *TINY, "--output-dir", str(tmp_path), "--push-to-hub"]) == 1
    assert "--hub-model-id" in capsys.readouterr().err


def test_demo_quick(tmp_path):
    out = tmp_path / "demo"
    r = subprocess.run([sys.executable, "-m", "kan_genomics_hf.cli", "demo", "--quick", "--output-dir", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=300,
                       env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"})
    assert r.returncode == 0, r.stderr[-3000:]
    assert "k-mer" in r.stdout or "kmer_lr" in r.stdout
    for variant in ("baseline", "lkan", "ckan"):
        assert (out / "models" / f"legnet-{variant}" / "README.md").is_file()
    results = json.loads((out / "results.json").read_text())
    assert {r["variant"] for r in results["rows"]} == {"gc_content", "kmer_lr", "baseline", "lkan", "ckan"}
    assert len(results["pipeline_examples"]) == 4
    assert (out / "results.md").is_file() and list(out.glob("*.png"))


def test_scripts_help():
    for script in ("train_classifier.py", "reproduce_paper.py"):
        r = subprocess.run([sys.executable, str(ROOT / "scripts" / script), "--help"], capture_output=True,
                           text=True, timeout=120, cwd=ROOT)
        assert r.returncode == 0 and "--output-dir" in r.stdout
