"""LegNet classifiers: exact parameter counts, sizing, padding invariance, losses, save/load, bad inputs."""
from __future__ import annotations

import copy
import json

import pytest
import torch

from kan_genomics_hf import (
    DNATokenizer,
    LegNetConfig,
    LegNetForSequenceClassification,
    LegNetModel,
    count_parameters,
    load_classifier,
    preset_config,
    save_classifier,
    scale_config,
)
from kan_genomics_hf.modeling.configuration_legnet import VARIANTS
from kan_genomics_hf.modeling.sizing import SIZE_PRESETS

TINY = [16, 16, 8, 8]
SEQS = ["ACGTACGTAAGGCTTAGC", "ACG", "TTTTGGGGCCCCAAAATTACGT", "nnACGTRYAcg"]


def tiny(variant: str = "baseline", **kw) -> LegNetConfig:
    kw.setdefault("num_labels", 3)
    if variant == "ckan":
        kw.setdefault("ckan_layers", ["all"])
    kw.setdefault("block_sizes", TINY)
    return LegNetConfig(variant=variant, **kw)


def randomise_bn(model: torch.nn.Module) -> None:
    """Give BatchNorm non-trivial statistics so padding effects would show."""
    g = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g))
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
            m.weight.data.copy_(torch.randn(m.weight.shape, generator=g))
            m.bias.data.copy_(torch.randn(m.bias.shape, generator=g))


@pytest.mark.parametrize(
    "kw,expected",
    [({}, 2_649_313), ({"variant": "lkan"}, 4_990_177), ({"variant": "lkan", "kan_grid_size": 20}, 8_891_617)],
)
def test_exact_parameter_counts_of_the_authors_code(kw, expected):
    config = LegNetConfig(num_labels=1, **kw)
    with torch.device("meta"):
        model = LegNetForSequenceClassification(config)
    assert sum(p.numel() for p in model.parameters()) == expected
    assert count_parameters(config) == expected


@pytest.mark.parametrize(
    "kw",
    [
        {"variant": "ckan"},
        {"variant": "ckan", "ckan_layers": ["all"], "se_type": "bilinear"},
        {"variant": "lkan", "kan_blocks": [0, 2], "se_type": "bilinear", "num_labels": 4},
        {"variant": "ckan", "ckan_layers": ["blocks.1.depthwise", "blocks.0.resize"], "kernel_size": 7},
    ],
)
def test_count_parameters_matches_the_built_model(kw):
    config = LegNetConfig(block_sizes=[24, 16, 16, 8], **kw)
    with torch.device("meta"):
        model = LegNetForSequenceClassification(config)
    assert count_parameters(config) == sum(p.numel() for p in model.parameters())


def test_presets_are_equal_size_across_variants():
    for size in ("50k", "2M", "22M"):
        counts = {v: count_parameters(preset_config(v, size, num_labels=2)) for v in VARIANTS}
        for n in counts.values():
            assert abs(n - SIZE_PRESETS[size]) <= 0.01 * SIZE_PRESETS[size]
            assert all(w % 8 == 0 for w in preset_config("lkan", size).block_sizes)
        assert max(counts.values()) / min(counts.values()) <= 1.02
    scaled = scale_config(LegNetConfig(variant="lkan"), 1_000_000, tolerance=0.02)
    assert abs(count_parameters(scaled) - 1_000_000) <= 20_000
    with pytest.raises(ValueError, match="target_params"):
        scale_config(LegNetConfig(), 0)
    with pytest.raises(ValueError, match="unknown size"):
        preset_config("lkan", "3M")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("se_type", ["simple", "bilinear"])
def test_padded_batch_equals_each_sequence_alone(variant, se_type):
    torch.manual_seed(0)
    model = LegNetForSequenceClassification(tiny(variant, se_type=se_type)).eval()
    randomise_bn(model)
    tok = DNATokenizer()
    with torch.no_grad():
        alone = torch.cat([model(**tok([s], return_tensors="pt")).logits for s in SEQS])
        right = model(**tok(SEQS, padding=True, return_tensors="pt")).logits
        left = model(**tok(SEQS, padding=True, padding_side="left", return_tensors="pt")).logits
        ids_only = model(input_ids=tok(SEQS, padding=True, return_tensors="pt")["input_ids"]).logits
    assert torch.allclose(right, alone, atol=1e-5)
    assert torch.allclose(left, alone, atol=1e-5)
    assert torch.allclose(ids_only, alone, atol=1e-5)  # mask derived from the pad id


def test_base_model_outputs_and_rc_averaging():
    config = tiny("lkan", rc_averaging=True)
    model = LegNetForSequenceClassification(config).eval()
    randomise_bn(model)
    tok = DNATokenizer()
    enc = tok(SEQS, padding=True, return_tensors="pt")
    rc = tok(tok.reverse_complement(SEQS), padding=True, return_tensors="pt")
    with torch.no_grad():
        a, b = model(**enc).logits, model(**rc).logits
        plain = model(**enc, rc_averaging=False).logits
    assert torch.allclose(a, b, atol=1e-5)  # RC averaging makes the model strand-symmetric
    assert not torch.allclose(a, plain, atol=1e-4)
    base = LegNetModel(tiny()).eval()
    out = base(**enc)
    assert out.last_hidden_state.shape == (4, 8, enc["input_ids"].shape[1])
    assert out.pooler_output.shape == (4, 8)


def test_losses_follow_problem_type():
    tok = DNATokenizer()
    enc = tok(SEQS, padding=True, return_tensors="pt")
    single = LegNetForSequenceClassification(tiny(num_labels=3))
    out = single(**enc, labels=torch.tensor([0, 1, 2, 1]))
    assert single.config.problem_type == "single_label_classification" and out.loss.ndim == 0
    out.loss.backward()
    reg = LegNetForSequenceClassification(tiny(num_labels=1))
    assert reg(**enc, labels=torch.randn(4)).loss.ndim == 0 and reg.config.problem_type == "regression"
    multi = LegNetForSequenceClassification(tiny(num_labels=2, problem_type="multi_label_classification"))
    assert torch.isfinite(multi(**enc, labels=torch.tensor([[1.0, 0], [0, 1], [1, 1], [0, 0]])).loss)
    with pytest.raises(ValueError, match="labels must lie in"):
        single(**enc, labels=torch.tensor([0, 1, 5, 1]))


@pytest.mark.parametrize("variant", VARIANTS)
def test_save_load_bit_exact(tmp_path, variant):
    from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification, AutoTokenizer

    model = LegNetForSequenceClassification(tiny(variant, id2label={0: "a", 1: "b", 2: "c"})).eval()
    randomise_bn(model)
    tok = DNATokenizer()
    enc = tok(SEQS, padding=True, return_tensors="pt")
    with torch.no_grad():
        ref = model(**enc).logits
    save_classifier(model, tok, tmp_path / "ckpt")
    files = {p.name for p in (tmp_path / "ckpt").iterdir()}
    assert {"config.json", "model.safetensors", "vocab.json", "tokenizer_config.json", "modeling_legnet.py",
            "configuration_legnet.py", "kan_layers.py", "kan_basis.py", "kan_autograd.py", "dna_encoding.py",
            "tokenization_dna.py"} <= files
    auto_map = json.loads((tmp_path / "ckpt" / "config.json").read_text())["auto_map"]
    assert set(auto_map) == {"AutoConfig", "AutoModel", "AutoModelForSequenceClassification", "AutoTokenizer"}
    loaded = AutoModelForSequenceClassification.from_pretrained(tmp_path / "ckpt").eval()
    assert type(loaded) is LegNetForSequenceClassification
    with torch.no_grad():
        assert torch.equal(loaded(**AutoTokenizer.from_pretrained(tmp_path / "ckpt")(SEQS, padding=True, return_tensors="pt")).logits, ref)
    assert AutoConfig.from_pretrained(tmp_path / "ckpt").id2label[1] == "b"
    assert type(AutoModel.from_pretrained(tmp_path / "ckpt")) is LegNetModel
    m2, t2 = load_classifier(tmp_path / "ckpt")
    with torch.no_grad():
        assert torch.equal(m2(**t2(SEQS, padding=True, return_tensors="pt")).logits, ref)
    # the persistent KAN grid and BN statistics are restored, the non-persistent buffer is refilled
    for (n1, b1), (n2, b2) in zip(model.named_buffers(), loaded.named_buffers()):
        assert n1 == n2 and torch.equal(b1, b2), n1


def test_bad_checkpoint_folders_give_clear_errors(tmp_path):
    model, tok = LegNetForSequenceClassification(tiny()), DNATokenizer()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_classifier(tmp_path / "nope")
    save_classifier(model, tok, tmp_path / "a")
    (tmp_path / "a" / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="has no model.safetensors"):
        load_classifier(tmp_path / "a")
    save_classifier(model, tok, tmp_path / "b")
    weights = tmp_path / "b" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(ValueError, match="corrupted or truncated"):
        load_classifier(tmp_path / "b")
    save_classifier(model, tok, tmp_path / "c")
    (tmp_path / "c" / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="config.json is not valid JSON"):
        load_classifier(tmp_path / "c")
    save_classifier(LegNetForSequenceClassification(tiny(block_sizes=[16, 8])), tok, tmp_path / "d")
    cfg = json.loads((tmp_path / "d" / "config.json").read_text())
    cfg["block_sizes"] = [16, 8, 8]
    (tmp_path / "d" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="does not match its config"):
        load_classifier(tmp_path / "d")


def test_bad_model_inputs_and_configs():
    model = LegNetForSequenceClassification(tiny(max_sequence_length=10)).eval()
    with pytest.raises(ValueError, match="exceeds max_sequence_length=10"):
        model(input_ids=torch.zeros(1, 11, dtype=torch.long))
    with pytest.raises(ValueError, match=r"input_ids must lie in \[0, 10\)"):
        model(input_ids=torch.tensor([[0, 1, 42]]))
    with pytest.raises(ValueError, match="integer tensor"):
        model(input_ids=torch.zeros(1, 5))
    with pytest.raises(ValueError, match="attention_mask shape"):
        model(input_ids=torch.zeros(2, 5, dtype=torch.long), attention_mask=torch.ones(2, 4))
    with pytest.raises(ValueError, match="exactly one of"):
        model()
    with pytest.raises(ValueError, match="inputs_embeds must have shape"):
        model(inputs_embeds=torch.zeros(1, 5, 7))
    with pytest.raises(ValueError, match="variant must be one of"):
        LegNetConfig(variant="mlp")
    with pytest.raises(ValueError, match="ckan_layers entry 'blocks.9.resize'"):
        LegNetConfig(variant="ckan", block_sizes=TINY, ckan_layers=["blocks.9.resize"])
    with pytest.raises(ValueError, match="kan_blocks"):
        LegNetConfig(variant="lkan", block_sizes=TINY, kan_blocks=[3])
    with pytest.raises(ValueError, match="block_sizes"):
        LegNetConfig(block_sizes=[16])


def test_init_is_legnet_and_kan_regulariser():
    model = LegNetForSequenceClassification(LegNetConfig(variant="lkan", block_sizes=[64, 64, 32]))
    w = model.legnet.blocks[0].expand.conv.weight  # k=1, c_out=4*64: std sqrt(2/256)
    assert abs(w.std().item() - (2 / 256) ** 0.5) < 0.01
    assert model.legnet.stem.bn.weight.eq(1).all()
    reg = model.kan_regularization_loss()
    assert reg.item() > 0 and torch.isfinite(reg)
    assert LegNetForSequenceClassification(tiny()).kan_regularization_loss().item() == 0.0


def test_masked_batchnorm_ignores_padding_in_training():
    from kan_genomics_hf.modeling.modeling_legnet import MaskedBatchNorm1d

    torch.manual_seed(0)
    x = torch.randn(3, 4, 6)
    lengths = [6, 2, 4]
    mask = torch.zeros(3, 1, 6)
    for i, n in enumerate(lengths):
        mask[i, :, :n] = 1
    ours, ref = MaskedBatchNorm1d(4), torch.nn.BatchNorm1d(4)
    y = ours(x, mask)
    real = torch.cat([x[i, :, :n] for i, n in enumerate(lengths)], dim=1).unsqueeze(0)  # (1, C, N real)
    y_ref = ref(real)
    y_real = torch.cat([y[i, :, :n] for i, n in enumerate(lengths)], dim=1).unsqueeze(0)
    assert torch.allclose(y_real, y_ref, atol=1e-5)
    assert torch.allclose(ours.running_mean, ref.running_mean, atol=1e-6)
    assert torch.allclose(ours.running_var, ref.running_var, atol=1e-5)
    garbage = x + (1 - mask) * 100.0  # padded positions must not matter
    assert torch.allclose(MaskedBatchNorm1d(4)(garbage, mask) * mask, y * mask, atol=1e-5)
    full = torch.ones(3, 1, 6)
    assert torch.allclose(MaskedBatchNorm1d(4)(x, full), torch.nn.BatchNorm1d(4)(x), atol=1e-5)


def test_count_parameters_of_modules_and_the_width_search_counter():
    from kan_genomics_hf.modeling.sizing import _WidthCounter

    model = LegNetForSequenceClassification(tiny())
    model.head.weight.requires_grad_(False)
    total = sum(p.numel() for p in model.parameters())
    assert count_parameters(model) == total
    assert count_parameters(model, trainable_only=True) == total - model.head.weight.numel()
    with pytest.raises(TypeError, match="nn.Module or a LegNetConfig"):
        count_parameters("lkan")
    for kw in ({"variant": "lkan"}, {"variant": "ckan", "ckan_layers": ["all"], "se_type": "bilinear"}):
        config = LegNetConfig(**kw)
        assert _WidthCounter(config)(list(config.block_sizes)) == count_parameters(config)


def _channels_last(t: torch.Tensor) -> torch.Tensor:
    """The same (B, C, L) values, laid out position-major (the CPU trunk's layout)."""
    return t.transpose(1, 2).contiguous().transpose(1, 2)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # torch's note, for both layers
@pytest.mark.parametrize("kernel_size, groups", [(5, 8), (4, 2), (1, 4), (1, 1), (5, 1)])
@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
def test_channels_last_conv_route_equals_conv1d(kernel_size, groups, layout):
    """LegNet's convolutions run as channels-last Conv2d on CPU: same output and gradients as nn.Conv1d (up to
    float rounding, also for an even kernel's asymmetric 'same' padding), same state dict, output channels-last."""
    from kan_genomics_hf.modeling.modeling_legnet import ChannelsLastConv1d, _is_channels_last

    torch.manual_seed(0)
    fast = ChannelsLastConv1d(16, 16, kernel_size, padding="same", groups=groups, bias=True)
    plain = torch.nn.Conv1d(16, 16, kernel_size, padding="same", groups=groups, bias=True)
    plain.load_state_dict(fast.state_dict())
    assert fast.state_dict().keys() == plain.state_dict().keys()
    x = torch.randn(3, 16, 23)
    if layout == "channels_last":
        x = _channels_last(x)
    outs = []
    for layer in (fast, plain):
        xi = x.clone(memory_format=torch.preserve_format).requires_grad_()
        y = layer(xi)
        (y * torch.arange(y.numel(), dtype=y.dtype).view_as(y).sin()).sum().backward()
        outs.append((y, xi.grad, layer.weight.grad, layer.bias.grad))
        layer.zero_grad()
    assert _is_channels_last(outs[0][0]) and not outs[0][0].is_contiguous()
    for a, b in zip(*outs):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        torch.testing.assert_close(fast(x).float(), plain(x).float(), rtol=2e-2, atol=2e-2)
    ChannelsLastConv1d.cpu_channels_last = False
    try:
        assert fast(x).is_contiguous()  # the switch gives nn.Conv1d's route back
    finally:
        ChannelsLastConv1d.cpu_channels_last = True


def test_masked_batchnorm_channels_last_route_equals_plain_batchnorm():
    """On a channels-last input MaskedBatchNorm1d runs the 4-D kernels: same output, gradient and running stats."""
    from kan_genomics_hf.modeling.modeling_legnet import MaskedBatchNorm1d, _is_channels_last

    torch.manual_seed(0)
    x = torch.randn(4, 6, 11) * 3 + 1
    results = []
    for xi in (_channels_last(x), x.clone()):
        bn = MaskedBatchNorm1d(6).train()
        xi.requires_grad_()
        y = bn(xi)
        (y * torch.linspace(-1, 1, y.numel()).view_as(y)).sum().backward()
        results.append((y, xi.grad, bn.running_mean, bn.running_var))
    assert _is_channels_last(results[0][0]) and not results[0][0].is_contiguous()
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="MaskedBatchNorm1d"):
        MaskedBatchNorm1d(6)(torch.randn(2, 6, 1, 1, 3))


def test_cat_channels_keeps_the_layout_and_equals_torch_cat():
    from kan_genomics_hf.modeling.modeling_legnet import _is_channels_last, cat_channels

    a, b = torch.randn(2, 3, 7), torch.randn(2, 5, 7)
    out = cat_channels([_channels_last(a), _channels_last(b)])
    assert _is_channels_last(out) and not out.is_contiguous()
    torch.testing.assert_close(out, torch.cat([a, b], dim=1), rtol=0, atol=0)
    assert cat_channels([a, b]).is_contiguous()


@pytest.mark.parametrize("variant", ["baseline", "lkan"])
def test_legnet_trunk_stays_channels_last_and_matches_the_conv1d_route(variant):
    """Every (B, C, L) activation of the CPU trunk is channels-last (no layout copies between layers); logits,
    loss gradients and BatchNorm statistics equal nn.Conv1d's contiguous route; outputs are handed back contiguous."""
    from kan_genomics_hf.modeling.modeling_legnet import ChannelsLastConv1d, _is_channels_last

    config = tiny(variant=variant)
    torch.manual_seed(0)
    model = LegNetForSequenceClassification(config).train()
    ids = torch.randint(0, 4, (3, 29))
    labels = torch.tensor([0, 1, 1])
    layouts: list[tuple[str, bool]] = []

    def hook(module, inputs, out):
        if isinstance(out, torch.Tensor) and out.dim() == 3:
            layouts.append((type(module).__name__, _is_channels_last(out) and not out.is_contiguous()))

    handles = [m.register_forward_hook(hook) for m in model.legnet.modules()]
    runs = []
    for route in (True, False):
        ChannelsLastConv1d.cpu_channels_last = route
        try:
            m = copy.deepcopy(model)
            out = m(input_ids=ids, labels=labels, output_hidden_states=True)
            out.loss.backward()
            grads = [p.grad.clone() for p in m.parameters()]
            stats = [b.clone() for name, b in m.named_buffers() if "running" in name]
            runs.append((out.logits, grads, stats))
            if route:
                assert layouts and all(cl for _, cl in layouts), [n for n, cl in layouts if not cl][:5]
                assert all(h.is_contiguous() for h in out.hidden_states)
                assert m.legnet(input_ids=ids).last_hidden_state.is_contiguous()
        finally:
            ChannelsLastConv1d.cpu_channels_last = True
    for h in handles:
        h.remove()
    torch.testing.assert_close(runs[0][0], runs[1][0], rtol=1e-5, atol=1e-6)
    for a, b in zip(runs[0][1] + runs[0][2], runs[1][1] + runs[1][2]):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
