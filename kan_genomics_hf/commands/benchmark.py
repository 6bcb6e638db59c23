"""`kan-genomics benchmark`: the paper's tables. Datasets x {baseline, lkan, ckan} x runs (seeds or
stratified folds) at matched parameter count, beside the GC-only and k-mer logistic-regression baselines;
optional LKAN grid-size sweep and blocks-replaced ablation. Writes results.md / .csv / .json and PNG plots.
Interrupted runs keep their results (runs.jsonl); rerunning the same command finishes the rest.

Presets: --preset paper = the paper's settings (2M-parameter models, 10 epochs, batch 64, AdamW 5e-4,
5 runs; use a GPU); --preset cpu = 50k-parameter models, 3 epochs, 3 seeds, training sets capped at 4,000 (a
plumbing check); --preset recommended = the configuration chosen on validation in
bench_results/gue_recipe_search (kan_genomics_hf/training/presets.py), full training sets; --preset cpu-full =
the recommended recipe sized for the six shared GUE tasks x 3 variants x 3 seeds in <= 2.5 h on 2 CPU cores
(2 shards of 1 thread, see README): 200k parameters, 4 epochs, full training, validation and test splits, early
stopping patience 2, exact fp32 (faster than bf16 autocast on CPU)."""
from __future__ import annotations

import argparse
from dataclasses import dataclass

from ..experiments.benchmark import BenchmarkConfig
from ..training.config import option
from ..training.presets import RECIPE_KEYS
from ._common import RuntimeOptions, add_dataclass_arguments, dataclass_from_args, fail, parse_kv, setup_runtime


@dataclass
class BenchmarkCommandOptions:
    """Flags of the command that are not BenchmarkConfig fields as such."""

    config: list[str] = option(default_factory=list, metavar="KEY=VALUE", argparse={"action": "append"},
                               help="LegNetConfig override, e.g. kernel_size=5 (repeatable)")
    recipe: list[str] = option(default_factory=list, metavar="KEY=VALUE", argparse={"action": "append"},
                               help="training-recipe option after the preset's, e.g. rc_augment=0.5 rc_eval=true "
                                    f"(keys: {', '.join(RECIPE_KEYS)}; repeatable)")
    dataset_option: list[str] = option(default_factory=list, metavar="KEY=VALUE", argparse={"action": "append"},
                                       help="loader option applied to every dataset (e.g. difficulty=0.3 for "
                                            "synthetic; repeatable)")
    merge: list[str] | None = option(None, metavar="DIR",
                                     help="train nothing: merge the runs.jsonl of these benchmark folders (e.g. "
                                          "parallel shards) and write the reports into --output-dir; a run (same "
                                          "dataset, kind, variant and seed) in a later folder replaces the one of "
                                          "an earlier folder, e.g. a rerun of one variant with a new configuration")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_dataclass_arguments(p, BenchmarkConfig)
    add_dataclass_arguments(p, BenchmarkCommandOptions)
    add_dataclass_arguments(p, RuntimeOptions)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("benchmark", help="the paper's tables: datasets x variants x runs at equal size",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> BenchmarkConfig:
    """BenchmarkConfig from parsed arguments (preset values, then explicit flags)."""
    options = parse_kv(args.dataset_option)
    return dataclass_from_args(BenchmarkConfig, args, config_overrides=parse_kv(args.config),
                               recipe=parse_kv(args.recipe),
                               dataset_options={d: options for d in args.datasets} if options else {})


def _merge(cfg: BenchmarkConfig, folders: list[str]) -> int:
    from ..evaluation.report import write_reports
    from ..experiments.benchmark import load_rows

    merged: dict[str, dict] = {}
    replaced: dict[str, int] = {}
    for folder in folders:
        for row in load_rows(folder):
            key = row.get("run_key") or f"{folder}#{len(merged)}"
            if key in merged:
                replaced[folder] = replaced.get(folder, 0) + 1
            merged[key] = row
    rows = list(merged.values())
    if not rows:
        return fail("no finished runs in " + ", ".join(folders))
    for folder, n in replaced.items():
        print(f"merge: {n} runs of {folder} replace the runs with the same key in earlier folders")
    paths = write_reports(rows, cfg.output_dir, title="kan-genomics benchmark")
    print(paths["markdown"].read_text())
    return 0


def run(args: argparse.Namespace) -> int:
    from ..evaluation.report import write_reports
    from ..experiments.benchmark import run_benchmark

    setup_runtime(args)
    try:
        cfg = config_from_args(args)
    except ValueError as err:
        return fail(str(err))
    if args.merge:
        return _merge(cfg, args.merge)
    try:
        rows = run_benchmark(cfg)
    except (ValueError, FileNotFoundError, ConnectionError) as err:
        return fail(str(err))
    notes = (f"Settings: size {cfg.size}, {cfg.epochs} epochs, batch {cfg.batch_size}, lr {cfg.learning_rate} "
             f"({cfg.scheduler}), {cfg.runs} {cfg.protocol}, training rows capped at {cfg.max_train}, "
             f"validation/test capped at {cfg.max_eval}, mixed precision {cfg.mixed_precision}, early stopping "
             f"patience {cfg.early_stopping_patience}, recipe {cfg.recipe or 'none'}, "
             f"model overrides {cfg.config_overrides or 'none'}.")
    paths = write_reports(rows, cfg.output_dir, title="kan-genomics benchmark", notes=notes)
    print(paths["markdown"].read_text())
    print("written: " + ", ".join(str(p) for p in paths.values()))
    return 0
