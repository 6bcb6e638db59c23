"""Atomic checkpoints, latest-checkpoint discovery, pruning, resume of the Accelerate counter; JSONL logs."""
from __future__ import annotations

import torch

from kan_genomics_hf.training.checkpointing import (
    atomic_directory, latest_checkpoint, list_checkpoints, load_checkpoint, save_checkpoint)
from kan_genomics_hf.training.tracking import MetricLogger, read_jsonl


def _setup(seed=0):
    from accelerate import Accelerator

    torch.manual_seed(seed)
    acc = Accelerator(cpu=True)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.AdamW(model.parameters(), lr=0.1)
    model, opt = acc.prepare(model, opt)
    return acc, model, opt


def test_save_load_prune(tmp_path):
    acc, model, opt = _setup()
    root = tmp_path / "checkpoints"
    for step in (1, 2, 3, 4):
        model(torch.ones(2, 3)).sum().backward()
        opt.step()
        opt.zero_grad()
        save_checkpoint(acc, root, step, {"global_step": step}, keep_last=2)
    assert [p.name for p in list_checkpoints(root)] == ["checkpoint-00000003", "checkpoint-00000004"]
    # a half-written checkpoint (no trainer_state.json) is never picked up
    (root / "checkpoint-00000009").mkdir()
    assert latest_checkpoint(root).name == "checkpoint-00000004"
    weights = model.weight.detach().clone()
    acc2, model2, opt2 = _setup(seed=1)
    assert not torch.equal(model2.weight, weights)
    state = load_checkpoint(acc2, latest_checkpoint(root))
    assert state["global_step"] == 4 and torch.equal(model2.weight, weights)
    assert acc2.project_configuration.iteration >= 2


def test_atomic_directory_keeps_old_on_error(tmp_path):
    target = tmp_path / "best"
    with atomic_directory(target) as tmp:
        (tmp / "a").write_text("1")
    try:
        with atomic_directory(target) as tmp:
            (tmp / "a").write_text("2")
            raise RuntimeError("killed")
    except RuntimeError:
        pass
    assert (target / "a").read_text() == "1"
    assert [p.name for p in tmp_path.iterdir()] == ["best"]


def test_metric_logger_jsonl(tmp_path):
    with MetricLogger(tmp_path / "log.jsonl") as log:
        log.log({"loss": torch.tensor(0.5), "bad": float("nan")}, step=3)
    with open(tmp_path / "log.jsonl", "a") as fh:
        fh.write('{"truncated": ')
    recs = read_jsonl(tmp_path / "log.jsonl")
    assert recs[0]["loss"] == 0.5 and recs[0]["bad"] == "nan" and recs[0]["step"] == 3 and len(recs) == 1
    MetricLogger(tmp_path / "other.jsonl", enabled=False).log({"x": 1}, step=0)
    assert not (tmp_path / "other.jsonl").exists()
