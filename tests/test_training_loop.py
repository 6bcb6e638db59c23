"""The Accelerate training loop: end-to-end, early stopping, NaN stop, SIGKILL + --resume equivalence,
and two-process data-parallel training."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from kan_genomics_hf.data.synthetic import load_synthetic
from kan_genomics_hf.models.factory import build_config, build_model
from kan_genomics_hf.training.checkpointing import latest_checkpoint, list_checkpoints
from kan_genomics_hf.training.config import ClassifierTrainingConfig
from kan_genomics_hf.training.trainer import NonFiniteLossError, train_classifier

ROOT = Path(__file__).resolve().parents[1]


def tiny_data(n=160, seed=0):
    return load_synthetic(n_train=n, n_validation=48, n_test=48, length=48, difficulty=0.0, seed=seed)


def tiny_model(variant="lkan", seed=0):
    torch.manual_seed(seed)
    return build_model(build_config(variant, None, num_labels=2, block_sizes=[8, 8, 8], kernel_size=3))


def tok():
    from kan_genomics_hf import DNATokenizer

    return DNATokenizer()


def test_train_end_to_end_saves_loadable_model_with_card(tmp_path):
    from huggingface_hub import ModelCard

    from kan_genomics_hf import LegNetForSequenceClassification
    from kan_genomics_hf.training.tracking import read_jsonl

    args = ClassifierTrainingConfig(output_dir=str(tmp_path / "run"), epochs=2, batch_size=32, learning_rate=5e-3,
                             progress=False, log_every=2, tensorboard=True, rc_augment=0.5, shift_augment=2)
    res = train_classifier(tiny_model(), tok(), tiny_data(), args, dataset_name="synthetic")
    assert res.best_epoch in (1, 2) and set(res.test) >= {"mcc", "accuracy", "roc_auc", "f1"}
    loaded = LegNetForSequenceClassification.from_pretrained(res.best_dir)
    assert loaded.config.id2label == {0: "background", 1: "motif"}
    card = ModelCard.load(Path(res.best_dir) / "README.md")
    assert any(r.metric_type == "mcc" for r in card.data.eval_results)
    log = read_jsonl(tmp_path / "run" / "train_log.jsonl")
    assert {"train", "validation"} <= {r["split"] for r in log} <= {"train", "validation", "kan"}  # kan: KAN input monitor
    assert any((tmp_path / "run" / "tensorboard").iterdir())
    assert json.loads((tmp_path / "run" / "results.json").read_text())["test"]["mcc"] == res.test["mcc"]
    with pytest.raises(FileExistsError, match="resume"):
        train_classifier(tiny_model(), tok(), tiny_data(), args)


def test_early_stopping_and_onecycle(tmp_path):
    args = ClassifierTrainingConfig(output_dir=str(tmp_path), epochs=6, batch_size=64, learning_rate=1e-9,
                             scheduler="onecycle", early_stopping_patience=1, progress=False)
    res = train_classifier(tiny_model("baseline"), tok(), tiny_data(), args)
    assert res.stopped_early and res.global_step < 6 * 3


def test_nan_loss_stops_with_clear_message_and_keeps_checkpoint(tmp_path):
    model = tiny_model()
    forward = model.forward
    calls = {"n": 0}

    def poisoned(*a, **kw):
        out = forward(*a, **kw)
        if model.training:
            calls["n"] += 1
            if calls["n"] >= 5:
                out.loss = out.loss * float("nan")
        return out

    model.forward = poisoned
    args = ClassifierTrainingConfig(output_dir=str(tmp_path), epochs=3, batch_size=32, save_steps=2, progress=False)
    with pytest.raises(NonFiniteLossError, match=r"loss became nan .* Last good checkpoint: .*checkpoint-00000004"):
        train_classifier(model, tok(), tiny_data(), args)
    assert latest_checkpoint(tmp_path / "checkpoints").name == "checkpoint-00000004"


RUN_SCRIPT = textwrap.dedent("""
    import sys, time, torch
    torch.set_num_threads(1)
    sys.path.insert(0, {root!r})
    from tests.test_training_loop import tiny_data, tiny_model, tok
    from kan_genomics_hf.training.config import ClassifierTrainingConfig
    from kan_genomics_hf.training.trainer import train_classifier
    out, resume, slow = sys.argv[1], sys.argv[2] == "1", sys.argv[3] == "1"
    model = tiny_model()
    if slow:  # give the parent time to SIGKILL us mid-run
        fwd = model.forward
        def slow_forward(*a, **kw):
            if model.training:
                time.sleep(0.15)
            return fwd(*a, **kw)
        model.forward = slow_forward
    args = ClassifierTrainingConfig(output_dir=out, epochs=2, batch_size=32, learning_rate=3e-3, save_steps=2,
                             keep_checkpoints=2, resume=resume, progress=False, rc_augment=0.5,
                             early_stopping_patience=None, seed=7)
    train_classifier(model, tok(), tiny_data(), args)
""")


def _run(out: Path, resume: bool, slow: bool) -> subprocess.Popen:
    script = RUN_SCRIPT.format(root=str(ROOT))
    return subprocess.Popen([sys.executable, "-c", script, str(out), "1" if resume else "0", "1" if slow else "0"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})


def test_sigkill_then_resume_equals_uninterrupted(tmp_path):
    from safetensors.torch import load_file

    ref = _run(tmp_path / "ref", resume=False, slow=False)
    killed = _run(tmp_path / "killed", resume=False, slow=True)
    deadline = time.time() + 90
    while time.time() < deadline and len(list_checkpoints(tmp_path / "killed" / "checkpoints")) < 1:
        time.sleep(0.05)
    time.sleep(0.2)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    assert killed.returncode == -signal.SIGKILL
    step_at_kill = int(latest_checkpoint(tmp_path / "killed" / "checkpoints").name.split("-")[1])
    assert step_at_kill < 10  # 2 epochs x 5 steps: the kill came mid-run
    resumed = _run(tmp_path / "killed", resume=True, slow=False)
    out_r, _ = resumed.communicate(timeout=120)
    out_ref, _ = ref.communicate(timeout=120)
    assert resumed.returncode == 0, out_r.decode()[-2000:]
    assert ref.returncode == 0, out_ref.decode()[-2000:]
    assert b"Resumed from" in out_r
    a = load_file(str(tmp_path / "ref" / "best" / "model.safetensors"))
    b = load_file(str(tmp_path / "killed" / "best" / "model.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-6), k
    ra = json.loads((tmp_path / "ref" / "results.json").read_text())
    rb = json.loads((tmp_path / "killed" / "results.json").read_text())
    assert ra["test"] == rb["test"] and ra["global_step"] == rb["global_step"] == 10


def _ddp_worker(out: str) -> None:
    from accelerate import Accelerator, PartialState
    from accelerate.state import AcceleratorState

    torch.set_num_threads(1)
    AcceleratorState._reset_state(reset_partial_state=True)  # in case the launching process used Accelerate
    acc = Accelerator(cpu=True)
    assert acc.num_processes == 2
    args = ClassifierTrainingConfig(output_dir=out, epochs=1, batch_size=16, progress=False, cpu=True)
    res = train_classifier(tiny_model(), tok(), tiny_data(n=128), args, accelerator=acc)
    Path(out, f"rank{PartialState().process_index}.json").write_text(
        json.dumps({"steps": res.global_step, "test": res.test}))


def test_two_process_data_parallel(tmp_path):
    """accelerate.debug_launcher forks two gloo processes; it runs from a fresh interpreter because forking a
    process whose OpenMP/torch thread pools are already running (earlier tests) can deadlock the children."""
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from accelerate import debug_launcher
        from tests.test_training_loop import _ddp_worker
        debug_launcher(_ddp_worker, args=({str(tmp_path)!r},), num_processes=2)
    """)
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr[-3000:]
    r0 = json.loads((tmp_path / "rank0.json").read_text())
    r1 = json.loads((tmp_path / "rank1.json").read_text())
    assert r0 == r1  # gather_for_metrics: both ranks score the full, de-duplicated test set
    assert r0["steps"] == 4  # 128 rows / (2 processes x 16) per step
    assert (tmp_path / "best" / "model.safetensors").is_file()
