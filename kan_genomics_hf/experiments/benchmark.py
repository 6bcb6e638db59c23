"""The paper's benchmark: datasets x {baseline, lkan, ckan} x runs (seeds or folds) at matched parameter
count, beside the two classical baselines; plus the grid-size sweep and the blocks-replaced ablation.

Every finished run is appended to `<output_dir>/runs.jsonl` at once, so an interrupted benchmark keeps
its results and a rerun skips what is done. `kan_genomics_hf.evaluation.report` turns the rows into the
tables (Markdown/CSV/JSON) and plots.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..data.protocols import protocol_runs, subsample


@dataclass
class BenchmarkConfig:
    """What to run; sizes/epochs/runs are arguments so the same code serves GPU (paper) and CPU presets."""

    datasets: list[str]
    output_dir: str
    variants: list[str] = field(default_factory=lambda: ["baseline", "lkan", "ckan"])
    size: str | None = "200k"
    config_overrides: dict[str, Any] = field(default_factory=dict)
    protocol: str = "seeds"
    runs: int = 3
    seed: int = 0
    epochs: int = 10
    batch_size: int = 64
    learning_rate: float = 5e-4
    weight_decay: float = 0.005
    scheduler: str = "constant"
    mixed_precision: str = "no"
    early_stopping_patience: int | None = 3
    max_train: int | None = None
    max_eval: int | None = None
    data_dir: str | None = None
    dataset_options: dict[str, Any] = field(default_factory=dict)
    baselines: bool = True
    grid_sizes: list[int] = field(default_factory=list)  # LKAN grid-size sweep (fixed widths)
    ablation_blocks: bool = False  # LKAN with KAN SE in the first n stages, n = 0..stages
    sweep_dataset: str | None = None  # dataset for sweep/ablation (default: first)
    keep_models: bool = False  # keep every run's best/ folder (else deleted after scoring)
    progress: bool = True
    cpu: bool = False


def _done(path: Path) -> dict[str, dict[str, Any]]:
    rows = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            rows[row["run_key"]] = row
    return rows


def _append(path: Path, row: dict[str, Any]) -> None:
    with open(path, "a") as fh:
        fh.write(json.dumps(row) + "\n")


def _train_one(cfg: BenchmarkConfig, dd, dataset: str, variant: str, run_id: str, seed: int, out: Path,
               size: str | None, overrides: dict[str, Any], kind: str) -> dict[str, Any]:
    import shutil

    import torch

    from ..modeling.tokenization_dna import DNATokenizer
    from ..models.factory import build_config, build_model, count_params, flops_per_sequence
    from ..training.trainer import TrainingArguments, train_classifier

    num_labels = dd["train"].features["label"].num_classes
    torch.manual_seed(seed)
    config = build_config(variant, size, num_labels=num_labels, **overrides)
    model = build_model(config)
    lengths = [len(s) for s in dd["train"].select(range(min(len(dd["train"]), 500)))["sequence"]]
    length = int(sorted(lengths)[len(lengths) // 2])
    run_dir = out / "runs" / f"{dataset.replace('/', '_')}__{kind}__{variant}__{run_id}"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    args = TrainingArguments(
        output_dir=str(run_dir), epochs=cfg.epochs, batch_size=cfg.batch_size, learning_rate=cfg.learning_rate,
        weight_decay=cfg.weight_decay, scheduler=cfg.scheduler, mixed_precision=cfg.mixed_precision, seed=seed,
        early_stopping_patience=cfg.early_stopping_patience, progress=cfg.progress, cpu=cfg.cpu, keep_checkpoints=1)
    t0 = time.time()
    result = train_classifier(model, DNATokenizer(), dd, args, dataset_name=dataset)
    seconds = time.time() - t0
    steps = max(result.global_step, 1)
    row = {"dataset": dataset, "variant": variant, "run": run_id, "seed": seed, "kind": kind,
           "params": count_params(model), "flops": flops_per_sequence(model, length), "length": length,
           "grid_size": config.kan_grid_size if variant != "baseline" else None,
           "kan_blocks": overrides.get("kan_blocks"), "size": size,
           "test": result.test, "validation": result.best_validation, "best_epoch": result.best_epoch,
           "train_seconds": round(seconds, 2), "seconds_per_step": round(seconds / steps, 4),
           "steps": result.global_step, "n_train": len(dd["train"])}
    if not cfg.keep_models:
        shutil.rmtree(run_dir, ignore_errors=True)
    return row


def _load(cfg: BenchmarkConfig, dataset: str):
    from ..data.loading import load_genomic_dataset

    dd = load_genomic_dataset(dataset, data_dir=cfg.data_dir, **cfg.dataset_options.get(dataset, {}))
    return subsample(dd, cfg.max_train, cfg.max_eval, seed=cfg.seed)


def run_benchmark(cfg: BenchmarkConfig) -> list[dict[str, Any]]:
    """Run (or finish) the benchmark; returns all rows (also in runs.jsonl)."""
    from ..evaluation.baselines import run_baselines

    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmark_config.json").write_text(json.dumps(asdict(cfg), indent=2))
    log = out / "runs.jsonl"
    done = _done(log)

    def record(row: dict[str, Any]) -> None:
        done[row["run_key"]] = row
        _append(log, row)

    for dataset in cfg.datasets:
        dd = _load(cfg, dataset)
        if cfg.baselines:
            key = f"{dataset}|classical"
            if not all(f"{key}|{name}" in done for name in ("gc_content", "kmer_lr")):
                for name, res in run_baselines(dd, seed=cfg.seed).items():
                    record({"run_key": f"{key}|{name}", "dataset": dataset, "variant": name, "run": "single",
                            "kind": "classical", "params": res["params"], "test": res["metrics"], "k": res.get("k"),
                            "n_train": len(dd["train"])})
        for run_id, seed, split_dd in protocol_runs(dd, cfg.protocol, cfg.runs, cfg.seed):
            for variant in cfg.variants:
                key = f"{dataset}|main|{variant}|{run_id}"
                if key in done:
                    continue
                row = _train_one(cfg, split_dd, dataset, variant, run_id, seed, out, cfg.size,
                                 dict(cfg.config_overrides), "main")
                record({"run_key": key, **row})
    sweep_ds = cfg.sweep_dataset or cfg.datasets[0]
    if cfg.grid_sizes or cfg.ablation_blocks:
        dd = _load(cfg, sweep_ds)
        base = _sweep_base_config(cfg)
        for grid in cfg.grid_sizes:
            key = f"{sweep_ds}|grid|{grid}"
            if key not in done:
                row = _train_one(cfg, dd, sweep_ds, "lkan", f"grid{grid}", cfg.seed, out, None,
                                 {**base, "kan_grid_size": grid}, "grid")
                record({"run_key": key, **row})
        if cfg.ablation_blocks:
            stages = len(base["block_sizes"]) - 1
            for n in range(stages + 1):
                key = f"{sweep_ds}|ablation|{n}"
                if key not in done:
                    row = _train_one(cfg, dd, sweep_ds, "lkan", f"blocks{n}", cfg.seed, out, None,
                                     {**base, "kan_blocks": list(range(n))}, "ablation")
                    row["blocks_replaced"] = n
                    record({"run_key": key, **row})
    return [r for r in done.values() if "kind" in r]


def _sweep_base_config(cfg: BenchmarkConfig) -> dict[str, Any]:
    """Fixed LKAN widths for the sweeps: those of the chosen size preset (so grid size changes params)."""
    from ..models.factory import build_config

    ref = build_config("lkan", cfg.size, **cfg.config_overrides) if cfg.size else build_config("lkan", **cfg.config_overrides)
    return {"block_sizes": list(ref.block_sizes), "kernel_size": ref.kernel_size,
            **{k: v for k, v in cfg.config_overrides.items() if k not in ("block_sizes",)}}


def load_rows(output_dir: str | Path) -> list[dict[str, Any]]:
    """Rows of a (possibly partial) benchmark run."""
    return [r for r in _done(Path(output_dir) / "runs.jsonl").values() if "kind" in r]


def iter_main_rows(rows: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    return (r for r in rows if r.get("kind") in ("main", "classical"))
