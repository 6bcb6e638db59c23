"""train-diffusion presets and the training options behind them: noise schedule, prediction target, min-SNR
weights, learning-rate warm-up / cosine decay (with exact resume), the `cpu` preset on the command line."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from kan_genomics_hf.commands.train_diffusion import build_pipeline
from kan_genomics_hf.training.config import DiffusionTrainingConfig
from kan_genomics_hf.training.diffusion import (
    _lr_scheduler,
    diffusion_target,
    make_noise_scheduler,
    snr_weights,
)
from kan_genomics_hf.training.diffusion import train_diffusion as _train
from kan_genomics_hf.training.presets import DIFFUSION_PRESETS, apply_diffusion_preset, diffusion_preset, field_defaults


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """48 rows of 16 bp, two classes, on chr1..chr4 plus chr8 / chr9 (the preset's test / validation)."""
    rng = np.random.default_rng(0)
    seqs = [("GGGG" if i % 2 else "AAAA") + "".join(rng.choice(list("ACGT"), 12)) for i in range(48)]
    path = tmp_path_factory.mktemp("data") / "toy.csv"
    chroms = ["chr1", "chr2", "chr3", "chr4", "chr8", "chr9"]
    pd.DataFrame({"sequence": seqs, "cell_type": ["cellB" if i % 2 else "cellA" for i in range(48)],
                  "chr": [chroms[i % 6] for i in range(48)]}).to_csv(path, index=False)
    return path


def _cfg(table, out, **kw) -> DiffusionTrainingConfig:
    base = dict(data=str(table), output_dir=str(out), block_out_channels=(8, 16), layers_per_block=1,
                num_train_timesteps=10, batch_size=8, learning_rate=1e-3, val_fraction=0.2, epochs=1,
                save_steps=3, log_every=1, sample_every_epochs=0, sample_steps=3, cpu=True, progress=False)
    base.update(kw)
    return DiffusionTrainingConfig(**base)


def test_v_and_x0_targets_and_min_snr_weights() -> None:
    cfg = DiffusionTrainingConfig(data="x.csv", output_dir="o", num_train_timesteps=20,
                                  beta_schedule="squaredcos_cap_v2", prediction_type="v_prediction", sample_steps=5)
    sched = make_noise_scheduler(cfg)
    assert sched.config.beta_schedule == "squaredcos_cap_v2" and sched.config.prediction_type == "v_prediction"
    x0, noise = torch.randn(3, 4, 6), torch.randn(3, 4, 6)
    t = torch.tensor([0, 9, 19])
    a = sched.alphas_cumprod[t].sqrt()[:, None, None]
    s = (1 - sched.alphas_cumprod[t]).sqrt()[:, None, None]
    torch.testing.assert_close(diffusion_target(sched, x0, noise, t, "v_prediction"), a * noise - s * x0)
    assert diffusion_target(sched, x0, noise, t, "epsilon") is noise
    assert diffusion_target(sched, x0, noise, t, "sample") is x0
    snr = (a / s).flatten() ** 2
    assert snr_weights(sched, t, None, "epsilon") is None
    w = snr_weights(sched, t, 5.0, "epsilon")
    torch.testing.assert_close(w, snr.clamp(max=5.0) / snr)
    assert w[0] < 1 and w[-1] == 1  # low-noise steps (SNR > gamma) are down-weighted, noisy ones keep weight 1
    torch.testing.assert_close(snr_weights(sched, t, 5.0, "v_prediction"), snr.clamp(max=5.0) / (snr + 1))


def _lrs_seen(cfg: DiffusionTrainingConfig, total_steps: int, steps: int) -> list[float]:
    """The learning rate of each of the first `steps` optimizer steps under `_lr_scheduler(cfg)`."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=cfg.learning_rate)
    sched = _lr_scheduler(opt, cfg, total_steps=total_steps)
    seen = []
    for _ in range(steps):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return seen


def test_warmup_then_cosine_decay() -> None:
    cfg = DiffusionTrainingConfig(data="x.csv", output_dir="o", learning_rate=0.1, lr_schedule="cosine",
                                  lr_warmup_steps=4)
    lrs = _lrs_seen(cfg, total_steps=14, steps=14)
    np.testing.assert_allclose(lrs[:5], [0.025, 0.05, 0.075, 0.1, 0.1])
    np.testing.assert_allclose(lrs[9], 0.05 * (1 + math.cos(math.pi * 5 / 10)))
    assert all(a > b for a, b in zip(lrs[4:], lrs[5:])) and lrs[-1] < 0.003
    const = DiffusionTrainingConfig(data="x.csv", output_dir="o", learning_rate=0.1, lr_warmup_steps=2)
    seen = _lrs_seen(const, total_steps=10, steps=5)
    np.testing.assert_allclose(seen, [0.05, 0.1, 0.1, 0.1, 0.1])


@pytest.mark.parametrize("bad, match", [({"beta_schedule": "sigmoid"}, "beta_schedule must be one of"),
                                        ({"prediction_type": "noise"}, "prediction_type must be one of"),
                                        ({"lr_schedule": "step"}, "lr_schedule must be one of"),
                                        ({"lr_warmup_steps": -1}, "lr_warmup_steps must be >= 0"),
                                        ({"snr_gamma": -5.0}, "snr_gamma must be > 0")])
def test_bad_new_options(bad, match) -> None:
    with pytest.raises(ValueError, match=match):
        DiffusionTrainingConfig(data="x.csv", output_dir="o", **bad)


def test_cosine_lr_resume_matches_uninterrupted_run(table, tmp_path) -> None:
    from safetensors.torch import load_file

    kw = dict(lr_schedule="cosine", lr_warmup_steps=2, max_steps=6, beta_schedule="squaredcos_cap_v2",
              prediction_type="v_prediction", snr_gamma=5.0, loss="mse")
    full = _train(_cfg(table, tmp_path / "full", **kw), build_pipeline)
    _train(_cfg(table, tmp_path / "part", **{**kw, "max_steps": 3}), build_pipeline)
    res = _train(_cfg(table, tmp_path / "part", **kw, resume=True), build_pipeline)
    assert full["global_step"] == res["global_step"] == 6
    lrs = [h["lr"] for h in full["history"] if h["split"] == "train"]
    assert lrs[0] == pytest.approx(5e-4) and lrs[1] == pytest.approx(1e-3) and lrs[-1] < lrs[2]
    assert [h["lr"] for h in res["history"] if h["split"] == "train"] == pytest.approx(lrs[3:])
    name = "model/unet/diffusion_pytorch_model.safetensors"
    a, b = load_file(str(tmp_path / "full" / name)), load_file(str(tmp_path / "part" / name))
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=1e-6, msg=k)
    sched = json.loads((tmp_path / "full" / "model" / "scheduler" / "scheduler_config.json").read_text())
    assert sched["prediction_type"] == "v_prediction" and sched["beta_schedule"] == "squaredcos_cap_v2"


def test_cpu_preset_values_and_equal_sizes() -> None:
    from kan_genomics_hf.modeling.unet_kan_1d import KANUNet1DModel

    counts = {}
    for variant in ("baseline", "lkan", "ckan"):
        values = diffusion_preset("cpu", variant)
        cfg = DiffusionTrainingConfig(data="x.csv", output_dir="o", variant=variant, **values)
        assert cfg.val_chromosomes == ("chr9",) and cfg.exclude_chromosomes == ("chr8",)
        assert cfg.lr_schedule == "cosine" and cfg.lr_warmup_steps > 0 and cfg.max_steps >= 1000
        counts[variant] = sum(p.numel() for p in KANUNet1DModel(
            variant=variant, block_out_channels=cfg.block_out_channels, layers_per_block=cfg.layers_per_block,
            num_class_embeds=4, kan_grid_size=cfg.kan_grid_size).parameters())
    assert max(counts.values()) / min(counts.values()) < 1.25, counts  # equal parameter count within 25 %
    assert diffusion_preset("cpu", "ckan")["kan_grid_size"] == 3
    long = diffusion_preset("cpu-long", "lkan")  # the cpu recipe, longer
    assert long["max_steps"] == 20_000 and {k: v for k, v in long.items() if k not in ("max_steps", "save_steps")} == {
        k: v for k, v in diffusion_preset("cpu", "lkan").items() if k not in ("max_steps", "save_steps")}
    with pytest.raises(ValueError, match="unknown train-diffusion preset 'fast'"):
        diffusion_preset("fast", "baseline")


def test_preset_fills_only_default_flags() -> None:
    from kan_genomics_hf.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["train-diffusion", "--data", "x.csv", "--output-dir", "o", "--preset", "cpu",
                              "--variant", "lkan", "--learning-rate", "5e-4"])
    apply_diffusion_preset(args, field_defaults(DiffusionTrainingConfig))
    preset = DIFFUSION_PRESETS["cpu"]
    assert args.learning_rate == 5e-4  # explicit flag wins
    assert args.lr_schedule == preset["lr_schedule"] and args.max_steps == preset["max_steps"]
    assert tuple(args.block_out_channels) == preset["variants"]["lkan"]["block_out_channels"]


def test_preset_keeps_explicit_flags_equal_to_the_default() -> None:
    """--batch-size 64 / --lr-schedule constant are the config defaults; written by the user, the preset must
    not replace them (it once did: values were compared with the default instead of recorded as given)."""
    from kan_genomics_hf.cli import build_parser
    from kan_genomics_hf.commands._common import parse_with_given_flags

    defaults = field_defaults(DiffusionTrainingConfig)
    preset = diffusion_preset("cpu", "baseline")
    assert defaults["batch_size"] == 64 != preset["batch_size"]
    assert defaults["lr_schedule"] == "constant" != preset["lr_schedule"]
    argv = ["train-diffusion", "--data", "x.csv", "--output-dir", "o", "--preset", "cpu", "--batch-size", "64",
            "--lr-schedule", "constant"]
    parser = build_parser()
    args = parse_with_given_flags(parser, argv)
    assert {"batch_size", "lr_schedule", "preset", "data"} <= args.given_flags
    assert "learning_rate" not in args.given_flags
    apply_diffusion_preset(args, defaults)
    assert args.batch_size == 64 and args.lr_schedule == "constant"  # written by the user: kept
    assert args.max_steps == preset["max_steps"] and args.prediction_type == preset["prediction_type"]
    # the parser's defaults are back after the second parse
    assert parser.parse_args(["train-diffusion", "--data", "x.csv", "--output-dir", "o"]).batch_size == 64


def test_help_lists_new_options_with_defaults(capsys) -> None:
    from kan_genomics_hf.cli import main

    with pytest.raises(SystemExit):
        main(["train-diffusion", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for flag, default in (("--beta-schedule", "linear"), ("--prediction-type", "epsilon"),
                          ("--lr-schedule", "constant"), ("--lr-warmup-steps", "0")):
        assert flag in text and f"(default: {default})" in text.split(flag, 2)[-1][:400], flag
    assert "--preset" in text and "--snr-gamma" in text


def test_cli_preset_run(table, tmp_path) -> None:
    from kan_genomics_hf import DNADiffusionPipeline
    from kan_genomics_hf.cli import main

    out = tmp_path / "run"
    assert main(["train-diffusion", "--preset", "cpu", "--data", str(table), "--output-dir", str(out),
                 "--variant", "baseline", "--max-steps", "2", "--num-train-timesteps", "10", "--sample-steps", "5",
                 "--no-progress", "--cpu", "--threads", "1"]) == 0
    res = json.loads((out / "results.json").read_text())
    cfg = res["config"]
    assert res["global_step"] == 2 and cfg["extra"]["preset"] == "cpu"
    assert cfg["lr_schedule"] == "cosine" and list(cfg["block_out_channels"]) == [16, 32]
    assert cfg["val_chromosomes"] == ["chr9"] and cfg["exclude_chromosomes"] == ["chr8"]
    pipe = DNADiffusionPipeline.from_pretrained(out / "model")
    pipe.set_progress_bar_config(disable=True)
    assert pipe.scheduler.config.num_train_timesteps == 10
    seqs = pipe(num_sequences=2, class_labels="cellA", num_inference_steps=5,
                generator=torch.Generator().manual_seed(0)).sequences
    assert len(seqs) == 2 and all(len(s) == 16 for s in seqs)
