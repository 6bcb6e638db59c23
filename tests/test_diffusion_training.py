"""Diffusion training: a tiny run end to end, exact resume, periodic sampling, CLI and bad inputs."""
from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

from kan_genomics_hf.commands.train_diffusion import build_pipeline
from kan_genomics_hf.data.tables import load_dna_table
from kan_genomics_hf.training.config import DiffusionTrainingConfig
from kan_genomics_hf.training.diffusion import train_diffusion as _train


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), 16)) for _ in range(48)]
    seqs = [("GGGG" if i % 2 else "AAAA") + s[4:] for i, s in enumerate(seqs)]  # a class signal
    path = tmp_path_factory.mktemp("data") / "toy.csv"
    pd.DataFrame({"sequence": seqs, "cell_type": ["cellB" if i % 2 else "cellA" for i in range(48)],
                  "chr": [f"chr{1 + i % 4}" for i in range(48)]}).to_csv(path, index=False)
    return path


def train_diffusion(cfg: DiffusionTrainingConfig) -> dict:
    return _train(cfg, build_pipeline)


def _cfg(table, out, **kw) -> DiffusionTrainingConfig:
    base = dict(data=str(table), output_dir=str(out), block_out_channels=(8, 16), layers_per_block=1,
                num_train_timesteps=10, batch_size=8, learning_rate=1e-3, val_fraction=0.2, epochs=2,
                save_steps=3, log_every=2, sample_every_epochs=0, sample_steps=3, cpu=True)
    base.update(kw)
    return DiffusionTrainingConfig(**base)


def _weights(out) -> dict[str, torch.Tensor]:
    return load_file(str(out / "model" / "unet" / "diffusion_pytorch_model.safetensors"))


def test_resume_matches_uninterrupted_run(table, tmp_path) -> None:
    full = train_diffusion(_cfg(table, tmp_path / "full"))
    assert full["global_step"] == 2 * 4 and full["epochs_completed"] == 2
    part = train_diffusion(_cfg(table, tmp_path / "part", epochs=1))
    assert part["global_step"] == 4
    resumed = train_diffusion(_cfg(table, tmp_path / "part", epochs=2, resume=True))
    assert resumed["global_step"] == 8
    a, b = _weights(tmp_path / "full"), _weights(tmp_path / "part")
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=1e-6, msg=k)
    assert (tmp_path / "part" / "checkpoints").is_dir()
    assert not list((tmp_path / "part" / "checkpoints").glob(".tmp-*"))  # only complete checkpoints remain
    log = [json.loads(line) for line in (tmp_path / "full" / "train_log.jsonl").read_text().splitlines()]
    vals = [r for r in log if r["split"] == "val"]
    assert len(vals) == 2 and all("val_loss" in r and "val_loss_ema" in r for r in vals)


def test_mid_epoch_resume_with_max_steps(table, tmp_path) -> None:
    full = train_diffusion(_cfg(table, tmp_path / "full", epochs=1, max_steps=6, ema_decay=None, loss="mse"))
    train_diffusion(_cfg(table, tmp_path / "part", epochs=1, max_steps=3, ema_decay=None, loss="mse"))
    res = train_diffusion(_cfg(table, tmp_path / "part", epochs=1, max_steps=6, ema_decay=None, loss="mse",
                               resume=True))
    assert full["global_step"] == res["global_step"] == 6
    a, b = _weights(tmp_path / "full"), _weights(tmp_path / "part")
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=1e-6, msg=k)


def test_sampling_metrics_model_card_and_pipeline(table, tmp_path) -> None:
    from kan_genomics_hf import DNADiffusionPipeline

    res = train_diffusion(_cfg(table, tmp_path / "run", variant="lkan", epochs=1, sample_every_epochs=1,
                               sample_num_per_class=4, sample_motifs=False))
    val = [h for h in res["history"] if h["split"] == "val"][-1]
    assert 0 <= val["sample_kmer_js_4"] <= 1 and val["sample_sequences"] == 8
    assert res["class_names"] == ["cellA", "cellB"]
    card = (tmp_path / "run" / "model" / "README.md").read_text()
    assert "diffusers" in card and "lkan" in card
    pipe = DNADiffusionPipeline.from_pretrained(tmp_path / "run" / "model")
    pipe.set_progress_bar_config(disable=True)
    out = pipe(num_sequences=2, class_labels="cellB", num_inference_steps=3)
    assert all(len(s) == 16 for s in out.sequences)
    assert json.loads((tmp_path / "run" / "results.json").read_text())["variant"] == "lkan"


def _last_line(capsys) -> str:
    """The last stderr line (progress bars come before it)."""
    return capsys.readouterr().err.strip().splitlines()[-1]


def test_cli_train_generate_evaluate(table, tmp_path, capsys) -> None:
    from kan_genomics_hf.cli import main

    out = tmp_path / "cli"
    assert main(["train-diffusion", "--data", str(table), "--output-dir", str(out), "--block-out-channels", "8,16",
                 "--num-train-timesteps", "10", "--batch-size", "8", "--max-steps", "2", "--val-fraction", "0.2",
                 "--sample-every-epochs", "0", "--sample-steps", "3", "--cpu", "--threads", "1"]) == 0
    fasta = tmp_path / "gen.fa"
    assert main(["generate", "--model", str(out / "model"), "--num-sequences", "3", "--class", "cellA,cellB",
                 "--steps", "4", "--output", str(fasta)]) == 0
    assert fasta.read_text().count(">") == 6
    assert main(["generate", "--model", str(out / "model"), "--class", "cellC", "--steps", "2",
                 "--output", str(tmp_path / "x.fa")]) == 1
    assert _last_line(capsys) == "error: unknown class name 'cellC'; known classes: cellA, cellB"
    assert main(["generate", "--model", str(out / "model"), "--steps", "11", "--output", str(tmp_path / "x.fa")]) == 1
    assert "num_inference_steps=11" in capsys.readouterr().err
    assert main(["generate", "--model", str(out / "model"), "--class", "cellB", "--num-sequences", "2", "--steps", "2",
                 "--threads", "1", "--cpu", "--output", str(tmp_path / "b.fa")]) == 0
    assert (tmp_path / "b.fa").read_text().count(">gen") == 2 and "class=cellB" in (tmp_path / "b.fa").read_text()
    from kan_genomics_hf.commands.generate import load_pipeline

    (out / "model" / "scheduler" / "scheduler_config.json").write_text(json.dumps({
        **json.loads((out / "model" / "scheduler" / "scheduler_config.json").read_text()),
        "prediction_type": "sample", "beta_schedule": "squaredcos_cap_v2"}))  # as an x0 / cosine model saves it
    for kind in ("ddpm", "ddim"):  # --scheduler keeps the trained schedule and prediction type
        args = argparse.Namespace(model=str(out / "model"), scheduler=kind, cpu=True)
        cfg = load_pipeline(args).scheduler.config
        assert (cfg.prediction_type, cfg.beta_schedule, cfg.num_train_timesteps) == ("sample", "squaredcos_cap_v2", 10)
    assert main(["generate", "--model", str(out / "model"), "--num-sequences", "2", "--steps", "10", "--eta", "1",
                 "--clipped-model-output", "--output", str(tmp_path / "c.fa")]) == 0
    assert (tmp_path / "c.fa").read_text().count(">") == 2
    for flag, value in (("--guidance-scale", "nan"), ("--eta", "inf")):
        assert main(["generate", "--model", str(out / "model"), flag, value, "--output", str(tmp_path / "n.fa")]) == 1
        assert _last_line(capsys) == f"error: {flag} must be a finite number, got {float(value)}"
    assert not (tmp_path / "n.fa").exists()
    (tmp_path / "adir").mkdir()
    assert main(["generate", "--model", str(out / "model"), "--output", str(tmp_path / "adir")]) == 1
    assert _last_line(capsys).startswith(f"error: --output {tmp_path / 'adir'} is a directory; give a file path")
    assert sorted(p.name for p in tmp_path.iterdir() if "adir" in p.name) == ["adir"]  # no adir.tmp left behind
    with pytest.raises(SystemExit):  # argparse: --output is required (nothing is written to a default path)
        main(["generate", "--model", str(out / "model")])
    assert "the following arguments are required: --output" in capsys.readouterr().err
    assert main(["evaluate-generation", "--generated", str(fasta), "--reference", str(table), "--no-plots",
                 "--output-dir", str(tmp_path / "ev")]) == 0
    metrics = json.loads((tmp_path / "ev" / "generation_metrics.json").read_text())["generated"]
    assert {"kmer_js_4", "motif_kl", "gc_wasserstein", "diversity"} <= set(metrics)
    assert main(["evaluate-generation", "--generated", str(fasta), "--reference", str(table), "--no-plots",
                 "--class-column", "cell_type", "--references", "--threads", "1",
                 "--output-dir", str(tmp_path / "ev2")]) == 0
    rows = json.loads((tmp_path / "ev2" / "generation_metrics.json").read_text())
    assert {(r["n_generated"], r["n_reference"]) for r in rows.values()} == {(3.0, 3.0)}
    md = (tmp_path / "ev2" / "generation_metrics.md").read_text()
    assert "every row at n = 3 sequences per side" in md and "## cellA" in md and "## cellB" in md
    assert "| kmer_js_4 | lower |" in md
    assert main(["evaluate-generation", "--generated", str(fasta), "--reference", str(table), "--no-plots",
                 "--filter-column", "cell_type", "--filter-value", "cellZ", "--output-dir", str(tmp_path / "ev3")]) == 1
    assert _last_line(capsys) == "error: unknown class name 'cellZ'; known classes: cellA, cellB"


def test_chromosome_split(table, tmp_path) -> None:
    from kan_genomics_hf.training.diffusion import split_indices

    cfg = _cfg(table, tmp_path, val_chromosomes=("chr2",), exclude_chromosomes=("chr1",))
    _, _, names, groups = load_dna_table(str(table), class_column="cell_type", group_column="chr")
    tr, va = split_indices(len(groups), cfg, groups)
    assert set(groups[va]) == {"chr2"} and set(groups[tr]) == {"chr3", "chr4"} and names == ["cellA", "cellB"]
    with pytest.raises(ValueError, match="no rows on validation chromosomes"):
        split_indices(len(groups), _cfg(table, tmp_path, val_chromosomes=("chrZ",)), groups)
    res = train_diffusion(_cfg(table, tmp_path / "run", val_chromosomes=("chr2",), exclude_chromosomes=("chr1",),
                               max_steps=2))
    assert res["global_step"] == 2


def test_bad_training_inputs(tmp_path, table) -> None:
    with pytest.raises(ValueError, match="loss must be 'mse' or 'huber'"):
        train_diffusion(_cfg(table, tmp_path / "x", loss="l1"))
    with pytest.raises(ValueError, match="sample_steps=20 exceeds num_train_timesteps=10"):
        train_diffusion(_cfg(table, tmp_path / "x", sample_steps=20))
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"sequence": ["ACGT", "ACGTA"], "cell_type": ["a", "b"]}).to_csv(bad, index=False)
    with pytest.raises(ValueError, match="sequence 0 has 4 bp but sequence 1 has 5 bp"):
        load_dna_table(str(bad), class_column="cell_type")
    pd.DataFrame({"sequence": ["ACGT", "ACXT"], "cell_type": ["a", "b"]}).to_csv(bad, index=False)
    with pytest.raises(ValueError, match="sequence 1: invalid character 'X' at position 2"):
        load_dna_table(str(bad))
    with pytest.raises(ValueError, match="no column 'celltype'"):
        load_dna_table(str(bad), class_column="celltype")


def test_push_to_local_hub_and_load_back(table, tmp_path) -> None:
    """train-diffusion --push-to-hub against the localhost Hub server, then from_pretrained from the Hub id."""
    import os
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    from hub_server import LocalHubServer

    root = Path(__file__).resolve().parents[1]
    code = textwrap.dedent(f"""
        import torch
        from kan_genomics_hf.cli import main
        from kan_genomics_hf import DNADiffusionPipeline
        assert main(["train-diffusion", "--data", {str(table)!r}, "--output-dir", {str(tmp_path / "run")!r},
                     "--block-out-channels", "8", "--num-train-timesteps", "5", "--max-steps", "1",
                     "--sample-every-epochs", "0", "--sample-steps", "5", "--cpu",
                     "--push-to-hub", "test-user/dna-gen"]) == 0
        pipe = DNADiffusionPipeline.from_pretrained("test-user/dna-gen")
        pipe.set_progress_bar_config(disable=True)
        print("SEQS", pipe(num_sequences=2, class_labels="cellA", num_inference_steps=5,
                           generator=torch.Generator().manual_seed(0)).sequences)
    """)
    with LocalHubServer() as hub:
        env = {**os.environ, **hub.client_env(), "HF_HOME": str(tmp_path / "hf_home"), "PYTHONPATH": str(root)}
        env.pop("HF_HUB_OFFLINE", None)
        r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300, cwd=root)
        assert r.returncode == 0, r.stderr[-3000:]
        files = set(hub.repos["test-user/dna-gen"].files)
    assert {"model_index.json", "README.md", "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
            "scheduler/scheduler_config.json"} <= files
    assert "SEQS ['" in r.stdout
