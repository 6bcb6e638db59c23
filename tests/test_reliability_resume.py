"""Issue 13, items 4 and 7: a resume must match the checkpoint's dataset, model and key arguments; an output
folder holding another run is refused unless --resume or --overwrite-output-dir."""
from __future__ import annotations

import pytest
import torch

from kan_genomics_hf.data.synthetic import load_synthetic
from kan_genomics_hf.modeling.tokenization_dna import DNATokenizer
from kan_genomics_hf.models.factory import build_config, build_model
from kan_genomics_hf.training.config import ClassifierTrainingConfig
from kan_genomics_hf.training.skeleton import ResumeMismatchError
from kan_genomics_hf.training.trainer import train_classifier


def data(seed=0):
    return load_synthetic(n_train=96, n_validation=32, n_test=32, length=48, difficulty=0.0, seed=seed)


def model(blocks=(8, 8, 8)):
    torch.manual_seed(0)
    return build_model(build_config("lkan", None, num_labels=2, block_sizes=list(blocks), kernel_size=3))


def args(out, **kw):
    return ClassifierTrainingConfig(**{"output_dir": str(out), "epochs": 1, "batch_size": 32, "progress": False,
                                       "early_stopping_patience": None, **kw})


@pytest.fixture
def run(tmp_path):
    train_classifier(model(), DNATokenizer(), data(), args(tmp_path), dataset_name="gue/tf_0")
    return tmp_path


def test_resume_onto_another_dataset_is_refused(run):
    with pytest.raises(ResumeMismatchError, match=r"dataset.name: 'gue/tf_0' \(checkpoint\) vs 'gue/tf_2' \(now\)"):
        train_classifier(model(), DNATokenizer(), data(seed=1), args(run, epochs=2, resume=True,
                                                                      allow_changed_args=True), dataset_name="gue/tf_2")


def test_resume_with_another_architecture_is_refused_before_loading(run):
    with pytest.raises(ResumeMismatchError, match=r"model.block_sizes: \[8, 8, 8\] \(checkpoint\) vs \[8, 8\] \(now\)"):
        train_classifier(model((8, 8)), DNATokenizer(), data(), args(run, epochs=2, resume=True), dataset_name="gue/tf_0")


def test_changed_training_arguments_need_the_flag(run):
    with pytest.raises(ResumeMismatchError, match=r"training.learning_rate: 0.0005 \(checkpoint\) vs 0.001 \(now\).*"
                                                  r"--allow-changed-args"):
        train_classifier(model(), DNATokenizer(), data(), args(run, epochs=2, resume=True, learning_rate=1e-3),
                         dataset_name="gue/tf_0")
    res = train_classifier(model(), DNATokenizer(), data(), args(run, epochs=2, resume=True, learning_rate=1e-3,
                                                                 allow_changed_args=True), dataset_name="gue/tf_0")
    assert res.global_step == 6


def test_folder_with_another_runs_best_is_refused(tmp_path):
    (tmp_path / "best").mkdir()
    (tmp_path / "best" / "model.safetensors").write_bytes(b"old")
    with pytest.raises(FileExistsError, match=r"already holds best of another run: pass --resume to continue it, "
                                              r"--overwrite-output-dir to replace it"):
        train_classifier(model(), DNATokenizer(), data(), args(tmp_path))
    with pytest.raises(FileExistsError, match=r"holds best of an earlier run but no checkpoint to resume from"):
        train_classifier(model(), DNATokenizer(), data(), args(tmp_path, resume=True))
    assert (tmp_path / "best" / "model.safetensors").read_bytes() == b"old"
    res = train_classifier(model(), DNATokenizer(), data(), args(tmp_path, overwrite_output_dir=True))
    assert res.global_step == 3 and (tmp_path / "best" / "model.safetensors").stat().st_size > 100


def test_cli_train_refuses_a_used_folder_with_one_line(tmp_path, capsys):
    from kan_genomics_hf.cli import main

    (tmp_path / "train_log.jsonl").write_text("{}\n")
    code = main(["train", "--output-dir", str(tmp_path), "--no-baselines", "--epochs", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and err[-1] == (f"error: {tmp_path} already holds train_log.jsonl of another run: pass --resume "
                                     "to continue it, --overwrite-output-dir to replace it, or choose another --output-dir")
