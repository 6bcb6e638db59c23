"""Issue 13, item 2: classifier folders with missing / unexpected tensors, another model_type or NaN weights
are refused by load_classifier, the CLI and the dna-classification pipeline; from_pretrained keeps
transformers' behaviour."""
from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from kan_genomics_hf.cli import main
from kan_genomics_hf.models.loading import load_classifier, save_classifier


@pytest.fixture
def folder(tmp_path, tiny_legnet, dna_tokenizer):
    path = tmp_path / "model"
    save_classifier(tiny_legnet(), dna_tokenizer, path)
    return path


def edit_weights(folder, change):
    file = folder / "model.safetensors"
    tensors = load_file(str(file))
    change(tensors)
    save_file(tensors, str(file), metadata={"format": "pt"})


def drop_head(t):
    for key in [k for k in t if k.startswith("head.")]:
        del t[key]


def test_missing_head_tensors_are_named(folder):
    edit_weights(folder, drop_head)
    with pytest.raises(ValueError, match=r"does not match its config: \{'missing_keys': \[.head"):
        load_classifier(folder)


def test_unexpected_tensor_is_named(folder):
    edit_weights(folder, lambda t: t.update(extra_weight=torch.zeros(2)))
    with pytest.raises(ValueError, match=r"\{'unexpected_keys': \['extra_weight'\]\}"):
        load_classifier(folder)


def test_foreign_model_type_is_refused(folder):
    cfg = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**cfg, "model_type": "bert"}))
    with pytest.raises(ValueError, match=r"model_type is 'bert', not 'kan_legnet', so it is not a kan-genomics"):
        load_classifier(folder)


def test_nan_weights_are_refused(folder):
    def poison(t):
        key = sorted(k for k in t if t[k].is_floating_point())[0]
        t[key] = torch.full_like(t[key], float("nan"))

    edit_weights(folder, poison)
    with pytest.raises(ValueError, match=r"the weights hold NaN/inf in "):
        load_classifier(folder)


@pytest.mark.parametrize("command", [["predict", "{m}", "-s", "ACGTACGT"], ["evaluate", "{m}", "--no-baselines"]])
def test_cli_refuses_missing_head_with_one_line(folder, command, capsys):
    edit_weights(folder, drop_head)
    code = main([c.format(m=folder) for c in command])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and err[-1].startswith(f"error: could not load a classifier from '{folder}': checkpoint")
    assert "missing_keys" in err[-1]


def test_pipeline_refuses_missing_head_but_from_pretrained_keeps_transformers_behaviour(folder):
    from transformers import pipeline

    from kan_genomics_hf import LegNetForSequenceClassification

    edit_weights(folder, drop_head)
    model, info = LegNetForSequenceClassification.from_pretrained(folder, output_loading_info=True)
    assert sorted(info["missing_keys"]) == ["head.bias", "head.weight"]
    with pytest.raises(ValueError, match=r"model.safetensors has missing tensors head.bias, head.weight"):
        pipeline("dna-classification", model=str(folder))


def test_pipeline_refuses_nan_weights(folder):
    from transformers import pipeline

    edit_weights(folder, lambda t: t.update({k: v * float("inf") for k, v in t.items() if k == "head.bias"}))
    with pytest.raises(ValueError, match=r"NaN/inf in head.bias"):
        pipeline("dna-classification", model=str(folder))


def test_cli_does_not_lower_transformers_verbosity():
    from transformers.utils import logging as hf_logging

    from kan_genomics_hf.commands._common import setup_runtime

    hf_logging.set_verbosity_warning()
    setup_runtime(type("Args", (), {"threads": None})())
    assert hf_logging.get_verbosity() == hf_logging.WARNING
