"""KAN design options (LegNetConfig), the KAN input monitor, recipe pieces (also inside the trainer, with
EMA checkpoint / resume), the train and benchmark presets and the paired differences: small, offline, fast."""
from __future__ import annotations

import argparse

import pytest
import torch

from kan_genomics_hf import LegNetConfig, LegNetForSequenceClassification, count_parameters
from kan_genomics_hf.modeling.kan_layers import KANLinear
from kan_genomics_hf.modeling.modeling_legnet import LegNetModel, NormedKANLinear
from kan_genomics_hf.training.kan_monitor import KANInputMonitor
from kan_genomics_hf.training.presets import TRAIN_PRESETS, apply_train_preset, field_defaults
from kan_genomics_hf.training.recipe import (
    GridUpdater,
    WeightEMA,
    optimizer_groups,
    parse_grid_update_steps,
    training_loss,
)

TINY = dict(block_sizes=[16, 16, 8], num_labels=2)


def _model(**kw) -> LegNetForSequenceClassification:
    torch.manual_seed(0)
    return LegNetForSequenceClassification(LegNetConfig(variant="lkan", **{**TINY, **kw}))


def _ids(b: int = 6, length: int = 30) -> torch.Tensor:
    return torch.randint(0, 4, (b, length), generator=torch.Generator().manual_seed(1))


def test_paper_counts_unchanged():
    assert count_parameters(LegNetConfig(num_labels=1)) == 2_649_313
    assert count_parameters(LegNetConfig(variant="lkan", num_labels=1)) == 4_990_177
    assert count_parameters(LegNetConfig(variant="lkan", kan_grid_size=20, num_labels=1)) == 8_891_617


@pytest.mark.parametrize("norm", ["layernorm", "batchnorm", "tanh"])
def test_input_norm_is_parameter_free_and_runs(norm):
    model = _model(kan_input_norm=norm)
    assert sum(p.numel() for p in model.parameters()) == count_parameters(model.config)
    assert isinstance(model.legnet.blocks[0].se.fc1, NormedKANLinear)
    out = model(input_ids=_ids(), labels=torch.tensor([0, 1, 0, 1, 0, 1]))
    out.loss.backward()
    assert torch.isfinite(out.loss)


def test_tanh_squash_stays_inside_grid():
    layer = NormedKANLinear(3, 2, "tanh", grid_range=(-2.0, 4.0))
    y = layer.norm(torch.tensor([-100.0, 1.0, 100.0]))
    assert y.min() >= -2.0 and y.max() <= 4.0 and abs(float(y[1]) - 1.0) < 1e-6


def test_conv_input_norm_bounds_every_kan_conv_input_and_keeps_the_state_dict():
    torch.manual_seed(0)
    plain = LegNetForSequenceClassification(LegNetConfig(variant="ckan", **TINY))
    torch.manual_seed(0)
    squashed = LegNetForSequenceClassification(LegNetConfig(variant="ckan", kan_conv_input_norm="tanh", **TINY))
    assert plain.state_dict().keys() == squashed.state_dict().keys()
    assert count_parameters(squashed.config) == count_parameters(plain.config)
    squashed.load_state_dict(plain.state_dict())
    seen: list[torch.Tensor] = []
    hooks = [m.register_forward_pre_hook(lambda _m, a: seen.append(a[0].detach()))
             for m in (squashed.legnet.stem.conv, squashed.head)]
    ids = _ids()
    with torch.no_grad():
        # blow up the trunk's output so the head's input would leave the grid without the squashing
        squashed.legnet.blocks[-1].resize.bn.weight.mul_(50.0)
        plain.legnet.blocks[-1].resize.bn.weight.mul_(50.0)
        out = squashed(input_ids=ids).logits
    for h in hooks:
        h.remove()
    assert len(seen) == 2 and all(float(t.abs().max()) <= 1.0 for t in seen)
    assert not torch.allclose(out, plain(input_ids=ids).logits)  # the option changes the function
    loss = squashed(input_ids=ids, labels=torch.tensor([0, 1, 0, 1, 0, 1])).loss
    loss.backward()
    assert torch.isfinite(loss)
    # a baseline or LKAN has no KAN convolution: the option leaves them unchanged
    torch.manual_seed(0)
    lkan = LegNetForSequenceClassification(LegNetConfig(variant="lkan", kan_conv_input_norm="tanh", **TINY))
    assert lkan.head_squash is None and lkan.legnet.stem.squash is None


@pytest.mark.parametrize("field,value,match", [
    ("kan_input_norm", "rms", "kan_input_norm"),
    ("kan_conv_input_norm", "layernorm", "kan_conv_input_norm"),
    ("kan_scale_noise", -1.0, "kan_scale_noise"),
    ("kan_scale_spline", 0.0, "kan_scale_spline"),
    ("kan_grid_eps", 2.0, "kan_grid_eps"),
])
def test_bad_options_give_one_line_errors(field, value, match):
    with pytest.raises(ValueError, match=match) as err:
        LegNetConfig(variant="lkan", **{field: value})
    assert "\n" not in str(err.value)


def test_spline_init_scale_reaches_layers():
    big, small = _model(kan_scale_noise=1.0), _model(kan_scale_noise=0.01)
    b, s = big.legnet.blocks[0].se.fc1.spline_weight.abs().mean(), small.legnet.blocks[0].se.fc1.spline_weight.abs().mean()
    assert b > 10 * s


def test_drop_full_mask_same_logits_and_training_step():
    model = _model()
    ids = _ids()
    ones = torch.ones_like(ids)
    grads = []
    for drop in (False, True):
        LegNetModel.drop_full_mask = drop
        try:
            m = _model()
            m.train()
            out = m(input_ids=ids, attention_mask=ones, labels=torch.tensor([0, 1, 0, 1, 0, 1]))
            out.loss.backward()
            grads.append(torch.cat([p.grad.reshape(-1) for p in m.parameters() if p.grad is not None]))
        finally:
            LegNetModel.drop_full_mask = True
    torch.testing.assert_close(grads[0], grads[1], atol=1e-5, rtol=1e-4)
    model.eval()
    torch.testing.assert_close(model(input_ids=ids, attention_mask=ones).logits, model(input_ids=ids).logits)


def test_monitor_records_out_of_grid_and_quantiles():
    model = _model()
    mon = KANInputMonitor(model)
    model.train()
    model(input_ids=_ids())
    summary = mon.summary()
    key = "legnet.blocks.0.se.fc1"
    assert 0.0 <= summary[f"{key}/out_of_grid"] <= 1.0 and f"{key}/q50" in summary and "mean_out_of_grid" in summary
    layer = dict(model.named_modules())[key]
    mon.reset()
    layer(torch.full((4, layer.in_features), 10.0))  # all beyond the extended grid
    assert mon.summary()[f"{key}/out_of_grid"] == 1.0
    model.eval()
    mon.reset()
    model(input_ids=_ids())
    assert mon.summary() == {}  # evaluation forwards are not counted
    mon.remove()


def test_monitor_quantiles_see_every_channel():
    # (batch 64, 8 channels, length 101): a stride of numel // 256 = 2 * length would sample only the even channels
    from kan_genomics_hf.modeling.kan_layers import KANConv1d

    conv = KANConv1d(8, 2, 1).train()
    mon = KANInputMonitor(conv)
    x = torch.zeros(64, 8, 101)
    x[:, 1::2] = 3.0  # the odd channels sit beyond the extended grid
    conv(x)
    summary = mon.summary()
    assert summary["/out_of_grid"] == 0.5
    assert summary["/q25"] == 0.0 and summary["/q75"] == 3.0
    mon.remove()


def test_grid_updater_refits_on_schedule_and_preserves_function():
    model = _model()
    mon = KANInputMonitor(model)
    upd = GridUpdater(mon, parse_grid_update_steps("steps:1", 10))
    model.train()
    upd.before_step(1)
    model(input_ids=_ids(32))
    fc1 = model.legnet.blocks[0].se.fc1
    x = mon.last_inputs["legnet.blocks.0.se.fc1"]
    before, grid0 = fc1(x).detach(), fc1.grid.clone()
    assert upd.after_step(1) and upd.done == [1]
    assert not torch.equal(grid0, fc1.grid)
    after = fc1(x).detach()
    assert (after - before).norm() / before.norm() < 0.05


def test_grid_schedule_parsing():
    assert parse_grid_update_steps("epochs:1,2", 10) == {10, 20}
    assert parse_grid_update_steps("every:4", 10) == {4, 8}
    assert parse_grid_update_steps(None, 10) == set()
    with pytest.raises(ValueError, match="grid update schedule"):
        parse_grid_update_steps("sometimes", 10)


def test_optimizer_groups_split_spline_params():
    model = _model()
    groups = optimizer_groups(model, 1e-3, 0.01, spline_lr_scale=0.5, spline_weight_decay=0.0)
    spline = groups[-1]
    assert spline["lr"] == 5e-4 and spline["weight_decay"] == 0.0
    n_spline = sum(1 for m in model.modules() if isinstance(m, KANLinear)) * 2
    assert len(spline["params"]) == n_spline
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))
    with pytest.raises(ValueError, match="spline_lr_scale"):
        optimizer_groups(model, 1e-3, 0.01, spline_lr_scale=0.0)


@pytest.mark.parametrize("scheduler", ["onecycle", "constant"])
def test_spline_lr_scale_survives_the_scheduler(scheduler):
    from kan_genomics_hf.training.config import ClassifierTrainingConfig
    from kan_genomics_hf.training.trainer import build_optimizer, build_scheduler

    args = ClassifierTrainingConfig(output_dir="unused", learning_rate=1e-3, scheduler=scheduler, spline_lr_scale=3.0)
    optimizer = build_optimizer(_model(), args)
    sched = build_scheduler(optimizer, args, total_updates=20, num_processes=1)
    for _ in range(7):  # through warm-up: the spline group keeps 3x the others' rate at every step
        optimizer.step()
        sched.step()
        rates = [g["lr"] for g in optimizer.param_groups]
        assert rates[-1] == pytest.approx(3.0 * rates[0]) and rates[0] == pytest.approx(rates[1])


def test_label_smoothing_loss_and_ema_swap():
    model = _model()
    batch = {"input_ids": _ids(), "labels": torch.tensor([0, 1, 0, 1, 0, 1])}
    assert torch.isclose(training_loss(model, batch), model(**batch).loss)
    smoothed = training_loss(model, batch, 0.2)
    assert torch.isfinite(smoothed) and not torch.isclose(smoothed, model(**batch).loss)
    ema = WeightEMA(model, decay=0.5)
    p = next(model.parameters())
    original = p.detach().clone()
    with torch.no_grad():
        p.add_(1.0)
    ema.update(model)
    with ema.applied(model):
        assert not torch.equal(p, original + 1.0)
    torch.testing.assert_close(p.detach(), original + 1.0)
    with pytest.raises(ValueError, match="ema decay"):
        WeightEMA(model, decay=1.5)


def test_recommended_preset_fills_defaults_only():
    from kan_genomics_hf.commands import train as train_cmd
    from kan_genomics_hf.training.config import ClassifierTrainingConfig

    p = argparse.ArgumentParser()
    train_cmd.add_arguments(p)
    ns = p.parse_args(["--output-dir", "x", "--preset", "recommended", "--epochs", "2", "--config", "kan_grid_size=7"])
    apply_train_preset(ns, field_defaults(train_cmd.ModelOptions, ClassifierTrainingConfig))
    assert ns.epochs == 2  # explicit flag wins
    assert ns.scheduler == "onecycle" and ns.learning_rate == 5e-3 and ns.mixed_precision == "bf16"
    assert ns.config == ["kan_input_norm=tanh", "kan_grid_size=7"]  # user --config entries come last (and win)
    plain = p.parse_args(["--output-dir", "x"])
    apply_train_preset(plain, field_defaults(train_cmd.ModelOptions, ClassifierTrainingConfig))
    assert plain.scheduler == "constant" and plain.config == []
    for flag in ("--label-smoothing", "--ema-decay", "--rc-eval", "--grid-update", "--spline-lr-scale",
                 "--spline-weight-decay", "--no-kan-monitor", "--preset"):
        assert flag in p.format_help()


def test_recommended_preset_keeps_explicit_flags_equal_to_the_default():
    from kan_genomics_hf.commands import train as train_cmd
    from kan_genomics_hf.commands._common import parse_with_given_flags
    from kan_genomics_hf.training.config import ClassifierTrainingConfig

    defaults = field_defaults(train_cmd.ModelOptions, ClassifierTrainingConfig)
    assert defaults["scheduler"] == "constant" != TRAIN_PRESETS["recommended"][0]["scheduler"]
    p = argparse.ArgumentParser()
    train_cmd.add_arguments(p)
    ns = parse_with_given_flags(p, ["--output-dir", "x", "--preset", "recommended", "--scheduler", "constant"])
    apply_train_preset(ns, defaults)
    assert ns.scheduler == "constant"  # written by the user, although equal to the default
    assert ns.learning_rate == TRAIN_PRESETS["recommended"][0]["learning_rate"]


def test_benchmark_presets_and_paired_differences():
    from kan_genomics_hf.commands import benchmark as bench
    from kan_genomics_hf.evaluation.report import paired_differences

    p = argparse.ArgumentParser()
    bench.add_arguments(p)
    full = bench.config_from_args(p.parse_args(["--output-dir", "x", "--preset", "cpu-full"]))
    assert full.size == "200k" and full.max_train is None and full.runs == 3 and full.early_stopping_patience == 2
    assert full.mixed_precision == "no"  # fp32 on CPU (faster than bf16 autocast since the channels-last trunk)
    rec = bench.config_from_args(p.parse_args(["--output-dir", "x", "--preset", "recommended", "--epochs", "2"]))
    assert rec.epochs == 2 and rec.max_train is None and rec.config_overrides.get("kan_input_norm") == "tanh"
    assert rec.mixed_precision == "bf16" and rec.learning_rate == 5e-3 and rec.early_stopping_patience == 3
    mine = bench.config_from_args(p.parse_args(["--output-dir", "x", "--preset", "recommended", "--patience", "0",
                                                "--config", "kan_input_norm=layernorm"]))
    assert mine.early_stopping_patience is None and mine.config_overrides["kan_input_norm"] == "layernorm"
    plain = bench.config_from_args(p.parse_args(["--output-dir", "x"]))
    assert plain.mixed_precision == "no" and plain.early_stopping_patience == 3 and plain.config_overrides == {}
    rc = bench.config_from_args(p.parse_args(["--output-dir", "x", "--preset", "cpu-full", "--recipe",
                                              "rc_augment=0.5", "--recipe", "rc_eval=true"]))
    assert rc.recipe == {"rc_augment": 0.5, "rc_eval": True} and rc.config_overrides.get("kan_input_norm") == "tanh"
    with pytest.raises(ValueError, match=r"unknown recipe option\(s\) \['kernel_size'\].*--config"):
        bench.config_from_args(p.parse_args(["--output-dir", "x", "--recipe", "kernel_size=5"]))
    rows = [{"kind": "main", "dataset": "d", "variant": v, "run": f"seed{s}", "test": {"mcc": m}}
            for v, s, m in [("lkan", 0, 0.6), ("baseline", 0, 0.5), ("lkan", 1, 0.7), ("baseline", 1, 0.5)]]
    d = paired_differences(rows)["d"]
    assert d["n"] == 2 and abs(d["mean"] - 15.0) < 1e-9 and d["lo"] < 15.0 < d["hi"] and d["wins"] == 2
    from kan_genomics_hf.evaluation.report import POOLED, paired_difference_table

    one_seed = rows + [{"kind": "main", "dataset": "e", "variant": v, "run": "seed0", "test": {"mcc": m}}
                       for v, m in [("lkan", 0.4), ("baseline", 0.5)]]
    table = paired_difference_table(one_seed)
    assert "nan" not in table and "n/a (1 run)" in table and "-10.0" in table.replace("−", "-")
    # pooled over datasets: the three pairs (+10, +20, -10) together; only asked for, and only for 2+ datasets
    pooled = paired_differences(one_seed, pooled=True)[POOLED]
    assert pooled["n"] == 3 and abs(pooled["mean"] - 20 / 3) < 1e-9 and pooled["wins"] == 2
    assert POOLED not in paired_differences(one_seed) and POOLED not in paired_differences(rows, pooled=True)
    assert f"| {POOLED} | lkan − baseline | 3 | +6.7 |" in table


def test_rerun_comparison_reads_the_chosen_split_only(tmp_path):
    """scripts/compare_benchmark_reruns.py: one variant's rerun against its earlier runs, on validation."""
    import importlib.util
    import json
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "compare_benchmark_reruns", Path(__file__).resolve().parents[1] / "scripts" / "compare_benchmark_reruns.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)

    def write(folder, values, overrides):
        folder.mkdir()
        with open(folder / "runs.jsonl", "w") as fh:
            for (variant, seed), (val, test) in values.items():
                fh.write(json.dumps({"run_key": f"d|main|{variant}|seed{seed}", "kind": "main", "dataset": "d",
                                     "variant": variant, "run": f"seed{seed}", "seed": seed,
                                     "config_overrides": overrides, "validation": {"mcc": val},
                                     "test": {"mcc": test}}) + "\n")

    write(tmp_path / "old", {("ckan", 0): (0.50, 0.9), ("ckan", 1): (0.60, 0.9), ("lkan", 0): (0.1, 0.1)}, {})
    write(tmp_path / "new", {("ckan", 0): (0.55, 0.0), ("ckan", 1): (0.58, 0.0)}, {"kan_conv_input_norm": "tanh"})
    result = mod.compare([str(tmp_path / "old")], [str(tmp_path / "new")], "ckan", "validation")
    d = result["paired"]["d"]
    assert d["n"] == 2 and abs(d["mean"] - 1.5) < 1e-9 and d["wins"] == 1  # (+5, -2) on validation, not test
    assert "| d | 2 | 55.0 | 56.5 | +1.5 |" in mod.markdown(result)
    with pytest.raises(SystemExit, match="no lkan runs"):
        mod.compare([str(tmp_path / "old")], [str(tmp_path / "new")], "lkan", "validation")


def test_training_time_table_sums_train_seconds_per_dataset_and_model():
    from kan_genomics_hf.evaluation.report import training_time_table

    rows = [{"kind": "main", "dataset": ds, "variant": v, "run": f"seed{s}", "train_seconds": t}
            for ds, v, s, t in [("d", "baseline", 0, 10.0), ("d", "baseline", 1, 20.0), ("d", "lkan", 0, 5.0),
                                ("e", "lkan", 0, 1000.0)]]
    rows.append({"kind": "classical", "dataset": "d", "variant": "kmer_lr", "run": "single"})  # no training time
    lines = training_time_table(rows).splitlines()
    assert lines[0] == "| dataset | LegNet baseline | LKAN | all models |"
    assert lines[2] == "| d | 30 (2) | 5 (1) | 35 |" and lines[3] == "| e | - | 1,000 (1) | 1,000 |"
    assert lines[4] == "| all | 30 | 1,005 | 1,035 |"
    assert training_time_table([rows[-1]]) == ""


def test_claims_table_counts_the_papers_claims_on_the_means():
    from kan_genomics_hf.evaluation.report import aggregate, claims_table

    def rows(ds, means):
        return [{"kind": "main" if v in ("baseline", "lkan", "ckan") else "classical", "dataset": ds, "variant": v,
                 "run": "seed0", "test": {"mcc": m}} for v, m in means.items()]

    agg = aggregate(rows("gue/mouse_2", {"baseline": 0.84, "lkan": 0.86, "ckan": 0.83, "kmer_lr": 0.80})
                    + rows("gue/tf_0", {"baseline": 0.68, "lkan": 0.67, "ckan": 0.61, "kmer_lr": 0.60}))
    table = claims_table(agg).replace("−", "-")
    assert "| gue/mouse_2 | 1 | +2.0 | +0.5 | +3.0 |" in table     # paper LKAN on mouse_2 is 85.5
    assert "| gue/tf_0 | 1 | -1.0 | -0.4 | +1.0 |" in table        # paper LKAN on tf_0 is 67.4
    assert "LKAN ≥ baseline (means): 1/2" in table and "LKAN ≥ paper LKAN: 1/2" in table
    assert "k-mer LR + 2: 1/2" in table


def test_train_cli_rejects_bad_recipe_flags(capsys):
    from kan_genomics_hf.cli import main

    rc = main(["train", "--dataset", "synthetic", "--output-dir", "unused", "--grid-update", "sometimes"])
    assert rc == 1
    err = capsys.readouterr().err.strip()
    assert "grid update schedule" in err and "\n" not in err


def _tiny_data():
    from kan_genomics_hf.data.synthetic import load_synthetic

    return load_synthetic(n_train=128, n_validation=32, n_test=32, length=40, difficulty=0.0, seed=0)


def _tiny_model(seed: int = 0):
    from kan_genomics_hf.models.factory import build_config, build_model

    torch.manual_seed(seed)
    return build_model(build_config("lkan", None, num_labels=2, block_sizes=[8, 8, 8], kernel_size=3))


def _recipe_args(out, **kw):
    from kan_genomics_hf.training.config import ClassifierTrainingConfig

    base = dict(output_dir=str(out), epochs=2, batch_size=32, learning_rate=3e-3, save_steps=2, keep_checkpoints=3,
                progress=False, early_stopping_patience=None, seed=3, ema_decay=0.9, label_smoothing=0.1,
                grid_update="epochs:1", spline_lr_scale=0.5, rc_eval=True)
    return ClassifierTrainingConfig(**{**base, **kw})


def test_trainer_recipe_end_to_end(tmp_path):
    from kan_genomics_hf import DNATokenizer
    from kan_genomics_hf.training.tracking import read_jsonl
    from kan_genomics_hf.training.trainer import TrainerCallback, train_classifier

    seen = []

    class Probe(TrainerCallback):
        def on_step_end(self, loop):
            seen.append([g["lr"] for g in loop.optimizer.param_groups])

    res = train_classifier(_tiny_model(), DNATokenizer(), _tiny_data(), _recipe_args(tmp_path / "run"),
                           callbacks=[Probe()])
    assert res.global_step == 8 and res.test is not None
    assert len(seen[0]) == 3 and seen[0][2] == pytest.approx(0.5 * seen[0][0])  # spline group at half the LR
    kan = [r for r in read_jsonl(tmp_path / "run" / "train_log.jsonl") if r["split"] == "kan"]
    assert len(kan) == 2 and "mean_out_of_grid" in kan[0] and "legnet.blocks.0.se.fc1/out_of_grid" in kan[0]
    assert LegNetConfig.from_pretrained(res.best_dir).rc_averaging is True
    ckpt = sorted((tmp_path / "run" / "checkpoints").iterdir())[-1]
    assert (ckpt / "custom_checkpoint_0.pkl").is_file()  # the EMA state travels with every checkpoint


def test_resumed_run_with_ema_equals_uninterrupted(tmp_path):
    from safetensors.torch import load_file

    from kan_genomics_hf import DNATokenizer
    from kan_genomics_hf.training.trainer import TrainerCallback, train_classifier

    class Crash(RuntimeError):
        pass

    class CrashAt(TrainerCallback):
        def on_step_end(self, loop):
            if loop.state["global_step"] == 3:  # after the step-2 checkpoint, before any later one
                raise Crash("simulated kill")

    ref = train_classifier(_tiny_model(), DNATokenizer(), _tiny_data(), _recipe_args(tmp_path / "ref"))
    with pytest.raises(Crash):
        train_classifier(_tiny_model(), DNATokenizer(), _tiny_data(), _recipe_args(tmp_path / "cut"),
                         callbacks=[CrashAt()])
    resumed = train_classifier(_tiny_model(seed=5), DNATokenizer(), _tiny_data(),
                               _recipe_args(tmp_path / "cut", resume=True))
    assert resumed.global_step == ref.global_step and resumed.best_epoch == ref.best_epoch
    assert resumed.best_validation == pytest.approx(ref.best_validation)
    a = load_file(str(tmp_path / "ref" / "best" / "model.safetensors"))
    b = load_file(str(tmp_path / "cut" / "best" / "model.safetensors"))
    for key in a:
        torch.testing.assert_close(a[key], b[key], msg=key)
