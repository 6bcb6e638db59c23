"""The transformers model / config / tokenizer contract (what ModelTesterMixin, ConfigTester and
TokenizerTesterMixin check), written for LegNet: all three variants, tiny configs."""
from __future__ import annotations

import fnmatch
import importlib.resources
import inspect
import logging
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from kan_genomics_hf import DNATokenizer, LegNetConfig, LegNetForSequenceClassification, LegNetModel
from kan_genomics_hf.modeling.configuration_legnet import VARIANTS
from kan_genomics_hf.modeling.kan_layers import KANConv1d, KANLinear

TINY_BLOCKS = [16, 16, 8]  # the conftest factories' blocks

SEQS = ["ACGTACGTAAGGCTTAGC", "ACG", "TTTTGGGGCCCCAAAATT"]


def _config(variant: str, **kw) -> LegNetConfig:
    if variant == "ckan":
        kw.setdefault("ckan_layers", ["all"])  # every conv and the head are KAN layers (grids everywhere)
    return LegNetConfig(variant=variant, block_sizes=TINY_BLOCKS, num_labels=2, **kw)


def _batch(tokenizer: DNATokenizer) -> dict[str, torch.Tensor]:
    return dict(tokenizer(SEQS, padding=True, return_tensors="pt"))


def _kan_layers(model: torch.nn.Module) -> list[torch.nn.Module]:
    return [m for m in model.modules() if isinstance(m, (KANLinear, KANConv1d))]


# --- weights and buffers ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", VARIANTS)
def test_init_weights_after_meta_construction_refills_every_buffer(variant):
    """Built on meta, materialised with garbage, then ``init_weights()``: every tensor is finite and the grids
    equal those of an eagerly built model (the spline fit must not read an unset grid)."""
    config = _config(variant)
    with torch.device("meta"):
        model = LegNetForSequenceClassification(config)
    model.to_empty(device="cpu")
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.fill_(float("nan"))
    model.init_weights()
    eager = LegNetForSequenceClassification(config)
    state, reference = model.state_dict(), eager.state_dict()
    assert not [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    grids = [k for k in state if k.endswith(".grid")]
    assert len(grids) == (0 if variant == "baseline" else len(_kan_layers(model)))
    for key in grids + [k for k in state if "running_" in k or "num_batches" in k]:
        assert torch.equal(state[key], reference[key]), key


@pytest.mark.parametrize("variant", VARIANTS)
def test_classifier_loads_a_saved_trunk_and_initialises_only_the_head(variant, tmp_path, dna_tokenizer):
    torch.manual_seed(0)
    trunk = LegNetModel(_config(variant)).eval()
    trunk.save_pretrained(tmp_path)
    model, info = LegNetForSequenceClassification.from_pretrained(tmp_path, output_loading_info=True)
    head = {"baseline": {"head.weight", "head.bias"}, "lkan": {"head.weight", "head.bias"},
            "ckan": {"head.base_weight", "head.spline_weight", "head.spline_scaler", "head.grid"}}[variant]
    assert set(info["missing_keys"]) == head and not info["unexpected_keys"] and not info["mismatched_keys"]
    for key, value in trunk.state_dict().items():
        assert torch.equal(model.legnet.state_dict()[key], value), key
    assert all(torch.isfinite(v).all() for v in model.state_dict().values() if v.is_floating_point())
    logits = model.eval()(**_batch(dna_tokenizer)).logits
    assert logits.shape == (3, 2) and torch.isfinite(logits).all()


@pytest.mark.parametrize("variant", VARIANTS)
def test_all_tensors_are_parameters_or_buffers(variant):
    """Moving the model moves every tensor it holds: no tensor lives outside parameters and buffers."""
    model = LegNetForSequenceClassification(_config(variant)).to("meta")
    stray = [f"{name}.{attr}" for name, module in model.named_modules() for attr, value in vars(module).items()
             if isinstance(value, torch.Tensor) and not value.is_meta]
    assert stray == []


@pytest.mark.parametrize("variant", VARIANTS)
def test_save_load_round_trip_is_exact_with_no_missing_keys(variant, tmp_path, tiny_legnet, dna_tokenizer):
    model = tiny_legnet(variant, **({"ckan_layers": ["all"]} if variant == "ckan" else {}))
    model.save_pretrained(tmp_path)
    again, info = LegNetForSequenceClassification.from_pretrained(tmp_path, output_loading_info=True)
    assert info == {"missing_keys": set(), "unexpected_keys": set(), "mismatched_keys": set(), "error_msgs": []}
    batch = _batch(dna_tokenizer)
    assert torch.equal(again.eval()(**batch).logits, model(**batch).logits)


@pytest.mark.parametrize("variant", VARIANTS)
def test_loading_with_a_different_head_size_needs_ignore_mismatched_sizes(variant, tmp_path, tiny_legnet):
    tiny_legnet(variant).save_pretrained(tmp_path)
    with pytest.raises(RuntimeError, match="ignore_mismatched_sizes"):
        LegNetForSequenceClassification.from_pretrained(tmp_path, num_labels=3)
    model, info = LegNetForSequenceClassification.from_pretrained(
        tmp_path, num_labels=3, ignore_mismatched_sizes=True, output_loading_info=True)
    mismatched = {key for key, *_ in info["mismatched_keys"]}
    kan_head = {"head.base_weight", "head.spline_weight", "head.spline_scaler"}  # its grid depends on inputs only
    assert mismatched == (kan_head if variant == "ckan" else {"head.weight", "head.bias"})
    assert model.config.num_labels == 3
    assert LegNetModel.from_pretrained(tmp_path, num_labels=3).config.num_labels == 3  # the trunk has no head


# --- outputs ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", VARIANTS)
def test_hidden_states_are_the_stem_and_stage_outputs(variant, tiny_legnet, dna_tokenizer):
    model = tiny_legnet(variant)
    batch = _batch(dna_tokenizer)
    length = batch["input_ids"].shape[1]
    out = model.legnet(**batch, output_hidden_states=True)
    assert [tuple(h.shape) for h in out.hidden_states] == [(3, c, length) for c in TINY_BLOCKS]
    assert torch.equal(out.hidden_states[-1], out.last_hidden_state)
    assert model.legnet(**batch).hidden_states is None
    cls = model(**batch, output_hidden_states=True)
    assert len(cls.hidden_states) == len(TINY_BLOCKS) and torch.equal(cls.hidden_states[-1], out.last_hidden_state)
    as_tuple = model(**batch, output_hidden_states=True, return_dict=False)
    assert len(as_tuple) == 2 and torch.equal(as_tuple[0], cls.logits) and len(as_tuple[1]) == len(TINY_BLOCKS)
    assert len(model.legnet(**batch, output_hidden_states=True, return_dict=False)) == 3


def test_config_output_hidden_states_and_return_dict_are_honoured(tiny_legnet, dna_tokenizer):
    model = tiny_legnet("lkan", output_hidden_states=True)
    batch = _batch(dna_tokenizer)
    assert len(model(**batch).hidden_states) == len(TINY_BLOCKS)
    assert model(**batch, output_hidden_states=False).hidden_states is None
    model.config.return_dict = False
    assert isinstance(model(**batch), tuple) and isinstance(model(**batch, return_dict=True).logits, torch.Tensor)


@pytest.mark.parametrize("variant", VARIANTS)
def test_batched_logits_equal_one_sequence_at_a_time(variant, tiny_legnet, dna_tokenizer):
    model = tiny_legnet(variant)
    batched = model(**_batch(dna_tokenizer)).logits
    single = torch.cat([model(**dna_tokenizer(s, return_tensors="pt")).logits for s in SEQS])
    torch.testing.assert_close(batched, single, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("variant", VARIANTS)
def test_training_step_gives_finite_gradients_to_every_parameter(variant, tiny_legnet, dna_tokenizer):
    model = tiny_legnet(variant).train()
    loss = model(**_batch(dna_tokenizer), labels=torch.tensor([0, 1, 1])).loss
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert missing == []


# --- config -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", VARIANTS)
def test_config_round_trips_and_has_the_common_properties(variant, tmp_path):
    config = _config(variant, id2label={0: "neg", 1: "pos"})
    config.save_pretrained(tmp_path)
    again = LegNetConfig.from_pretrained(tmp_path)
    assert again.to_dict() == config.to_dict()
    assert LegNetConfig.from_json_file(tmp_path / "config.json").to_dict() == config.to_dict()
    assert LegNetConfig.from_dict(config.to_dict()).to_dict() == config.to_dict()
    assert again.model_type == "kan_legnet" and again.num_labels == 2 and again.id2label == {0: "neg", 1: "pos"}
    again.num_labels = 4
    assert len(again.id2label) == 4
    overridden, unused = LegNetConfig.from_pretrained(tmp_path, kernel_size=5, not_a_field=1, return_unused_kwargs=True)
    assert overridden.kernel_size == 5 and unused == {"not_a_field": 1}


# --- tokenizer ----------------------------------------------------------------------------------------------------
def test_tokenizer_conventions(dna_tokenizer, tmp_path):
    tok = dna_tokenizer
    assert tok("") == {"input_ids": [], "attention_mask": []}
    assert tok(["ACG", ""], padding=True)["attention_mask"] == [[1, 1, 1], [0, 0, 0]]
    assert tok.convert_tokens_to_ids(["A", "C", "[PAD]"]) == [0, 1, 5]
    assert tok.convert_ids_to_tokens([3, 4]) == ["T", "N"]
    assert tok.decode(tok("ACGTN")["input_ids"]) == "ACGTN"
    assert tok(SEQS)["input_ids"] == [tok(s)["input_ids"] for s in SEQS]
    assert tok.all_special_tokens and all(tok.convert_tokens_to_ids(t) > 4 for t in tok.all_special_tokens)
    assert tok.get_vocab()["[PAD]"] == tok.pad_token_id == 5 and len(tok) == tok.vocab_size == 10
    tok.save_pretrained(tmp_path)
    again = DNATokenizer.from_pretrained(tmp_path)
    assert again(SEQS, padding=True)["input_ids"] == tok(SEQS, padding=True)["input_ids"]
    assert again.get_vocab() == tok.get_vocab()


def test_tokenizer_warns_once_on_input_longer_than_model_max_length(caplog):
    tok = DNATokenizer(model_max_length=4)
    with caplog.at_level(logging.WARNING, logger="kan_genomics_hf.modeling.tokenization_dna"):
        assert tok("ACGTAC")["input_ids"] == [0, 1, 2, 3, 0, 1]
        tok("ACGTAC")
        assert tok("ACGTAC", truncation=True, max_length=4)["input_ids"] == [0, 1, 2, 3]
    assert [r.getMessage().split(";")[0] for r in caplog.records] == [
        "DNATokenizer: sequence 0 has length 6, longer than the model's maximum of 4 bases"]


# --- items of transformers' ModelTesterMixin checked on our own terms (see bench_results/upstream_contract) ---------
@pytest.mark.parametrize("cls", [LegNetModel, LegNetForSequenceClassification])
def test_main_input_name_is_the_first_forward_argument(cls):
    assert list(inspect.signature(cls.forward).parameters)[1] == cls.main_input_name == "input_ids"


@pytest.mark.parametrize("variant", VARIANTS)
def test_from_pretrained_accepts_a_state_dict_without_a_checkpoint(variant):
    model = LegNetForSequenceClassification(_config(variant))
    again = LegNetForSequenceClassification.from_pretrained(None, config=model.config, state_dict=model.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))


@pytest.mark.parametrize("variant", VARIANTS)
def test_an_empty_checkpoint_reports_every_persistent_tensor_missing(variant, tmp_path):
    """No tensor is silently skipped on load: with nothing usable on disk, every parameter and persistent buffer
    (KAN grids, BatchNorm statistics) is reported missing, and nothing else is."""
    model = LegNetForSequenceClassification(_config(variant))
    model.save_pretrained(tmp_path)
    save_file({"tensor": torch.tensor([1, 2])}, tmp_path / "model.safetensors", metadata={"format": "pt"})
    again, info = LegNetForSequenceClassification.from_pretrained(tmp_path, output_loading_info=True)
    assert set(info["missing_keys"]) == set(again.state_dict())


@pytest.mark.parametrize("variant", VARIANTS)
def test_tuple_and_dict_outputs_agree_with_labels_and_hidden_states(variant, tiny_legnet, dna_tokenizer):
    model = tiny_legnet(variant)
    batch = dict(_batch(dna_tokenizer), labels=torch.tensor([0, 1, 1]), output_hidden_states=True)
    as_dict = model(**batch).to_tuple()
    as_tuple = model(**batch, return_dict=False)
    assert len(as_dict) == len(as_tuple) == 3  # loss, logits, hidden states
    assert torch.equal(as_dict[0], as_tuple[0]) and torch.equal(as_dict[1], as_tuple[1])
    assert all(torch.equal(a, b) for a, b in zip(as_dict[2], as_tuple[2]))


@pytest.mark.parametrize("variant", VARIANTS)
def test_classifier_exports_with_torch_export(variant, tiny_legnet, dna_tokenizer):
    """The graph-capture contract (upstream's TorchScript tests are deprecated; torch.export is the current path)."""
    model = tiny_legnet(variant, **({"ckan_layers": ["all"]} if variant == "ckan" else {}))
    ids = dna_tokenizer(SEQS[0], return_tensors="pt")["input_ids"]
    exported = torch.export.export(model, (), {"input_ids": ids})
    torch.testing.assert_close(exported.module()(input_ids=ids).logits, model(input_ids=ids).logits)


# --- packaging ----------------------------------------------------------------------------------------------------
def test_model_card_template_is_declared_package_data():
    """A non-editable install (``pip install .``) must ship the card template: it is declared as package data and
    importlib.resources finds it where the card writer looks."""
    from kan_genomics_hf.hub.model_card import TEMPLATE_PATH

    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    with open(Path(__file__).resolve().parents[1] / "pyproject.toml", "rb") as f:
        patterns = tomllib.load(f)["tool"]["setuptools"]["package-data"]["kan_genomics_hf.hub"]
    assert any(fnmatch.fnmatch("templates/model_card_template.md", p) for p in patterns), patterns
    resource = importlib.resources.files("kan_genomics_hf.hub") / "templates" / "model_card_template.md"
    assert resource.is_file() and Path(str(resource)).resolve() == TEMPLATE_PATH
    assert "## Evaluation results" in resource.read_text(encoding="utf-8")
