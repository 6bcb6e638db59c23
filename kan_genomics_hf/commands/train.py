"""`kan-genomics train`: train one classifier (baseline / lkan / ckan) with Accelerate, save it with a
model card, optionally push it. Multi-GPU: `accelerate launch scripts/train_classifier.py ...`."""
from __future__ import annotations

import argparse

from ._common import add_dataset_args, add_runtime_args, fail, load_dataset_from_args, parse_kv, setup_runtime


def add_arguments(p: argparse.ArgumentParser) -> None:
    """All train options (shared with scripts/train_classifier.py)."""
    add_dataset_args(p)
    m = p.add_argument_group("model")
    m.add_argument("--variant", choices=["baseline", "lkan", "ckan"], default="lkan", help="default: %(default)s")
    m.add_argument("--size", default="200k",
                   help="parameter-count preset, equal across variants (50k, 200k, 1M, 2M, 4M, 8M, 15M, 22M); "
                        "'none' to use only --config (default: %(default)s)")
    m.add_argument("--config", action="append", default=[], metavar="KEY=VALUE",
                   help="LegNetConfig override, e.g. kan_grid_size=10 or block_sizes=[64,64,32] (repeatable)")
    t = p.add_argument_group("training")
    t.add_argument("--output-dir", required=True, help="run folder: checkpoints/, best/, train_log.jsonl, results.json")
    t.add_argument("--epochs", type=int, default=10)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--eval-batch-size", type=int, default=256)
    t.add_argument("--learning-rate", "--lr", type=float, default=5e-4)
    t.add_argument("--weight-decay", type=float, default=0.005)
    t.add_argument("--scheduler", choices=["constant", "onecycle"], default="constant",
                   help="constant AdamW (the paper's notebooks) or LegNet's OneCycle (max LR = --learning-rate)")
    t.add_argument("--gradient-accumulation-steps", type=int, default=1)
    t.add_argument("--mixed-precision", choices=["no", "fp16", "bf16"], default="no")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--patience", type=int, default=3, help="early-stopping patience in epochs (0 = off)")
    t.add_argument("--save-steps", type=int, default=None, help="also checkpoint every N optimizer steps")
    t.add_argument("--keep-checkpoints", type=int, default=2)
    t.add_argument("--resume", action="store_true", help="continue from the latest checkpoint in --output-dir")
    t.add_argument("--max-steps", type=int, default=None)
    t.add_argument("--length-mode", choices=["pad", "fixed", "median"], default="pad",
                   help="pad (mask-aware), fixed (centred crop/pad to --fixed-length), median (authors' recipe)")
    t.add_argument("--fixed-length", type=int, default=None)
    t.add_argument("--rc-augment", type=float, default=0.0, help="probability of reverse-complementing a training row")
    t.add_argument("--shift-augment", type=int, default=0, help="max random shift (bp) of training rows")
    t.add_argument("--tensorboard", action="store_true", help="also log to <output-dir>/tensorboard")
    t.add_argument("--no-progress", action="store_true", help="no tqdm bars")
    t.add_argument("--no-baselines", action="store_true", help="skip the GC-only and k-mer LR baselines")
    h = p.add_argument_group("hub")
    h.add_argument("--push-to-hub", action="store_true", help="push best/ to the Hub at the end")
    h.add_argument("--hub-model-id", default=None, help="user/name for --push-to-hub")
    h.add_argument("--hub-private", action="store_true")
    add_runtime_args(p)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("train", help="train a LegNet classifier (baseline / LKAN / CKAN)",
                              description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    setup_runtime(args)
    import json

    from ..evaluation.baselines import run_baselines
    from ..hub.push import PushToHubError
    from ..modeling.tokenization_dna import DNATokenizer
    from ..models.factory import build_config, build_model, count_params
    from ..training.trainer import NonFiniteLossError, TrainingArguments, train_classifier

    if args.push_to_hub and not args.hub_model_id:
        return fail("--push-to-hub needs --hub-model-id user/name")
    import os

    is_main = int(os.environ.get("RANK", os.environ.get("LOCAL_RANK", "0"))) == 0  # under accelerate launch
    try:
        dd = load_dataset_from_args(args, print_summary=is_main)
    except (ValueError, FileNotFoundError, ConnectionError) as err:
        return fail(str(err))
    num_labels = dd["train"].features["label"].num_classes
    size = None if str(args.size).lower() == "none" else args.size
    try:
        config = build_config(args.variant, size, num_labels=num_labels, **parse_kv(args.config))
    except (ValueError, TypeError, KeyError) as err:
        return fail(f"bad model configuration: {err}")
    import torch

    torch.manual_seed(args.seed)
    model = build_model(config)
    if is_main:
        print(f"model: {args.variant}, {count_params(model):,} parameters, {num_labels} labels")
    baselines = None
    if not args.no_baselines and is_main:
        baselines = run_baselines(dd, seed=args.seed)
        for name, res in baselines.items():
            print(f"classical baseline {name}: test MCC {res['metrics']['mcc']:.4f}")
    targs = TrainingArguments(
        output_dir=args.output_dir, epochs=args.epochs, batch_size=args.batch_size,
        eval_batch_size=args.eval_batch_size, learning_rate=args.learning_rate, weight_decay=args.weight_decay,
        scheduler=args.scheduler, gradient_accumulation_steps=args.gradient_accumulation_steps,
        mixed_precision=args.mixed_precision, seed=args.seed, early_stopping_patience=args.patience or None,
        save_steps=args.save_steps, keep_checkpoints=args.keep_checkpoints, resume=args.resume,
        max_steps=args.max_steps, length_mode=args.length_mode, fixed_length=args.fixed_length,
        rc_augment=args.rc_augment, shift_augment=args.shift_augment, tensorboard=args.tensorboard,
        progress=not args.no_progress, cpu=args.cpu, push_to_hub=args.push_to_hub,
        hub_model_id=args.hub_model_id, hub_private=args.hub_private or None)
    try:
        result = train_classifier(model, DNATokenizer(), dd, targs, dataset_name=args.dataset, baselines=baselines)
    except NonFiniteLossError as err:
        return fail(str(err))
    except PushToHubError as err:
        return fail(str(err))
    except FileExistsError as err:
        return fail(str(err))
    if is_main:
        print(json.dumps({"best_dir": result.best_dir, "best_epoch": result.best_epoch, "test": result.test,
                          "hub_url": result.hub_url}, indent=2))
    return 0
