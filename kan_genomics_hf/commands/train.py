"""`kan-genomics train`: train one classifier (baseline / lkan / ckan) with Accelerate, save it with a
model card, optionally push it (token: the HF_TOKEN environment variable).
Multi-GPU: `accelerate launch scripts/train_classifier.py ...`."""
from __future__ import annotations

import argparse
from dataclasses import dataclass

from ..modeling.variants import VARIANTS
from ..training.config import ClassifierTrainingConfig, option
from ..training.presets import TRAIN_PRESETS
from ._common import (
    DatasetOptions,
    RuntimeOptions,
    add_dataclass_arguments,
    dataclass_from_args,
    fail,
    load_dataset_from_args,
    parse_kv,
    setup_runtime,
)


@dataclass
class ModelOptions:
    """Which classifier to build."""

    variant: str = option("lkan", choices=VARIANTS, help="model variant")
    size: str = option("200k", help="parameter-count preset, equal across variants (50k, 200k, 1M, 2M, 4M, 8M, "
                                    "15M, 22M); 'none' to use only --config")
    config: list[str] = option(default_factory=list, metavar="KEY=VALUE", argparse={"action": "append"},
                               help="LegNetConfig override, e.g. kan_grid_size=10 or block_sizes=[64,64,32] (repeatable)")
    baselines: bool = option(True, help="the GC-only and k-mer LR baselines (--no-baselines to skip them)")


@dataclass
class PresetOptions:
    """A named configuration (training/presets.py) under the explicit flags."""

    preset: str | None = option(None, choices=tuple(TRAIN_PRESETS),
                                help="recommended: the configuration chosen on validation in "
                                     "bench_results/gue_recipe_search (model options + recipe); explicit flags "
                                     "and --config entries override it")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """All train options (shared with scripts/train_classifier.py), derived from the dataclasses."""
    add_dataclass_arguments(p, DatasetOptions, "data")
    add_dataclass_arguments(p, ModelOptions, "model")
    add_dataclass_arguments(p, PresetOptions, "preset")
    add_dataclass_arguments(p, ClassifierTrainingConfig, "training")
    add_dataclass_arguments(p, RuntimeOptions, "runtime")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("train", help="train a LegNet classifier (baseline / LKAN / CKAN)", description=__doc__)
    add_arguments(p)
    p.set_defaults(func=run)


def _is_main_process() -> bool:
    import os

    return int(os.environ.get("RANK", os.environ.get("LOCAL_RANK", "0"))) == 0  # under accelerate launch


def _build_model(args: argparse.Namespace, num_labels: int, is_main: bool):
    import torch

    from ..models.factory import build_config, build_model, count_parameters

    size = None if str(args.size).lower() == "none" else args.size
    config = build_config(args.variant, size, num_labels=num_labels, **parse_kv(args.config))
    torch.manual_seed(args.seed)
    model = build_model(config)
    if is_main:
        print(f"model: {args.variant}, {count_parameters(model):,} parameters, {num_labels} labels")
    return model


def run(args: argparse.Namespace) -> int:
    import json

    from ..evaluation.baselines import run_baselines
    from ..hub.push import PushToHubError
    from ..modeling.tokenization_dna import DNATokenizer
    from ..training.checkpointing import RunError
    from ..training.presets import apply_train_preset, field_defaults
    from ..training.trainer import NonFiniteLossError, train_classifier

    setup_runtime(args)
    try:
        apply_train_preset(args, field_defaults(ModelOptions, ClassifierTrainingConfig))
        targs = dataclass_from_args(ClassifierTrainingConfig, args)
    except ValueError as err:
        return fail(str(err))
    is_main = _is_main_process()
    try:
        full_rows: dict[str, int] = {}
        dd = load_dataset_from_args(args, print_summary=is_main, full_rows=full_rows)
    except (ValueError, FileNotFoundError, ConnectionError) as err:
        return fail(str(err))
    try:
        model = _build_model(args, dd["train"].features["label"].num_classes, is_main)
    except (ValueError, TypeError, KeyError) as err:
        return fail(f"bad model configuration: {err}")
    baselines = None
    if args.baselines and is_main:
        baselines = run_baselines(dd, seed=args.seed)
        for name, res in baselines.items():
            print(f"classical baseline {name}: test MCC {res['metrics']['mcc']:.4f} (fit on {res['train_rows']:,} "
                  f"training rows, scored on {res['test_rows']:,} test rows)")
    try:
        result = train_classifier(model, DNATokenizer(), dd, targs, dataset_name=args.dataset, baselines=baselines,
                                  full_rows=full_rows)
    except (NonFiniteLossError, RunError, PushToHubError, FileExistsError) as err:
        return fail(str(err))
    except OSError as err:
        if err.errno != 28:  # ENOSPC: the disk filled up
            raise
        return fail(f"no space left on the device ({err.filename or args.output_dir}); free space and rerun with --resume")
    if is_main:
        print(json.dumps({"best_dir": result.best_dir, "best_epoch": result.best_epoch, "test": result.test,
                          "hub_url": result.hub_url}, indent=2))
    return 0
