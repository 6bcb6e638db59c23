"""`kan-genomics evaluate`: score a saved model (folder or Hub id) on a dataset split: MCC, accuracy,
ROC-AUC, precision, recall, F1, with the two classical baselines beside it."""
from __future__ import annotations

import argparse

from ._common import add_dataset_args, add_runtime_args, fail, load_dataset_from_args, setup_runtime


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("evaluate", help="evaluate a trained classifier on a dataset split",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="saved model folder (e.g. <run>/best) or Hub id user/name")
    add_dataset_args(p)
    p.add_argument("--split", default="test", choices=["train", "validation", "test"],
                   help="dataset split to score (default: test)")
    p.add_argument("--batch-size", type=int, default=256, help="sequences per forward pass (default: 256)")
    p.add_argument("--length-mode", choices=["pad", "fixed", "median"], default="pad",
                   help="batch lengths, as in train --length-mode (default: pad)")
    p.add_argument("--fixed-length", type=int, default=None, help="sequence length for --length-mode fixed")
    p.add_argument("--rc-averaging", action="store_true", help="average forward and reverse-complement logits")
    p.add_argument("--no-baselines", action="store_true", help="skip the GC-only and k-mer LR baselines (test split)")
    p.add_argument("--output", default=None, help="write the metrics as JSON here")
    add_runtime_args(p)
    p.set_defaults(func=run)


def model_path_problem(name: str) -> str | None:
    """Why `name` cannot be a saved model: a training checkpoint folder, or a local path that does not exist
    (``runs/best`` with ``runs`` present is a local path, not a Hub id); None when it may be one."""
    from pathlib import Path

    from ..training.checkpointing import CHECKPOINT_PREFIX, STATE_FILE
    from ..training.config import CHECKPOINT_DIR

    path = Path(name)
    if path.is_dir() and not (path / "config.json").is_file():
        if (path / STATE_FILE).is_file() or path.name.startswith(CHECKPOINT_PREFIX) or path.name == CHECKPOINT_DIR:
            return (f"{name} is a training checkpoint (it resumes training with --resume), not a saved model; "
                    "pass the run's best/ folder (<output-dir>/best)")
    if not path.exists() and (name.count("/") != 1 or name.startswith((".", "/", "~")) or Path(path.parts[0]).is_dir()):
        return (f"model folder {name} does not exist; pass a folder written by `kan-genomics train` "
                "(<output-dir>/best) or a Hub id user/name")
    return None


def load_model_and_tokenizer(name: str):
    """`models.loading.load_classifier`, with the command's one-line message when it fails."""
    from ..models.loading import load_classifier

    problem = model_path_problem(name)
    if problem:
        raise ValueError(f"could not load a classifier from {name!r}: {problem}")
    try:
        return load_classifier(name)
    except (OSError, ValueError) as err:
        raise ValueError(f"could not load a classifier from {name!r}: {str(err).splitlines()[0]}") from err


def run(args: argparse.Namespace) -> int:
    setup_runtime(args)
    import json

    from accelerate import Accelerator
    from torch.utils.data import DataLoader

    from ..data.collate import DNACollator
    from ..evaluation.baselines import run_baselines
    from ..evaluation.metrics import classification_metrics
    from ..models.predict import predict_scores

    try:
        model, tokenizer = load_model_and_tokenizer(args.model)
        dd = load_dataset_from_args(args)
    except (ValueError, FileNotFoundError, ConnectionError) as err:
        return fail(str(err))
    if args.rc_averaging:
        model.config.rc_averaging = True
    ds = dd[args.split]
    n_labels = ds.features["label"].num_classes
    if n_labels > model.config.num_labels:
        return fail(f"the dataset has {n_labels} classes but the model predicts {model.config.num_labels}")
    acc = Accelerator(cpu=args.cpu)
    dl = DataLoader(ds, batch_size=args.batch_size, collate_fn=DNACollator(tokenizer, args.length_mode, args.fixed_length))
    model, dl = acc.prepare(model, dl)
    probs, labels = predict_scores(model, dl, acc, progress=True, desc=f"evaluate {args.split}")
    report = {"model": args.model, "dataset": args.dataset, "split": args.split, "rows": len(ds),
              "metrics": classification_metrics(labels, probs, num_classes=model.config.num_labels)}
    if not args.no_baselines and args.split == "test":
        report["baselines"] = {k: v["metrics"] for k, v in run_baselines(dd).items()}
    print(json.dumps(report, indent=2))
    if args.output:
        with open(args.output, "w") as fh:
            json.dump(report, fh, indent=2)
    return 0
