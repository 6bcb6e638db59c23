"""`kan-genomics benchmark`: the paper's tables. Datasets x {baseline, lkan, ckan} x runs (seeds or
stratified folds) at matched parameter count, beside the GC-only and k-mer logistic-regression baselines;
optional LKAN grid-size sweep and blocks-replaced ablation. Writes results.md / .csv / .json and PNG plots.
Interrupted runs keep their results (runs.jsonl); rerunning the same command finishes the rest.

Presets: --preset paper = the paper's settings (2M-parameter models, 10 epochs, batch 64, AdamW 5e-4,
5 runs; use a GPU); --preset cpu = 50k-parameter models, 3 epochs, 3 seeds, training sets capped at 4,000."""
from __future__ import annotations

import argparse

from ._common import add_runtime_args, fail, parse_kv, setup_runtime

PRESETS = {
    "paper": dict(size="2M", epochs=10, batch_size=64, learning_rate=5e-4, scheduler="constant", runs=5,
                  max_train=None, max_eval=None),
    "cpu": dict(size="50k", epochs=3, batch_size=64, learning_rate=5e-3, scheduler="onecycle", runs=3,
                max_train=4000, max_eval=1000),
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--datasets", nargs="+", default=["synthetic"],
                   help="dataset names or paths, e.g. gue/tf_0 gue/mouse_2 (default: %(default)s)")
    p.add_argument("--data-dir", default=None, help="root of GUE/GUE+ tasks (else $KAN_GENOMICS_GUE_ROOT)")
    p.add_argument("--output-dir", required=True)
    p.add_argument("--preset", choices=sorted(PRESETS), default=None,
                   help="paper (GPU) or cpu settings; explicit flags below override it")
    p.add_argument("--variants", nargs="+", default=["baseline", "lkan", "ckan"], choices=["baseline", "lkan", "ckan"])
    p.add_argument("--size", default=None, help="parameter preset equal across variants (default 200k)")
    p.add_argument("--config", action="append", default=[], metavar="KEY=VALUE", help="LegNetConfig override")
    p.add_argument("--protocol", choices=["seeds", "kfold"], default="seeds",
                   help="seeds: same splits, different seeds; kfold: stratified folds of train+validation")
    p.add_argument("--runs", type=int, default=None, help="seeds or folds per model (default 3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--learning-rate", "--lr", type=float, default=None)
    p.add_argument("--scheduler", choices=["constant", "onecycle"], default=None)
    p.add_argument("--patience", type=int, default=3, help="early stopping patience (0 = off)")
    p.add_argument("--max-train", type=int, default=None, help="cap on training rows per dataset")
    p.add_argument("--max-eval", type=int, default=None, help="cap on validation/test rows per dataset")
    p.add_argument("--dataset-option", action="append", default=[], metavar="KEY=VALUE",
                   help="loader option applied to every dataset (e.g. difficulty=0.3 for synthetic)")
    p.add_argument("--no-baselines", action="store_true", help="skip the classical baselines")
    p.add_argument("--grid-sizes", type=int, nargs="*", default=[], help="LKAN grid-size sweep, e.g. 3 5 10 20")
    p.add_argument("--ablation", action="store_true", help="blocks-replaced ablation (LKAN SE in first n stages)")
    p.add_argument("--sweep-dataset", default=None, help="dataset for sweep/ablation (default: first)")
    p.add_argument("--keep-models", action="store_true", help="keep every run's saved model")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--merge", nargs="+", default=None, metavar="DIR",
                   help="train nothing: merge the runs.jsonl of these benchmark folders (e.g. parallel shards) "
                        "and write the reports into --output-dir")
    add_runtime_args(p)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("benchmark", help="the paper's tables: datasets x variants x runs at equal size",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace):
    """BenchmarkConfig from parsed arguments (preset values, then explicit flags)."""
    from ..experiments.benchmark import BenchmarkConfig

    base = dict(size="200k", epochs=10, batch_size=64, learning_rate=5e-4, scheduler="constant", runs=3,
                max_train=None, max_eval=None)
    if args.preset:
        base.update(PRESETS[args.preset])
    for key in base:
        value = getattr(args, key, None)
        if value is not None:
            base[key] = value
    if str(base["size"]).lower() == "none":
        base["size"] = None
    options = parse_kv(args.dataset_option)
    return BenchmarkConfig(
        datasets=args.datasets, output_dir=args.output_dir, variants=args.variants,
        config_overrides=parse_kv(args.config), protocol=args.protocol, seed=args.seed,
        early_stopping_patience=args.patience or None, data_dir=args.data_dir,
        dataset_options={d: options for d in args.datasets} if options else {},
        baselines=not args.no_baselines, grid_sizes=args.grid_sizes, ablation_blocks=args.ablation,
        sweep_dataset=args.sweep_dataset, keep_models=args.keep_models, progress=not args.no_progress,
        cpu=args.cpu, **base)


def run(args: argparse.Namespace) -> int:
    setup_runtime(args)
    from ..experiments.benchmark import run_benchmark
    from ..evaluation.report import write_reports

    cfg = config_from_args(args)
    if args.merge:
        from ..experiments.benchmark import load_rows

        rows = [row for folder in args.merge for row in load_rows(folder)]
        if not rows:
            return fail("no finished runs in " + ", ".join(args.merge))
        paths = write_reports(rows, cfg.output_dir, title="kan-genomics benchmark")
        print(paths["markdown"].read_text())
        return 0
    try:
        rows = run_benchmark(cfg)
    except (ValueError, FileNotFoundError, ConnectionError) as err:
        return fail(str(err))
    notes = (f"Settings: size {cfg.size}, {cfg.epochs} epochs, batch {cfg.batch_size}, lr {cfg.learning_rate} "
             f"({cfg.scheduler}), {cfg.runs} {cfg.protocol}, training rows capped at {cfg.max_train}, "
             f"validation/test capped at {cfg.max_eval}.")
    paths = write_reports(rows, cfg.output_dir, title="kan-genomics benchmark", notes=notes)
    print(paths["markdown"].read_text())
    print("written: " + ", ".join(str(p) for p in paths.values()))
    return 0
