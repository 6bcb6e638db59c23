"""Model cards say what was measured: rows per split and subsampling, effective batch, processes, hardware,
seed, the baselines' rows; the diffusion card names its data file, fences its code, has no blank sections
and readable numbers. Also the recorded training length and the pipeline's out-of-distribution warning."""
from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest
import torch

from kan_genomics_hf.hub.model_card import write_model_card
from kan_genomics_hf.training.cards import classifier_card, diffusion_card
from kan_genomics_hf.training.config import ClassifierTrainingConfig, DiffusionTrainingConfig


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return {parts[i].strip(): parts[i + 1].strip() for i in range(1, len(parts), 2)}


def test_classifier_card_after_max_train_max_eval(tiny_legnet, tmp_path):
    model = tiny_legnet("lkan")
    model.config.training_length = 101
    args = ClassifierTrainingConfig(output_dir=str(tmp_path / "run"), batch_size=64, gradient_accumulation_steps=2,
                                    seed=7)
    rows = {"train": 3000, "validation": 500, "test": 500}
    full = {"train": 32378, "validation": 1000, "test": 500}
    baselines = {"kmer_lr": {"metrics": {"mcc": 0.543}, "train_rows": 3000, "test_rows": 500},
                 "gc_content": {"metrics": {"mcc": 0.1}, "train_rows": 3000, "test_rows": 500}}
    card = classifier_card(model, args, "gue/tf_0", {"mcc": 0.5}, {"mcc": 0.6134, "accuracy": 0.8}, baselines,
                           rows=rows, full_rows=full, num_processes=2, hardware="cuda (NVIDIA H200)")
    text = write_model_card(tmp_path, **card).read_text()
    assert "train split" not in text
    assert ("`gue/tf_0`, rows used per split: train: 3,000 rows (a random subsample of 32,378), validation: "
            "500 rows (a random subsample of 1,000), test: 500 rows (the whole split).") in text
    assert "The subsample was drawn with `--max-train` / `--max-eval`" in text
    assert "Scored on the 500 rows (the whole split) of the test split." in text
    assert "- **effective batch:** 256 (64 x 2 processes x 2 accumulation)" in text
    assert "- **processes:** 2" in text and "- **batch_size:** 64 per process" in text
    assert "- **hardware:** cuda (NVIDIA H200)" in text and "- **seed:** 7" in text
    assert ("Classical baselines (GC content, k-mer logistic regression), trained on the same 3,000 rows and "
            "scored on the same 500 rows as the model") in text
    assert re.search(r"\| kmer_lr\s*\| 0\.543\s*\| 3,000\s*\| 500\s*\|", text)
    assert "- **training length (median, bp):** 101" in text and "0.6134" in text
    # a subsampled test split is named as such in the model-index
    sub = classifier_card(model, args, "gue/tf_0", {"mcc": 0.5}, {"mcc": 0.6}, rows=rows,
                          full_rows={**full, "test": 9000})
    assert sub["dataset_split"] == "test (random 500-row subsample)"


def test_diffusion_card_names_data_fences_code_no_blank_sections(tmp_path):
    table = tmp_path / "sub" / "dnadiffusion_table.csv"
    cfg = DiffusionTrainingConfig(data=str(table.resolve()), output_dir=str(tmp_path / "run"), seed=3)
    results = {"parameters": 2668260, "global_step": 12000, "train_seconds": 123.456,
               "final_val_loss": 36.2000, "final_val_loss_ema": 0.0123456}
    card = diffusion_card(cfg, results, ["cellA", "cellB"])
    text = write_model_card(tmp_path, **card).read_text()
    sections = _sections(text)
    assert sections["Training data"].startswith("`dnadiffusion_table.csv`") and str(tmp_path) not in text
    assert "Not recorded" not in text
    assert all(body for body in sections.values()), [k for k, v in sections.items() if not v]
    assert sections["How to use"].startswith("```python\nfrom kan_genomics_hf import DNADiffusionPipeline")
    assert sections["How to use"].endswith("```")
    assert "- **parameters:** 2,668,260" in text and "- **steps:** 12,000" in text
    assert re.search(r"\| 36\.2\s*\| 0\.01235\s*\|", text) and "36.2000" not in text
    # a relative --data is kept as given
    rel = diffusion_card(DiffusionTrainingConfig(data="data/t.csv", output_dir="run"), results, None)
    assert rel["training_data"].startswith("`data/t.csv`")


def test_trainer_records_training_length(tmp_path):
    from huggingface_hub import ModelCard

    from kan_genomics_hf import DNATokenizer, LegNetForSequenceClassification
    from kan_genomics_hf.data.synthetic import load_synthetic
    from kan_genomics_hf.models.factory import build_config, build_model
    from kan_genomics_hf.training.trainer import train_classifier

    torch.manual_seed(0)
    model = build_model(build_config("baseline", None, num_labels=2, block_sizes=[8, 8], kernel_size=3))
    data = load_synthetic(n_train=64, n_validation=32, n_test=32, length=40, difficulty=0.0, seed=0)
    args = ClassifierTrainingConfig(output_dir=str(tmp_path / "run"), epochs=1, batch_size=32, progress=False,
                                    kan_monitor=False)
    res = train_classifier(model, DNATokenizer(), data, args, dataset_name="synthetic",
                           full_rows={"train": 640, "validation": 32, "test": 32})
    assert LegNetForSequenceClassification.from_pretrained(res.best_dir).config.training_length == 40
    text = ModelCard.load(Path(res.best_dir) / "README.md").text
    assert "train: 64 rows (a random subsample of 640)" in text and "- **hardware:** cpu" in text
    assert "- **effective batch:** 32 (32 x 1 processes x 1 accumulation)" in text


@pytest.fixture()
def ood_pipeline(tiny_legnet, dna_tokenizer, tmp_path):
    from transformers import pipeline

    from kan_genomics_hf.models.loading import save_classifier

    model = tiny_legnet("baseline", id2label={0: "neg", 1: "pos"})
    model.config.training_length = 20
    save_classifier(model, dna_tokenizer, tmp_path / "m")
    return pipeline("dna-classification", model=str(tmp_path / "m"))


def test_pipeline_warns_once_for_out_of_distribution_input(ood_pipeline):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ood_pipeline(["ACGT" * 5, "ACGT" * 5])
        assert not [w for w in caught if "unlike the training data" in str(w.message)]
        ood_pipeline(["ACGT" * 5, "ACGT"])
        ood_pipeline(["N" * 20])
    hits = [str(w.message) for w in caught if "unlike the training data" in str(w.message)]
    assert hits == ["dna-classification: inputs unlike the training data (trained on 20 bp sequences): "
                    "1 shorter than 10 bp (first: seq1); their scores are unreliable"]


def test_pipeline_checks_the_windows_it_scores(ood_pipeline):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ood_pipeline("ACGT" * 30, window=20)  # long, but scanned in 20 bp windows: in distribution
    assert not [w for w in caught if "unlike the training data" in str(w.message)]
