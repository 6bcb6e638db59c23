"""Atomic checkpoints, latest-checkpoint discovery, pruning, resume of the Accelerate counter; JSONL logs."""
from __future__ import annotations

import torch

from kan_genomics_hf.training.checkpointing import (
    atomic_directory,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    save_checkpoint,
)
from kan_genomics_hf.training.tracking import JSONLTracker, read_jsonl


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


def test_jsonl_tracker(tmp_path):
    """The JSONL log is an accelerate tracker: `<split>/<name>` keys become one record per split."""
    tracker = JSONLTracker(tmp_path / "log.jsonl")
    tracker.start()
    tracker.log({"train/loss": torch.tensor(0.5), "train/bad": float("nan"), "validation/mcc": 0.25}, step=3)
    tracker.finish()
    with open(tmp_path / "log.jsonl", "a") as fh:
        fh.write('{"truncated": ')
    recs = read_jsonl(tmp_path / "log.jsonl")
    assert len(recs) == 2 and recs[0]["split"] == "train" and recs[1] == {**recs[1], "split": "validation", "mcc": 0.25}
    assert recs[0]["loss"] == 0.5 and recs[0]["bad"] == "nan" and recs[0]["step"] == 3


def test_accelerator_logs_through_jsonl_tracker(tmp_path):
    from accelerate import Accelerator

    from kan_genomics_hf.training.tracking import log_metrics

    acc = Accelerator(cpu=True, log_with=[JSONLTracker(tmp_path / "train_log.jsonl")])
    acc.init_trackers("run")
    log_metrics(acc, {"loss": 1.0, "epoch": 1}, step=2)
    acc.end_training()
    (rec,) = read_jsonl(tmp_path / "train_log.jsonl")
    assert rec["split"] == "train" and rec["loss"] == 1.0 and rec["epoch"] == 1 and rec["step"] == 2
