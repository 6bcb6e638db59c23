"""Issue 13, items 6 (pipeline windows) and 8: bad inputs give one-line errors, compressed and BOM FASTA work."""
from __future__ import annotations

import gzip

import pytest

from kan_genomics_hf.cli import main
from kan_genomics_hf.data.loading import load_genomic_dataset
from kan_genomics_hf.models.loading import save_classifier
from kan_genomics_hf.training.config import ClassifierTrainingConfig, DiffusionTrainingConfig

FASTA = "".join(f">s{i} label={i % 2}\nACGTACGTAC\n" for i in range(40))


@pytest.mark.parametrize("lr", [float("nan"), 0.0, float("inf")])
def test_bad_learning_rate_is_refused(tmp_path, lr):
    with pytest.raises(ValueError, match=rf"learning_rate must be a finite number > 0, got {lr}"):
        ClassifierTrainingConfig(output_dir=str(tmp_path), learning_rate=lr)
    with pytest.raises(ValueError, match=rf"learning_rate must be a finite number > 0, got {lr}"):
        DiffusionTrainingConfig(output_dir=str(tmp_path), data="x.csv", learning_rate=lr)


def test_cli_lr_nan_is_one_line(tmp_path, capsys):
    assert main(["train", "--output-dir", str(tmp_path), "--lr", "nan", "--no-baselines"]) == 1
    assert capsys.readouterr().err.strip() == ("error: learning_rate must be a finite number > 0, got nan; pass "
                                                "e.g. --learning-rate 5e-4")


@pytest.mark.parametrize("suffix", [".fna.gz", ".fas.gz", ".fa.bgz"])
def test_compressed_fasta_loads(tmp_path, suffix):
    path = tmp_path / f"data{suffix}"
    with gzip.open(path, "wt") as fh:
        fh.write(FASTA)
    assert load_genomic_dataset(str(path))["train"].features["label"].names == ["0", "1"]


def test_bom_fasta_loads(tmp_path):
    path = tmp_path / "bom.fa"
    path.write_bytes("\ufeff".encode() + FASTA.encode())
    dd = load_genomic_dataset(str(path))
    assert sum(len(dd[s]) for s in dd) == 40


def test_empty_fasta_record_in_train_is_one_line(tmp_path, capsys):
    path = tmp_path / "bad.fa"
    path.write_text(FASTA + ">empty label=1\n")
    assert main(["train", "--dataset", str(path), "--output-dir", str(tmp_path / "o"), "--no-baselines"]) == 1
    assert capsys.readouterr().err.strip() == (f"error: {path}: record 41 ('empty') has no sequence; remove it or "
                                                "add its bases")


@pytest.fixture
def model_dir(tmp_path, tiny_legnet, dna_tokenizer):
    return save_classifier(tiny_legnet(), dna_tokenizer, tmp_path / "m")


def test_predict_reads_fna_gz(model_dir, tmp_path, capsys):
    path = tmp_path / "q.fna.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(">a\nACGTACGT\n>b\nTTTTGGGG\n")
    assert main(["predict", str(model_dir), "-i", str(path)]) == 0
    rows = capsys.readouterr().out.strip().splitlines()
    assert [r.split(",")[0] for r in rows] == ["id", "a", "b"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"window": 2.7}, r"window must be >= 1 and a whole number, got 2.7"),
    ({"stride": 4}, r"stride=4 only applies to window scanning; pass window too"),
    ({"batch_size": 0}, r"batch_size must be >= 1 and a whole number, got 0"),
])
def test_pipeline_rejects_bad_window_arguments(model_dir, kwargs, message):
    from transformers import pipeline

    pipe = pipeline("dna-classification", model=str(model_dir))
    with pytest.raises(ValueError, match=message):
        pipe("ACGTACGTACGTACGT", **kwargs)


def test_pipeline_warns_when_stride_exceeds_window(model_dir):
    from transformers import pipeline

    pipe = pipeline("dna-classification", model=str(model_dir))
    with pytest.warns(UserWarning, match=r"stride=6 > window=4 leaves 2 bp between windows unscored"):
        out = pipe("ACGTACGTACGTACGT", window=4, stride=6)
    assert [(w["start"], w["end"]) for w in out["windows"]] == [(0, 4), (6, 10), (12, 16)]
