"""KANUNet1DModel: shapes for odd lengths, variants, class handling, save/load and input errors."""
from __future__ import annotations

import json
import math

import pytest
import torch
from safetensors.torch import load_file, save_file

from kan_genomics_hf import KANUNet1DModel
from kan_genomics_hf.modeling.configuration_legnet import VARIANTS

TINY = dict(block_out_channels=(8, 16), layers_per_block=1, num_class_embeds=3, norm_num_groups=4,
            class_names=["a", "b", "c"])


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("length", [1, 7, 13, 50])
def test_forward_shapes_odd_lengths(variant: str, length: int) -> None:
    torch.manual_seed(0)
    model = KANUNet1DModel(variant=variant, **TINY)
    x = torch.randn(2, 4, length)
    out = model(x, torch.tensor([3, 40]), torch.tensor([0, 3])).sample
    assert out.shape == (2, 4, length)
    assert torch.isfinite(out).all()


def test_three_levels_and_attention_everywhere() -> None:
    model = KANUNet1DModel(block_out_channels=(8, 8, 16), attention_levels=(0, 1, 2), norm_num_groups=4)
    out = model(torch.randn(1, 4, 37), 5).sample  # unconditional, scalar timestep
    assert out.shape == (1, 4, 37)


def test_issue_small_model_builds_and_variants_differ_in_size() -> None:
    sizes = {}
    for v in VARIANTS:
        m = KANUNet1DModel(variant=v, block_out_channels=(32, 64), num_class_embeds=4)
        assert m(torch.randn(2, 4, 200), 10, torch.tensor([1, 4])).sample.shape == (2, 4, 200)
        sizes[v] = sum(p.numel() for p in m.parameters())
    assert sizes["baseline"] < sizes["lkan"] < sizes["ckan"]
    # documented counts (module docstring) stay true
    assert sizes == {"baseline": 421_668, "lkan": 1_600_292, "ckan": 2_079_524}


def test_null_class_equals_no_labels() -> None:
    torch.manual_seed(0)
    model = KANUNet1DModel(**TINY).eval()
    x = torch.randn(3, 4, 20)
    a = model(x, 7, None).sample
    b = model(x, 7, torch.full((3,), model.null_class_id)).sample
    assert torch.equal(a, b)


def test_save_load_round_trip(tmp_path) -> None:
    torch.manual_seed(0)
    model = KANUNet1DModel(variant="lkan", **TINY).eval()
    model.save_pretrained(tmp_path)
    assert (tmp_path / "diffusion_pytorch_model.safetensors").is_file()
    loaded = KANUNet1DModel.from_pretrained(tmp_path).eval()
    assert loaded.config.class_names == ["a", "b", "c"]
    x = torch.randn(2, 4, 21)
    assert torch.equal(model(x, 3, torch.tensor([0, 2])).sample, loaded(x, 3, torch.tensor([0, 2])).sample)


def test_class_id_mapping_and_errors() -> None:
    model = KANUNet1DModel(**TINY)
    assert model.class_id("b") == 1 and model.class_id(2) == 2
    with pytest.raises(ValueError, match=r"unknown class name 'z'; known classes: a, b, c"):
        model.class_id("z")
    with pytest.raises(ValueError, match="out of range"):
        model.class_id(3)


def test_bad_inputs_named() -> None:
    model = KANUNet1DModel(**TINY)
    with pytest.raises(ValueError, match="channels"):
        model(torch.randn(1, 5, 10), 1)
    with pytest.raises(ValueError, match="length must be >= 1"):
        model(torch.randn(1, 4, 0), 1)
    with pytest.raises(ValueError, match="shape"):
        model(torch.randn(4, 10), 1)
    with pytest.raises(ValueError, match="class_labels must be in 0..3"):
        model(torch.randn(1, 4, 10), 1, torch.tensor([7]))
    with pytest.raises(ValueError, match="variant"):
        KANUNet1DModel(variant="mlp")
    with pytest.raises(ValueError, match="class_names"):
        KANUNet1DModel(num_class_embeds=2, class_names=["x", "x"])
    with pytest.raises(ValueError, match="unconditional"):
        KANUNet1DModel(block_out_channels=(8,), norm_num_groups=4)(torch.randn(1, 4, 5), 1, torch.tensor([0]))


def test_documented_default_size_counts() -> None:
    import kan_genomics_hf.modeling.unet_kan_1d as mod

    for v, n in (("baseline", "5,665,988"), ("lkan", "16,278,212"), ("ckan", "33,088,196")):
        with torch.device("meta"):
            m = KANUNet1DModel(variant=v, num_class_embeds=4)
        assert f"{v} {n}" in mod.__doc__
        assert sum(p.numel() for p in m.parameters()) == int(n.replace(",", ""))


def test_time_embedding_is_the_cos_sin_sinusoid() -> None:
    model = KANUNet1DModel(**TINY)
    t = torch.tensor([0, 3, 49])
    half = 4
    args = t.float()[:, None] * torch.exp(-math.log(10000.0) * torch.arange(half) / half)[None]
    torch.testing.assert_close(model.time_proj(t), torch.cat([args.cos(), args.sin()], dim=-1))


def test_old_checkpoint_with_num_train_timesteps_and_sequential_time_mlp_loads(tmp_path) -> None:
    torch.manual_seed(1)
    model = KANUNet1DModel(variant="lkan", **TINY).eval()
    model.save_pretrained(tmp_path)
    cfg_path = tmp_path / "config.json"
    cfg_path.write_text(json.dumps({**json.loads(cfg_path.read_text()), "num_train_timesteps": 10}))
    weights = tmp_path / "diffusion_pytorch_model.safetensors"
    sd = load_file(weights)
    old = {k.replace("time_embedding.linear_1.", "time_embedding.0.").replace("time_embedding.linear_2.", "time_embedding.2."): v
           for k, v in sd.items()}
    assert "time_embedding.0.weight" in old and "time_embedding.2.bias" in old
    save_file(old, weights)
    loaded = KANUNet1DModel.from_pretrained(tmp_path).eval()
    assert loaded.config.num_train_timesteps == 10  # kept as a hidden key; the scheduler owns it
    x = torch.randn(2, 4, 9)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x, 4, torch.tensor([0, 3])).sample, model(x, 4, torch.tensor([0, 3])).sample)
