"""Hub round trip over real HTTP against the localhost Hub server; model cards."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hub_server import LocalHubServer
from kan_genomics_hf.hub.model_card import write_model_card

ROOT = Path(__file__).resolve().parents[1]


def _run(code: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    """huggingface_hub reads HF_ENDPOINT at import time, so each client runs in a fresh process."""
    full_env = {**os.environ, **env, "HF_HOME": str(tmp_path / "hf_home"), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=full_env, capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def test_push_folder_and_download(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text('{"a": 1}')
    write_model_card(folder, model_name="toy", results={"mcc": 0.5}, datasets=["synthetic"])
    with LocalHubServer() as hub:
        r = _run(f"""
            from kan_genomics_hf.hub.push import push_folder
            from huggingface_hub import hf_hub_download, ModelCard
            print(push_folder({str(folder)!r}, "test-user/toy"))
            print(open(hf_hub_download("test-user/toy", "config.json")).read())
            print(ModelCard.load("test-user/toy").data.eval_results[0].metric_value)
        """, hub.client_env(), tmp_path)
        assert r.returncode == 0, r.stderr
        assert "test-user/toy" in r.stdout and '{"a": 1}' in r.stdout and "0.5" in r.stdout
        assert set(hub.repos["test-user/toy"].files) == {"config.json", "README.md"}


def test_failed_push_is_clear_and_keeps_folder(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"\x00" * 10)
    with LocalHubServer(token="right-token") as hub:
        env = {**hub.client_env(), "HF_TOKEN": "wrong-token"}
        r = _run(f"""
            from kan_genomics_hf.hub.push import push_folder, PushToHubError
            try:
                push_folder({str(folder)!r}, "test-user/toy")
            except PushToHubError as err:
                print("ERR", err)
        """, env, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "ERR" in r.stdout and "401" in r.stdout and "intact" in r.stdout
    assert (folder / "weights.bin").read_bytes() == b"\x00" * 10


def test_push_refused_offline(tmp_path, monkeypatch):
    from huggingface_hub import constants

    from kan_genomics_hf.hub.push import PushToHubError, push_folder

    (tmp_path / "f.txt").write_text("x")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(PushToHubError, match="HF_HUB_OFFLINE"):
        push_folder(tmp_path, "u/r")


def test_model_card_has_model_index(tmp_path):
    from huggingface_hub import ModelCard

    path = write_model_card(tmp_path, model_name="legnet-lkan", library_name="transformers",
                            pipeline_tag="text-classification", datasets=["gue/tf_0"],
                            results={"mcc": 0.61, "accuracy": 0.8},
                            baselines={"gc_content": {"mcc": 0.1}}, details={"variant": "lkan"})
    card = ModelCard.load(path)
    assert {r.metric_type for r in card.data.eval_results} == {"mcc", "accuracy"}
    assert "gc_content" in card.text and "variant" in card.text and "Cherednichenko" in card.text
    with pytest.raises(FileNotFoundError):
        write_model_card(tmp_path / "missing", model_name="x")
