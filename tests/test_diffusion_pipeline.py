"""DNADiffusionPipeline: valid output, reproducible save/load, guidance semantics, class names, errors, FASTA."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from diffusers import DDIMScheduler, DDPMScheduler, DiffusionPipeline

from kan_genomics_hf import DNADiffusionPipeline, KANUNet1DModel
from kan_genomics_hf.pipelines.dna_diffusion import guided_noise, make_scheduler


@pytest.fixture(scope="module")
def pipe() -> DNADiffusionPipeline:
    torch.manual_seed(0)
    unet = KANUNet1DModel(variant="lkan", sample_size=24, block_out_channels=(8, 16), layers_per_block=1,
                          norm_num_groups=4, num_class_embeds=2, class_names=["K562", "HepG2"])
    p = DNADiffusionPipeline(unet, make_scheduler("ddim", 10))
    p.set_progress_bar_config(disable=True)
    return p


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_default_scheduler_is_ddim_and_output_valid(pipe) -> None:
    assert isinstance(pipe.scheduler, DDIMScheduler)
    assert pipe.scheduler.config.num_train_timesteps == 10
    out = pipe(num_sequences=5, sequence_length=17, class_labels="HepG2", num_inference_steps=4, generator=_gen(),
               batch_size=2)
    assert len(out.sequences) == 5 and all(len(s) == 17 and set(s) <= set("ACGT") for s in out.sequences)
    assert out.onehot.shape == (5, 4, 17) and np.all(out.onehot.sum(1) == 1)
    assert out.class_labels == ["HepG2"] * 5
    # onehot and strings agree
    assert out.sequences[0] == "".join("ACGT"[i] for i in out.onehot[0].argmax(0))
    onehot, seqs, labels = pipe(num_sequences=2, num_inference_steps=2, return_dict=False)
    assert onehot.shape == (2, 4, 24) and len(seqs) == 2 and labels == [None, None]


def test_class_names_and_ids_are_interchangeable(pipe) -> None:
    a = pipe(num_sequences=3, class_labels=["K562", "HepG2", "K562"], num_inference_steps=3, generator=_gen(1))
    b = pipe(num_sequences=3, class_labels=[0, 1, 0], num_inference_steps=3, generator=_gen(1))
    assert a.sequences == b.sequences
    assert pipe.class_names == ["K562", "HepG2"]


def test_guidance_zero_equals_unconditional(pipe) -> None:
    uncond = pipe(num_sequences=4, class_labels=None, num_inference_steps=5, generator=_gen(2)).onehot
    w0 = pipe(num_sequences=4, class_labels="K562", guidance_scale=0.0, num_inference_steps=5, generator=_gen(2)).onehot
    assert np.array_equal(uncond, w0)
    guided = pipe(num_sequences=4, class_labels="K562", guidance_scale=3.0, num_inference_steps=5, generator=_gen(2))
    assert len(guided.sequences) == 4


def test_guidance_formula() -> None:
    c, u = torch.randn(2, 4, 5), torch.randn(2, 4, 5)
    assert torch.equal(guided_noise(c, u, 0.0), u)
    assert torch.allclose(guided_noise(c, u, 1.0), c)
    # paper form (1 + w) c - w u  ==  ours with scale 1 + w
    assert torch.allclose(guided_noise(c, u, 3.0), 3.0 * c - 2.0 * u, atol=1e-6)


def test_save_load_identical_samples(pipe, tmp_path) -> None:
    pipe.save_pretrained(tmp_path)
    for loader in (DNADiffusionPipeline, DiffusionPipeline):
        loaded = loader.from_pretrained(tmp_path)
        assert type(loaded).__name__ == "DNADiffusionPipeline"
        loaded.set_progress_bar_config(disable=True)
        kw = dict(num_sequences=3, class_labels="HepG2", guidance_scale=2.0, num_inference_steps=4)
        assert np.array_equal(pipe(**kw, generator=_gen(5)).onehot, loaded(**kw, generator=_gen(5)).onehot)


def test_ddpm_scheduler_accepted_and_seeded(pipe) -> None:
    ddpm = DNADiffusionPipeline(pipe.unet, make_scheduler("ddpm", 10))
    ddpm.set_progress_bar_config(disable=True)
    assert isinstance(ddpm.scheduler, DDPMScheduler)
    a = ddpm(num_sequences=2, class_labels=1, num_inference_steps=10, generator=_gen(3)).sequences
    b = ddpm(num_sequences=2, class_labels=1, num_inference_steps=10, generator=_gen(3)).sequences
    assert a == b and all(set(s) <= set("ACGT") for s in a)


@pytest.mark.parametrize("prediction_type", ["epsilon", "sample"])
def test_ddim_eta1_over_all_steps_with_clipped_output_is_ddpm(pipe, prediction_type) -> None:
    """DDIM at eta 1 over all T steps draws the same noise as DDPM; with use_clipped_model_output its update is
    DDPM's posterior step from the clipped x0, so the two samplers agree. Without it, diffusers' DDIM mixes the
    clipped x0 with the noise of the unclipped one (a different sampler wherever clipping is active)."""
    unet = pipe.unet
    ddim = DNADiffusionPipeline(unet, make_scheduler("ddim", 10, prediction_type=prediction_type))
    ddpm = DNADiffusionPipeline(unet, make_scheduler("ddpm", 10, prediction_type=prediction_type))
    start = torch.randn(3, 4, 16, generator=_gen(5)) * 3.0  # wide start: x0 predictions get clipped
    runs = {}
    for name, p, kw in [("ddpm", ddpm, {}), ("clipped", ddim, {"use_clipped_model_output": True}),
                        ("default", ddim, {})]:
        p.set_progress_bar_config(disable=True)
        runs[name] = p._sample_chunk([0, 1, None], 16, 10, 1.0, 1.0, _gen(7), start, **kw)
    torch.testing.assert_close(runs["clipped"], runs["ddpm"], rtol=1e-4, atol=1e-4)
    assert (runs["default"] - runs["ddpm"]).abs().max() > 1e-3
    out = ddim(num_sequences=2, class_labels=0, num_inference_steps=10, eta=1.0, generator=_gen(1),
               use_clipped_model_output=True)
    assert len(out.sequences) == 2


def test_errors_name_the_problem(pipe) -> None:
    with pytest.raises(ValueError, match=r"^unknown class name 'GM12878'; known classes: K562, HepG2$"):
        pipe(num_sequences=1, class_labels="GM12878", num_inference_steps=2)
    with pytest.raises(ValueError, match=r"num_inference_steps=50 must be between 1 and the 10 training steps"):
        pipe(num_sequences=1, num_inference_steps=50)
    with pytest.raises(ValueError, match="sequence_length must be a positive int"):
        pipe(num_sequences=1, sequence_length=0, num_inference_steps=2)
    with pytest.raises(ValueError, match="num_sequences"):
        pipe(num_sequences=0)
    with pytest.raises(ValueError, match="got 2 class labels for 3 sequences"):
        pipe(num_sequences=3, class_labels=[0, 1], num_inference_steps=2)
    with pytest.raises(TypeError, match="DDIMScheduler or DDPMScheduler"):
        DNADiffusionPipeline(pipe.unet, object())


def test_fasta(pipe, tmp_path) -> None:
    out = pipe(num_sequences=3, class_labels="K562", num_inference_steps=2, generator=_gen())
    path = out.to_fasta(tmp_path / "gen.fa")
    lines = path.read_text().splitlines()
    assert lines[0] == ">gen0 class=K562" and lines[1] == out.sequences[0] and len(lines) == 6
    from kan_genomics_hf.io.sequences import read_sequences

    assert read_sequences(path) == out.sequences


def test_diffusion_pipeline_loads_when_package_imported_before_diffusers(pipe, tmp_path) -> None:
    """The import hook registers DNADiffusionPipeline with diffusers whatever the import order."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    pipe.save_pretrained(tmp_path / "p")
    root = Path(__file__).resolve().parents[1]
    code = ("import kan_genomics_hf, sys\nassert 'diffusers' not in sys.modules\n"
            "from diffusers import DiffusionPipeline\n"
            f"p = DiffusionPipeline.from_pretrained({str(tmp_path / 'p')!r})\n"
            "p.set_progress_bar_config(disable=True)\n"
            "print(type(p).__name__, len(p(num_sequences=1, num_inference_steps=2).sequences[0]))\n")
    env = {**os.environ, "PYTHONPATH": str(root), "HF_HUB_OFFLINE": "1"}
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300, cwd=root)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "DNADiffusionPipeline 24" in r.stdout


@pytest.fixture(scope="module")
def dhs_pipe(tiny_unet) -> DNADiffusionPipeline:
    names = ["GM12878_ENCLB441ZZZ", "HepG2_ENCLB029COU", "K562_ENCLB843GMH", "hESCT0_ENCLB449ZZZ", "HepG2b_X"]
    p = DNADiffusionPipeline(tiny_unet("baseline", num_class_embeds=5, class_names=names), make_scheduler("ddim", 4))
    p.set_progress_bar_config(disable=True)
    return p


def test_typed_class_names_resolve(dhs_pipe) -> None:
    unet = dhs_pipe.unet
    assert unet.class_id("K562") == 2 and unet.class_id("k562") == 2 and unet.class_id("GM") == 0
    assert unet.class_id("HepG2") == 1  # the part before "_" is exact for HepG2_…, a prefix of HepG2b_X
    assert unet.class_id("hESC") == 3 and unet.class_id("HepG2b") == 4
    out = dhs_pipe(class_labels="K562", num_sequences=2, num_inference_steps=2)
    assert out.class_labels == ["K562_ENCLB843GMH"] * 2


def test_ambiguous_class_name_lists_candidates(dhs_pipe) -> None:
    with pytest.raises(ValueError, match=r"^class name 'Hep' is ambiguous: it matches HepG2_ENCLB029COU, HepG2b_X; "
                                         r"give more of the name$"):
        dhs_pipe(class_labels="Hep", num_inference_steps=2)


def test_batch_size_inferred_from_labels(dhs_pipe) -> None:
    out = dhs_pipe(class_labels=[0, 1, 2], num_inference_steps=2)
    assert out.onehot.shape == (3, 4, 24) and out.class_labels == [dhs_pipe.class_names[i] for i in (0, 1, 2)]
    out = dhs_pipe(class_labels=["K562", "GM"], num_sequences_per_label=2, num_inference_steps=2)
    assert out.class_labels == ["K562_ENCLB843GMH"] * 2 + ["GM12878_ENCLB441ZZZ"] * 2
    assert len(dhs_pipe(num_inference_steps=2).sequences) == 1


@pytest.mark.parametrize("name", ["guidance_scale", "eta"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_guidance_and_eta_rejected(dhs_pipe, name, value) -> None:
    with pytest.raises(ValueError, match=rf"^{name} must be a finite number, got {value!r}$"):
        dhs_pipe(class_labels=0, num_inference_steps=2, **{name: value})


def test_scheduler_is_required(dhs_pipe) -> None:
    with pytest.raises(TypeError, match="scheduler"):
        DNADiffusionPipeline(dhs_pipe.unet)
    with pytest.raises(TypeError, match=r"^scheduler must be a DDIMScheduler or DDPMScheduler .*got NoneType$"):
        DNADiffusionPipeline(dhs_pipe.unet, None)
