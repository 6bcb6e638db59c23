"""push_to_hub -> from_pretrained("<user>/<repo>") over real HTTP (localhost Hub server) for a model pushed
with transformers' push_to_hub; `kan-genomics train --push-to-hub` uploads the full folder or fails clearly."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import torch

from hub_server import LocalHubServer

ROOT = Path(__file__).resolve().parents[1]

LOAD = """
    import json, torch, sys
    import kan_genomics_hf
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    model = AutoModelForSequenceClassification.from_pretrained({repo!r}, trust_remote_code=True).eval()
    tok = AutoTokenizer.from_pretrained({repo!r}, trust_remote_code=True)
    enc = tok(["ACGTACGTTTGACTCATGGGAGGGTGGGAGGG", "GGGCCCAT"], padding=True, return_tensors="pt")
    with torch.no_grad():
        print("LOGITS", json.dumps(model(**enc).logits.tolist()))
"""


def _py(code: str, env: dict[str, str], tmp: Path, *argv: str) -> subprocess.CompletedProcess:
    full = {**os.environ, **env, "HF_HOME": str(tmp / "hf_home"), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *argv], env=full, cwd=ROOT,
                          capture_output=True, text=True, timeout=240)


def _logits(stdout: str) -> torch.Tensor:
    line = next(line for line in stdout.splitlines() if line.startswith("LOGITS"))
    return torch.tensor(json.loads(line[len("LOGITS "):]))


def test_push_to_hub_then_from_pretrained(tmp_path):
    from kan_genomics_hf import DNATokenizer
    from kan_genomics_hf.models.factory import build_config, build_model
    from kan_genomics_hf.models.loading import save_classifier

    torch.manual_seed(0)
    model = build_model(build_config("lkan", None, num_labels=2, block_sizes=[8, 8, 8], kernel_size=3)).eval()
    tok = DNATokenizer()
    save_classifier(model, tok, tmp_path / "local")
    enc = tok(["ACGTACGTTTGACTCATGGGAGGGTGGGAGGG", "GGGCCCAT"], padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = model(**enc).logits
    with LocalHubServer() as hub:
        push = _py(f"""
            import kan_genomics_hf
            from kan_genomics_hf import LegNetForSequenceClassification, DNATokenizer
            m = LegNetForSequenceClassification.from_pretrained({str(tmp_path / 'local')!r})
            m.push_to_hub("test-user/tiny-lkan")
            DNATokenizer.from_pretrained({str(tmp_path / 'local')!r}).push_to_hub("test-user/tiny-lkan")
        """, hub.client_env(), tmp_path)
        assert push.returncode == 0, push.stderr[-3000:]
        files = set(hub.repos["test-user/tiny-lkan"].files)
        assert {"config.json", "model.safetensors"} <= files and any(f.endswith(".py") for f in files)
        load = _py(LOAD.format(repo="test-user/tiny-lkan"), hub.client_env(), tmp_path)
    assert load.returncode == 0, load.stderr[-3000:]
    assert torch.allclose(_logits(load.stdout), expected, atol=1e-5)


def test_cli_train_push_to_hub_and_failed_push_keeps_model(tmp_path):
    train = ["-m", "kan_genomics_hf.cli", "train", "--dataset", "synthetic", "--dataset-option", "n_train=96",
             "--dataset-option", "n_validation=32", "--dataset-option", "n_test=32", "--dataset-option", "length=48",
             "--size", "none", "--config", "block_sizes=[8,8,8]", "--config", "kernel_size=3", "--epochs", "1",
             "--no-progress", "--no-baselines", "--push-to-hub", "--hub-model-id", "test-user/cli-model"]
    with LocalHubServer() as hub:
        env = {**os.environ, **hub.client_env(), "HF_HOME": str(tmp_path / "hf_home"), "PYTHONPATH": str(ROOT)}
        ok = subprocess.run([sys.executable, *train, "--output-dir", str(tmp_path / "ok")], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=240)
        assert ok.returncode == 0, ok.stderr[-3000:]
        assert {"README.md", "model.safetensors", "config.json", "modeling_legnet.py"} <= set(
            hub.repos["test-user/cli-model"].files)
        bad = subprocess.run([sys.executable, *train, "--output-dir", str(tmp_path / "bad")],
                             env={**env, "HF_TOKEN": "wrong"}, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert bad.returncode == 1 and "401" in bad.stderr and "intact" in bad.stderr
    assert (tmp_path / "bad" / "best" / "model.safetensors").is_file()
