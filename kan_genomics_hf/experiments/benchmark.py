"""The paper's benchmark: datasets x {baseline, lkan, ckan} x runs (seeds or folds) at matched parameter
count, beside the two classical baselines; plus the grid-size sweep and the blocks-replaced ablation.

Every finished run is appended to `<output_dir>/runs.jsonl` at once, so an interrupted benchmark keeps
its results and a rerun skips what is done. `kan_genomics_hf.evaluation.report` turns the rows into the
tables (Markdown/CSV/JSON) and plots.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..data.protocols import PROTOCOLS, protocol_runs, subsample
from ..modeling.variants import VARIANTS
from ..training.config import MIXED_PRECISION, SCHEDULERS, option
from ..training.presets import RECIPE_KEYS, RECOMMENDED_BENCHMARK

_PLAIN = dict(early_stopping_patience=3, mixed_precision="no", recipe={}, config_overrides={})
PRESETS: dict[str, dict[str, Any]] = {
    "default": dict(size="200k", epochs=10, batch_size=64, learning_rate=5e-4, scheduler="constant", runs=3,
                    max_train=None, max_eval=None, **_PLAIN),
    "paper": dict(size="2M", epochs=10, batch_size=64, learning_rate=5e-4, scheduler="constant", runs=5,
                  max_train=None, max_eval=None, **_PLAIN),
    "cpu": dict(size="50k", epochs=3, batch_size=64, learning_rate=5e-3, scheduler="onecycle", runs=3,
                max_train=4000, max_eval=1000, **_PLAIN),
    # the configuration chosen on validation in bench_results/gue_recipe_search (training/presets.py)
    "recommended": dict(RECOMMENDED_BENCHMARK),
    # the same recipe sized for the six shared GUE tasks x 3 variants x 3 seeds on 2 CPU cores, in exact fp32: on CPU
    # the channels-last trunk makes fp32 faster than bf16 autocast, and on validation the two are level
    # (bench_results/gue_recipe_search/precision_screen). Full training sets: the faster trunk made
    # room for them within the 2.5 h.
    "cpu-full": dict(RECOMMENDED_BENCHMARK, epochs=4, max_train=None, max_eval=None, early_stopping_patience=2,
                     mixed_precision="no"),
}
_MERGED = ("recipe", "config_overrides")  # dict fields: the preset's entries, then the explicit ones
FROM_PRESET = "unset: from --preset"


@dataclass(kw_only=True)
class BenchmarkConfig:
    """What to run (also the flags of `kan-genomics benchmark`). Fields left None take the `preset`'s value,
    so the same code serves GPU (paper) and CPU presets; size 'none' = no size preset (only overrides)."""

    datasets: list[str] = option(default_factory=lambda: ["synthetic"],
                                 help="dataset names or paths, e.g. gue/tf_0 gue/mouse_2")
    output_dir: str = option(help="benchmark folder: runs.jsonl, results.md/.csv/.json, plots")
    preset: str = option("default", choices=tuple(PRESETS),
                         help="paper (GPU: 2M parameters, 10 epochs, 5 runs), cpu (50k, 3 epochs, 3 seeds, "
                              "4,000 training rows), recommended (the recipe chosen in "
                              "bench_results/gue_recipe_search) or cpu-full (recommended, 4 epochs, full "
                              "training sets, patience 2, fp32); explicit flags override it")
    variants: list[str] = option(default_factory=lambda: list(VARIANTS), choices=VARIANTS, help="models to train")
    size: str | None = option(None, help=f"parameter preset equal across variants ({FROM_PRESET}; default 200k)")
    config_overrides: dict[str, Any] = option(default_factory=dict, cli=False,
                                              help="LegNetConfig overrides (after the preset's)")
    protocol: str = option("seeds", choices=PROTOCOLS,
                           help="seeds: same splits, different seeds; kfold: stratified folds of train+validation")
    runs: int | None = option(None, help=f"seeds or folds per model ({FROM_PRESET}; default 3)")
    seed: int = option(0, help="base seed")
    epochs: int | None = option(None, help=f"training epochs ({FROM_PRESET})")
    batch_size: int | None = option(None, help=f"training batch size ({FROM_PRESET})")
    learning_rate: float | None = option(None, aliases=["--lr"], help=f"AdamW learning rate ({FROM_PRESET})")
    weight_decay: float = option(0.005, help="AdamW weight decay")
    scheduler: str | None = option(None, choices=SCHEDULERS, help=f"learning-rate schedule ({FROM_PRESET})")
    mixed_precision: str | None = option(None, choices=MIXED_PRECISION, help=f"mixed precision ({FROM_PRESET})")
    early_stopping_patience: int | None = option(None, flag="--patience",
                                                 help=f"early stopping patience, 0 = off ({FROM_PRESET}; default 3)")
    max_train: int | None = option(None, help=f"cap on training rows per dataset ({FROM_PRESET})")
    max_eval: int | None = option(None, help=f"cap on validation/test rows per dataset ({FROM_PRESET})")
    data_dir: str | None = option(None, help="root of GUE/GUE+ tasks (else $KAN_GENOMICS_GUE_ROOT)")
    dataset_options: dict[str, Any] = option(default_factory=dict, cli=False, help="loader options per dataset")
    baselines: bool = option(True, help="the classical baselines (--no-baselines to skip them)")
    grid_sizes: list[int] = option(default_factory=list, argparse={"nargs": "*"},
                                   help="LKAN grid-size sweep (fixed widths), e.g. 3 5 10 20")
    ablation_blocks: bool = option(False, flag="--ablation",
                                   help="blocks-replaced ablation (LKAN SE in the first n stages, n = 0..stages)")
    sweep_dataset: str | None = option(None, help="dataset for sweep/ablation (unset: the first)")
    keep_models: bool = option(False, help="keep every run's saved model (else deleted after scoring)")
    progress: bool = option(True, help="tqdm progress bars (--no-progress to hide them)")
    cpu: bool = option(False, help="force CPU even when a GPU is present")
    recipe: dict[str, Any] = option(default_factory=dict, cli=False,
                                    help="extra ClassifierTrainingConfig fields (rc_augment, rc_eval, ema_decay, "
                                         "...) after the preset's")

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {self.preset!r}")
        unknown_recipe = sorted(set(self.recipe or {}) - set(RECIPE_KEYS))
        if unknown_recipe:
            raise ValueError(f"unknown recipe option(s) {unknown_recipe}; choose from {list(RECIPE_KEYS)} "
                             "(model options go to --config)")
        for key, value in PRESETS[self.preset].items():
            if key in _MERGED:
                setattr(self, key, {**value, **(getattr(self, key) or {})})
            elif getattr(self, key) is None:
                setattr(self, key, value)
        if str(self.size).lower() == "none":
            self.size = None
        if not self.datasets:
            raise ValueError("datasets is empty: name at least one dataset (--datasets synthetic)")
        unknown = sorted(set(self.variants) - set(VARIANTS))
        if unknown:
            raise ValueError(f"unknown variants {unknown}; choose from {list(VARIANTS)}")
        self.early_stopping_patience = self.early_stopping_patience or None  # 0 = off


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
    from ..models.factory import build_config, build_model, count_parameters, flops_per_sequence
    from ..training.config import ClassifierTrainingConfig
    from ..training.trainer import train_classifier

    num_labels = dd["train"].features["label"].num_classes
    torch.manual_seed(seed)
    config = build_config(variant, size, num_labels=num_labels, **overrides)
    model = build_model(config)
    lengths = [len(s) for s in dd["train"].select(range(min(len(dd["train"]), 500)))["sequence"]]
    length = int(sorted(lengths)[len(lengths) // 2])
    run_dir = out / "runs" / f"{dataset.replace('/', '_')}__{kind}__{variant}__{run_id}"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    args = ClassifierTrainingConfig(
        output_dir=str(run_dir), epochs=cfg.epochs, batch_size=cfg.batch_size, learning_rate=cfg.learning_rate,
        weight_decay=cfg.weight_decay, scheduler=cfg.scheduler, mixed_precision=cfg.mixed_precision, seed=seed,
        early_stopping_patience=cfg.early_stopping_patience, progress=cfg.progress, cpu=cfg.cpu, keep_checkpoints=1,
        **cfg.recipe)
    t0 = time.time()
    result = train_classifier(model, DNATokenizer(), dd, args, dataset_name=dataset)
    seconds = time.time() - t0
    steps = max(result.global_step, 1)
    row = {"dataset": dataset, "variant": variant, "run": run_id, "seed": seed, "kind": kind,
           "params": count_parameters(model), "flops": flops_per_sequence(model, length), "length": length,
           "grid_size": config.kan_grid_size if variant != "baseline" else None,
           "kan_blocks": overrides.get("kan_blocks"), "size": size, "config_overrides": overrides,
           "recipe": dict(cfg.recipe),
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


def _check_resumed(row: dict[str, Any], cfg: BenchmarkConfig, log: Path) -> None:
    """Finished runs in the folder are reused only if trained with the same model options and recipe (rows record both)."""
    for field in ("config_overrides", "recipe"):
        if field in row and row[field] != getattr(cfg, field):
            raise ValueError(f"{log}: run {row['run_key']!r} was trained with {field} {row[field]}, this call asks for "
                             f"{getattr(cfg, field)}; use another --output-dir (or the same options) to resume")


def run_benchmark(cfg: BenchmarkConfig) -> list[dict[str, Any]]:
    """Run (or finish) the benchmark; returns all rows (also in runs.jsonl)."""
    from ..evaluation.baselines import run_baselines

    out = Path(cfg.output_dir)
    log = out / "runs.jsonl"
    done = _done(log)
    for row in done.values():  # before anything in the folder is rewritten
        if row.get("kind") == "main":
            _check_resumed(row, cfg, log)
    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmark_config.json").write_text(json.dumps(asdict(cfg), indent=2))

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
