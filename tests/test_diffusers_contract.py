"""The diffusers contract, checked on our own terms for every variant (baseline / lkan / ckan, tiny configs).

What diffusers' common model and pipeline tests ask of a ModelMixin / DiffusionPipeline, written for our
classes: save/load round trip, dict vs tuple outputs, batched vs single inference with per-sample
generators, dtype casts, determinism with a generator, per-label batching (diffusers' num_images_per_prompt),
torch.compile(fullgraph=True) without graph breaks and torch.export.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from diffusers import DiffusionPipeline

from kan_genomics_hf import DNADiffusionPipeline, KANUNet1DModel
from kan_genomics_hf.pipelines.dna_diffusion import DNADiffusionPipelineOutput, make_scheduler

VARIANTS = ("baseline", "lkan", "ckan")
NAMES = ["K562_ENCLB843GMH", "HepG2_ENCLB029COU", "GM12878_ENCLB441ZZZ"]


@pytest.fixture(scope="module", params=VARIANTS)
def unet(request, tiny_unet) -> KANUNet1DModel:
    return tiny_unet(request.param, num_class_embeds=3, class_names=NAMES).eval()


@pytest.fixture(scope="module")
def pipe(unet) -> DNADiffusionPipeline:
    p = DNADiffusionPipeline(unet, make_scheduler("ddim", 6))
    p.set_progress_bar_config(disable=True)
    return p


def _inputs(batch: int = 2, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 4, 24, generator=g), torch.tensor([1, 4])[:batch], torch.tensor([0, 3])[:batch]


def _gens(*seeds: int) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(s) for s in seeds]


# ----------------------------------------------------------------------------------------- model
def test_model_save_load_round_trip(unet, tmp_path) -> None:
    unet.save_pretrained(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "diffusion_pytorch_model.safetensors"]
    loaded = KANUNet1DModel.from_pretrained(tmp_path).eval()
    public = [{k: v for k, v in json.loads(m.to_json_string()).items() if not k.startswith("_")} for m in (loaded, unet)]
    assert public[0] == public[1]
    x, t, c = _inputs()
    with torch.no_grad():
        assert torch.equal(unet(x, t, c).sample, loaded(x, t, c).sample)


def test_model_dict_and_tuple_outputs_agree_and_are_deterministic(unet) -> None:
    x, t, c = _inputs()
    with torch.no_grad():
        as_dict = unet(x, t, c)
        as_tuple = unet(x, t, c, return_dict=False)
    assert isinstance(as_tuple, tuple) and len(as_tuple) == 1
    assert torch.equal(as_dict.sample, as_tuple[0]) and torch.equal(as_dict[0], as_tuple[0])
    assert as_dict.sample.shape == x.shape


def test_model_batch_equals_single(unet) -> None:
    x, t, c = _inputs()
    with torch.no_grad():
        batched = unet(x, t, c).sample
        single = torch.cat([unet(x[i:i + 1], t[i:i + 1], c[i:i + 1]).sample for i in range(2)])
    torch.testing.assert_close(batched, single, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
def test_model_dtype_cast(unet, dtype) -> None:
    x, t, c = _inputs()
    cast = KANUNet1DModel.from_config(unet.config).eval()
    cast.load_state_dict(unet.state_dict())
    cast = cast.to(dtype)
    assert cast.dtype == dtype and all(p.dtype == dtype for p in cast.parameters())
    with torch.no_grad():
        out = cast(x.to(dtype), t, c).sample
        ref = unet(x, t, c).sample
    assert out.dtype == dtype and torch.isfinite(out).all()
    tol = 1e-5 if dtype == torch.float64 else 0.1
    torch.testing.assert_close(out.float(), ref, rtol=tol, atol=tol)


def test_model_compiles_without_graph_breaks(unet) -> None:
    """fullgraph=True raises on any graph break; the eager backend checks the tracing without code generation."""
    torch._dynamo.reset()
    compiled = torch.compile(unet, fullgraph=True, backend="eager")
    x, t, c = _inputs()
    with torch.no_grad():
        torch.testing.assert_close(compiled(x, t, c).sample, unet(x, t, c).sample)
        torch.testing.assert_close(compiled(x, t, None).sample, unet(x, t, None).sample)
    torch._dynamo.reset()


def test_model_exports(unet) -> None:
    x, t, c = _inputs()
    exported = torch.export.export(unet, (x, t, c))
    with torch.no_grad():
        torch.testing.assert_close(exported.module()(x, t, c).sample, unet(x, t, c).sample)


def test_eager_class_range_check_kept(unet) -> None:
    with pytest.raises(ValueError, match=r"^class_labels must be in 0\.\.3 \(3 = null class\), got values in 0\.\.7$"):
        unet(*_inputs()[:2], torch.tensor([0, 7]))


# ----------------------------------------------------------------------------------------- pipeline
def test_pipeline_components_rebuild(pipe) -> None:
    assert set(pipe.components) == {"unet", "scheduler"}
    rebuilt = DNADiffusionPipeline(**pipe.components)
    rebuilt.set_progress_bar_config(disable=True)
    kw = dict(class_labels=[0, 2], num_inference_steps=3)
    assert np.array_equal(rebuilt(**kw, generator=_gens(1, 2)).onehot, pipe(**kw, generator=_gens(1, 2)).onehot)


def test_pipeline_save_load_identical_samples(pipe, tmp_path) -> None:
    pipe.save_pretrained(tmp_path)
    assert (tmp_path / "unet" / "diffusion_pytorch_model.safetensors").is_file()
    loaded = DiffusionPipeline.from_pretrained(tmp_path)
    loaded.set_progress_bar_config(disable=True)
    assert type(loaded) is DNADiffusionPipeline and type(loaded.scheduler) is type(pipe.scheduler)
    kw = dict(class_labels="K562", num_sequences=3, guidance_scale=2.0, num_inference_steps=4)
    a, b = pipe(**kw, generator=_gens(7)[0]), loaded(**kw, generator=_gens(7)[0])
    assert np.array_equal(a.onehot, b.onehot) and a.sequences == b.sequences


def test_pipeline_dict_and_tuple_agree(pipe) -> None:
    kw = dict(class_labels=[0, 1], num_inference_steps=3)
    out = pipe(**kw, generator=_gens(3)[0])
    tup = pipe(**kw, generator=_gens(3)[0], return_dict=False)
    assert isinstance(out, DNADiffusionPipelineOutput) and isinstance(tup, tuple) and len(tup) == 3
    assert np.array_equal(out[0], tup[0]) and out[0].shape == (2, 4, 24)
    assert np.array_equal(out.to_tuple()[0], tup[0]) and out.to_tuple()[1:] == tup[1:]
    assert tup[1] == out.sequences and tup[2] == ["K562_ENCLB843GMH", "HepG2_ENCLB029COU"]


def test_pipeline_pt_output_matches_np(pipe) -> None:
    kw = dict(class_labels=1, num_sequences=2, num_inference_steps=3)
    pt = pipe(**kw, generator=_gens(4)[0], output_type="pt").onehot
    assert isinstance(pt, torch.Tensor) and np.array_equal(pt.numpy(), pipe(**kw, generator=_gens(4)[0]).onehot)


@pytest.mark.parametrize("scheduler", ["ddim", "ddpm"])
def test_pipeline_batch_equals_single_with_per_sample_generators(pipe, scheduler) -> None:
    p = DNADiffusionPipeline(pipe.unet, make_scheduler(scheduler, 6))
    p.set_progress_bar_config(disable=True)
    kw = dict(guidance_scale=2.0, num_inference_steps=3, eta=0.5)
    batched = p(class_labels=[0, 1, 2], generator=_gens(10, 11, 12), **kw).onehot
    chunked = p(class_labels=[0, 1, 2], generator=_gens(10, 11, 12), batch_size=2, **kw).onehot
    single = np.concatenate([p(class_labels=[i], generator=_gens(10 + i), **kw).onehot for i in range(3)])
    assert np.array_equal(batched, single) and np.array_equal(batched, chunked)


def test_pipeline_deterministic_with_generator(pipe) -> None:
    kw = dict(class_labels="GM12878", num_sequences=4, num_inference_steps=3)
    a, b = pipe(**kw, generator=_gens(5)[0]).sequences, pipe(**kw, generator=_gens(5)[0]).sequences
    c = pipe(**kw, generator=_gens(6)[0]).sequences
    assert a == b and a != c


def test_pipeline_sequences_per_label(pipe) -> None:
    out = pipe(class_labels=["HepG2", "K562"], num_sequences_per_label=3, num_inference_steps=2)
    assert out.onehot.shape == (6, 4, 24)
    assert out.class_labels == ["HepG2_ENCLB029COU"] * 3 + ["K562_ENCLB843GMH"] * 3
    with pytest.raises(ValueError, match=r"^got 2 generators for 6 sequences \(give one, or one per sequence\)$"):
        pipe(class_labels=["HepG2", "K562"], num_sequences_per_label=3, num_inference_steps=2, generator=_gens(1, 2))


def test_pipeline_dtype_cast(pipe) -> None:
    p = DNADiffusionPipeline(KANUNet1DModel.from_config(pipe.unet.config), pipe.scheduler)
    p.unet.load_state_dict(pipe.unet.state_dict())
    p.set_progress_bar_config(disable=True)
    p.to(dtype=torch.bfloat16)
    assert p.unet.dtype == torch.bfloat16 and p.dtype == torch.bfloat16
    out = p(class_labels=[0, 1], num_inference_steps=2, generator=_gens(1, 2))
    assert out.onehot.dtype == np.float32 and np.all(out.onehot.sum(1) == 1)


def test_pipeline_progress_bar(pipe, capsys) -> None:
    p = DNADiffusionPipeline(pipe.unet, pipe.scheduler)
    p(class_labels=0, num_inference_steps=3)
    assert "3/3" in capsys.readouterr().err
    p.set_progress_bar_config(disable=True)
    p(class_labels=0, num_inference_steps=3)
    assert capsys.readouterr().err == ""


def test_model_sharded_save_load_round_trip(unet, tmp_path) -> None:
    """Checkpoints split into shards (max_shard_size) load back exactly, KAN grid buffers included."""
    unet.save_pretrained(tmp_path, max_shard_size="20KB")
    assert (tmp_path / "diffusion_pytorch_model.safetensors.index.json").is_file()
    assert len(list(tmp_path.glob("*.safetensors"))) > 1
    loaded = KANUNet1DModel.from_pretrained(tmp_path).eval()
    x, t, c = _inputs()
    with torch.no_grad():
        assert torch.equal(unet(x, t, c).sample, loaded(x, t, c).sample)


def test_pipeline_latents_replace_the_drawn_noise(pipe) -> None:
    """diffusers' ``latents``: the given starting noise is used instead of the generator's draw (DDIM, eta=0)."""
    kw = dict(class_labels=[0, 2, 1], num_inference_steps=3)
    noise = torch.randn(3, 4, 24, generator=_gens(8)[0])
    drawn = pipe(**kw, generator=_gens(8)[0]).onehot
    given = pipe(**kw, latents=noise)
    assert np.array_equal(given.onehot, drawn) and given.onehot.shape == (3, 4, 24)
    assert np.array_equal(pipe(**kw, latents=noise, batch_size=2).onehot, drawn)  # split across chunks
    assert pipe(class_labels=0, num_sequences=2, num_inference_steps=2, latents=torch.randn(2, 4, 9)).onehot.shape == (2, 4, 9)
    with pytest.raises(ValueError, match=r"^latents must be a float tensor of shape \(3, 4, 24\) \(sequences, channels, "
                                         r"length\), got \(2, 4, 24\)$"):
        pipe(**kw, latents=noise[:2], sequence_length=24)
