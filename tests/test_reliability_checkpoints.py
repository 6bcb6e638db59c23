"""Issue 13, items 1 and 8: only finite checkpoints are written, a divergence keeps the newest finite one and a
resume from it with a sane learning rate works; unreadable checkpoints fall back; a full disk is one error."""
from __future__ import annotations

import errno

import pytest
import torch

from kan_genomics_hf.data.synthetic import load_synthetic
from kan_genomics_hf.modeling.tokenization_dna import DNATokenizer
from kan_genomics_hf.models.factory import build_config, build_model
from kan_genomics_hf.training.checkpointing import (
    CheckpointError,
    NonFiniteWeightsError,
    checkpoint_problem,
    list_checkpoints,
)
from kan_genomics_hf.training.config import ClassifierTrainingConfig
from kan_genomics_hf.training.trainer import train_classifier


def data():
    return load_synthetic(n_train=128, n_validation=32, n_test=32, length=48, difficulty=0.0, seed=0)


def model():
    torch.manual_seed(0)
    return build_model(build_config("lkan", None, num_labels=2, block_sizes=[8, 8, 8], kernel_size=3))


def args(out, **kw):
    base = dict(output_dir=str(out), epochs=1, batch_size=32, learning_rate=5e-3, save_steps=2, keep_checkpoints=2,
                progress=False, early_stopping_patience=None)
    return ClassifierTrainingConfig(**{**base, **kw})


def names(out):
    return [p.name for p in list_checkpoints(out / "checkpoints")]


def test_divergent_lr_keeps_newest_finite_checkpoint_and_resume_with_sane_lr_works(tmp_path):
    out = tmp_path / "run"
    train_classifier(model(), DNATokenizer(), data(), args(out))  # epoch 1: 4 sane steps
    assert names(out) == ["checkpoint-00000002", "checkpoint-00000004"]
    with pytest.raises(NonFiniteWeightsError, match=r"kept .*checkpoint-00000004 as the newest finite checkpoint"):
        train_classifier(model(), DNATokenizer(), data(),
                         args(out, epochs=3, learning_rate=1e6, resume=True, allow_changed_args=True))
    assert names(out) == ["checkpoint-00000002", "checkpoint-00000004"]
    assert [checkpoint_problem(p) for p in list_checkpoints(out / "checkpoints")] == [None, None]
    res = train_classifier(model(), DNATokenizer(), data(),
                           args(out, epochs=2, learning_rate=1e-3, resume=True, allow_changed_args=True))
    assert res.global_step == 8 and all(torch.isfinite(torch.tensor(list(res.test.values()))))


def test_divergent_lr_from_scratch_writes_no_checkpoint(tmp_path):
    with pytest.raises(NonFiniteWeightsError, match=r"kept no checkpoint \(none was written yet\)"):
        train_classifier(model(), DNATokenizer(), data(), args(tmp_path, epochs=2, learning_rate=1e6))
    assert names(tmp_path) == []


def test_resume_falls_back_from_truncated_weights_and_garbage_state(tmp_path, capsys):
    train_classifier(model(), DNATokenizer(), data(), args(tmp_path, save_steps=1, keep_checkpoints=3))
    ckpts = list_checkpoints(tmp_path / "checkpoints")
    assert [p.name for p in ckpts] == ["checkpoint-00000002", "checkpoint-00000003", "checkpoint-00000004"]
    weights = ckpts[-1] / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    (ckpts[-2] / "trainer_state.json").write_text("garbage{")
    res = train_classifier(model(), DNATokenizer(), data(), args(tmp_path, epochs=2, save_steps=1, resume=True))
    printed = capsys.readouterr().out
    assert "skipping checkpoint-00000004: " in printed and "is truncated or corrupted" in printed
    assert "skipping checkpoint-00000003: " in printed and "is not valid JSON" in printed
    assert "Resumed from" in printed and "checkpoint-00000002 (epoch 0, step 2)" in printed
    assert res.global_step == 8


def test_no_usable_checkpoint_is_one_error(tmp_path):
    train_classifier(model(), DNATokenizer(), data(), args(tmp_path, keep_checkpoints=1))
    (list_checkpoints(tmp_path / "checkpoints")[0] / "trainer_state.json").write_text("[]")
    with pytest.raises(CheckpointError, match=r"no usable checkpoint under .*does not hold a JSON object"):
        train_classifier(model(), DNATokenizer(), data(), args(tmp_path, epochs=2, resume=True))


def test_unreadable_rng_state_is_reported(tmp_path):
    train_classifier(model(), DNATokenizer(), data(), args(tmp_path))
    (list_checkpoints(tmp_path / "checkpoints")[-1] / "random_states_0.pkl").write_bytes(b"not a pickle")
    with pytest.warns(UserWarning, match=r"random_states_0.pkl cannot be read safely .*RNG state is not restored"):
        train_classifier(model(), DNATokenizer(), data(), args(tmp_path, epochs=2, resume=True))


def test_disk_full_is_one_error_and_keeps_previous_checkpoint(tmp_path, monkeypatch):
    from accelerate import Accelerator

    real = Accelerator.save_state
    calls = {"n": 0}

    def filling(self, output_dir=None, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, output_dir, **kw)

    monkeypatch.setattr(Accelerator, "save_state", filling)
    with pytest.raises(CheckpointError, match=r"no space left on the device while writing .*checkpoint-00000004; "
                                              r"free space and resume with --resume \(kept .*checkpoint-00000002\)"):
        train_classifier(model(), DNATokenizer(), data(), args(tmp_path))
    assert names(tmp_path) == ["checkpoint-00000002"]
    assert not any(p.name.startswith(".tmp-") for p in (tmp_path / "checkpoints").iterdir())
