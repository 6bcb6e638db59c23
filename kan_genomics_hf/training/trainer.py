"""The one Accelerate training loop for DNA sequence classifiers (used by `kan-genomics train`,
`scripts/train_classifier.py` under `accelerate launch`, the benchmark and the demo).

Mixed precision, gradient accumulation, AdamW (constant LR or LegNet's OneCycle), early stopping on
validation MCC, atomic `save_state` checkpoints every `save_steps` updates and each epoch, `resume=True`
continues from the latest checkpoint (a SIGKILLed-and-resumed run ends identical to an uninterrupted one),
a NaN/inf loss stops with a clear error keeping the last good checkpoint, JSONL (+ TensorBoard) logs, tqdm,
`gather_for_metrics` for multi-process evaluation. At the end the best model (by validation MCC) is in
`<output_dir>/best` as a `save_pretrained` folder with tokenizer, remote code and model card.
"""
from __future__ import annotations

import dataclasses
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .checkpointing import latest_checkpoint, load_checkpoint, save_checkpoint, write_json_atomic
from .tracking import MetricLogger

SCHEDULERS = ("constant", "onecycle")


class NonFiniteLossError(RuntimeError):
    """Training hit a NaN/inf loss; the message names where and the last good checkpoint."""


@dataclass
class TrainingArguments:
    """Settings of `train_classifier` (CLI flags of `kan-genomics train` map 1:1 onto these)."""

    output_dir: str
    epochs: int = 10
    batch_size: int = 64
    eval_batch_size: int = 256
    learning_rate: float = 5e-4
    weight_decay: float = 0.005
    scheduler: str = "constant"  # or "onecycle" (max_lr = learning_rate, pct_start 0.3, div_factor 25)
    gradient_accumulation_steps: int = 1
    max_grad_norm: float | None = 1.0
    mixed_precision: str = "no"  # "no" | "fp16" | "bf16"
    seed: int = 0
    early_stopping_patience: int | None = 3  # epochs without validation-MCC improvement; None = off
    save_steps: int | None = None  # checkpoint every N optimizer updates (plus every epoch end)
    keep_checkpoints: int = 2
    resume: bool = False
    max_steps: int | None = None  # stop after this many optimizer updates (all epochs)
    length_mode: str = "pad"  # "pad" | "fixed" | "median"
    fixed_length: int | None = None
    max_length: int | None = None
    rc_augment: float = 0.0
    shift_augment: int = 0
    log_every: int = 20
    tensorboard: bool = False
    progress: bool = True
    cpu: bool = False
    dataloader_workers: int = 0
    push_to_hub: bool = False
    hub_model_id: str | None = None
    hub_private: bool | None = None
    model_card: dict[str, Any] = field(default_factory=dict)  # extra write_model_card kwargs

    def __post_init__(self) -> None:
        if self.scheduler not in SCHEDULERS:
            raise ValueError(f"scheduler must be one of {SCHEDULERS}, got {self.scheduler!r}")
        if self.mixed_precision not in ("no", "fp16", "bf16"):
            raise ValueError(f"mixed_precision must be no, fp16 or bf16, got {self.mixed_precision!r}")
        for name in ("epochs", "batch_size", "eval_batch_size", "gradient_accumulation_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")
        if self.push_to_hub and not self.hub_model_id:
            raise ValueError("push_to_hub needs hub_model_id ('user/name')")


@dataclass
class TrainResult:
    """What a training run produced."""

    output_dir: str
    best_dir: str
    best_epoch: int
    best_validation: dict[str, float]
    test: dict[str, float] | None
    global_step: int
    stopped_early: bool
    train_seconds: float
    hub_url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class EpochShuffleSampler:
    """Deterministic permutation per (seed, epoch): restartable mid-epoch and identical on every process."""

    def __init__(self, n: int, seed: int) -> None:
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[int]:
        rng = np.random.default_rng([self.seed, self.epoch])
        return iter(rng.permutation(self.n).tolist())

    def __len__(self) -> int:
        return self.n


def _add_index(ds):
    return ds if "idx" in ds.column_names else ds.add_column("idx", list(range(len(ds))))


def predict_scores(model, dataloader, accelerator, progress: bool = False, desc: str = "eval") -> tuple[np.ndarray, np.ndarray | None]:
    """Class probabilities (n, C) and labels (or None) over a prepared dataloader, gathered across processes."""
    import torch
    from tqdm.auto import tqdm

    model.eval()
    probs, labels = [], []
    with torch.no_grad():
        for batch in tqdm(dataloader, desc=desc, disable=not (progress and accelerator.is_local_main_process), leave=False):
            y = batch.pop("labels", None)
            logits = model(**batch).logits.float()
            p = torch.softmax(logits, dim=-1) if logits.shape[-1] > 1 else torch.sigmoid(logits)
            if y is not None:
                p, y = accelerator.gather_for_metrics((p, y))
                labels.append(y.cpu().numpy())
            else:
                p = accelerator.gather_for_metrics(p)
            probs.append(p.cpu().numpy())
    model.train()
    return np.concatenate(probs), (np.concatenate(labels) if labels else None)


def _unwrap(accelerator, model):
    return accelerator.unwrap_model(model)


def save_final_model(model, tokenizer, directory: str | os.PathLike, card: dict[str, Any] | None = None) -> Path:
    """Weights, config, tokenizer and remote code (atomic `save_classifier`), then the model card."""
    from ..hub.model_card import write_model_card
    from ..models.loading import save_classifier

    directory = save_classifier(model, tokenizer, directory)
    if card is not None:
        write_model_card(directory, **card)
    return Path(directory)


def default_card(model, args: TrainingArguments, dataset_name: str, validation: dict[str, float],
                 test: dict[str, float] | None, baselines: dict[str, Any] | None = None) -> dict[str, Any]:
    """Model-card kwargs describing a trained classifier."""
    cfg = model.config
    n_params = sum(p.numel() for p in model.parameters())
    variant = getattr(cfg, "variant", "model")
    results = test if test is not None else validation
    card = dict(
        model_name=args.hub_model_id.split("/")[-1] if args.hub_model_id else f"legnet-{variant}-{dataset_name.replace('/', '-')}",
        summary=f"LegNet-style DNA sequence classifier, variant **{variant}** "
                f"({'MLP squeeze-excitation' if variant == 'baseline' else 'linear-KAN squeeze-excitation' if variant == 'lkan' else 'KAN convolutions'}), "
                f"trained on `{dataset_name}` with kan-genomics-hf.",
        library_name="transformers", pipeline_tag="text-classification", task_type="text-classification",
        datasets=[dataset_name], dataset_name=dataset_name, dataset_split="test" if test is not None else "validation",
        results={k: v for k, v in results.items() if v is not None and not (isinstance(v, float) and math.isnan(v))},
        baselines={k: v["metrics"] for k, v in (baselines or {}).items()},
        details={"variant": variant, "parameters": f"{n_params:,}", "block sizes": list(getattr(cfg, "block_sizes", [])),
                 "KAN grid size": getattr(cfg, "kan_grid_size", None), "labels": cfg.num_labels},
        training={k: getattr(args, k) for k in ("epochs", "batch_size", "learning_rate", "weight_decay", "scheduler",
                                                 "mixed_precision", "seed", "rc_augment", "shift_augment", "length_mode")},
        training_data=f"`{dataset_name}` (train split; model selected on validation MCC).",
        usage=("```python\nfrom transformers import AutoModelForSequenceClassification, AutoTokenizer\n"
               f"model = AutoModelForSequenceClassification.from_pretrained(\"{args.hub_model_id or '<folder>'}\", trust_remote_code=True)\n"
               f"tokenizer = AutoTokenizer.from_pretrained(\"{args.hub_model_id or '<folder>'}\", trust_remote_code=True)\n"
               "logits = model(**tokenizer([\"ACGT...\"], return_tensors=\"pt\")).logits\n```"),
        tags=["legnet", variant],
    )
    card.update(args.model_card)
    return card


def train_classifier(model, tokenizer, dataset, args: TrainingArguments, dataset_name: str = "custom",
                     baselines: dict[str, Any] | None = None, accelerator=None) -> TrainResult:
    """Train `model` on dataset["train"], select on dataset["validation"] MCC, score dataset["test"]; see module doc."""
    import torch
    from accelerate import Accelerator
    from accelerate.utils import ProjectConfiguration, set_seed
    from torch.utils.data import DataLoader
    from tqdm.auto import tqdm

    from ..data.collate import DNACollator
    from ..evaluation.metrics import classification_metrics

    out = Path(args.output_dir)
    ckpt_root, best_dir = out / "checkpoints", out / "best"
    if accelerator is None:
        accelerator = Accelerator(
            mixed_precision=args.mixed_precision, gradient_accumulation_steps=args.gradient_accumulation_steps,
            cpu=args.cpu, project_config=ProjectConfiguration(project_dir=str(out)))
    set_seed(args.seed)
    for split in ("train", "validation"):
        if split not in dataset or len(dataset[split]) == 0:
            raise ValueError(f"dataset has no (or an empty) {split!r} split")
    resume_from = latest_checkpoint(ckpt_root) if args.resume else None
    if not args.resume and latest_checkpoint(ckpt_root) is not None:
        raise FileExistsError(f"{ckpt_root} already holds checkpoints: pass resume=True (--resume) to continue "
                              "or choose another output directory")

    names = getattr(dataset["train"].features.get("label"), "names", None)
    cfg = getattr(model, "config", None)
    if names and cfg is not None and len(names) == cfg.num_labels:  # readable labels in pipelines / cards
        cfg.id2label = {i: str(n) for i, n in enumerate(names)}
        cfg.label2id = {str(n): i for i, n in enumerate(names)}
    train_ds = _add_index(dataset["train"])
    train_collate = DNACollator(tokenizer, args.length_mode, args.fixed_length, args.max_length,
                                args.rc_augment, args.shift_augment, args.seed)
    eval_collate = DNACollator(tokenizer, args.length_mode, args.fixed_length, args.max_length)
    sampler = EpochShuffleSampler(len(train_ds), args.seed)
    train_dl = DataLoader(train_ds, batch_size=args.batch_size, sampler=sampler, collate_fn=train_collate,
                          num_workers=args.dataloader_workers)
    val_dl = DataLoader(dataset["validation"], batch_size=args.eval_batch_size, collate_fn=eval_collate)
    test_dl = DataLoader(dataset["test"], batch_size=args.eval_batch_size, collate_fn=eval_collate) \
        if "test" in dataset and len(dataset["test"]) else None

    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=args.learning_rate)
    model, optimizer, train_dl, val_dl = accelerator.prepare(model, optimizer, train_dl, val_dl)
    if test_dl is not None:
        test_dl = accelerator.prepare(test_dl)
    updates_per_epoch = math.ceil(len(train_dl) / args.gradient_accumulation_steps)
    total_updates = updates_per_epoch * args.epochs
    if args.max_steps:
        total_updates = min(total_updates, args.max_steps)
    if args.scheduler == "onecycle":
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=args.learning_rate, total_steps=max(total_updates * accelerator.num_processes, 2),
            pct_start=0.3, div_factor=25.0)
    else:
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
    scheduler = accelerator.prepare(scheduler)

    state: dict[str, Any] = {"epoch": 0, "batch_in_epoch": 0, "global_step": 0, "best_mcc": -math.inf,
                             "best_epoch": -1, "bad_epochs": 0, "best_validation": {}, "stopped_early": False,
                             "train_seconds": 0.0}
    if resume_from is not None:
        state.update(load_checkpoint(accelerator, resume_from))
        accelerator.print(f"Resumed from {resume_from} (epoch {state['epoch']}, step {state['global_step']})")
    elif args.resume:
        accelerator.print(f"--resume: no checkpoint under {ckpt_root}; starting from scratch")

    logger = MetricLogger(out / "train_log.jsonl", tensorboard_dir=(out / "tensorboard") if args.tensorboard else None,
                          enabled=accelerator.is_main_process)
    last_good = str(resume_from) if resume_from else None
    t_start = time.time() - float(state["train_seconds"])

    def checkpoint() -> None:
        nonlocal last_good
        state["train_seconds"] = time.time() - t_start
        last_good = str(save_checkpoint(accelerator, ckpt_root, state["global_step"], state, args.keep_checkpoints))

    done = state["stopped_early"] or (args.max_steps is not None and state["global_step"] >= args.max_steps)
    try:
        model.train()
        while not done and state["epoch"] < args.epochs:
            epoch = state["epoch"]
            sampler.set_epoch(epoch)
            train_collate.set_epoch(epoch)
            if hasattr(train_dl, "set_epoch"):
                train_dl.set_epoch(epoch)
            skip = state["batch_in_epoch"]
            loader = accelerator.skip_first_batches(train_dl, skip) if skip else train_dl
            bar = tqdm(loader, desc=f"epoch {epoch + 1}/{args.epochs}", initial=skip, total=len(train_dl),
                       disable=not (args.progress and accelerator.is_local_main_process), leave=False)
            running, seen = 0.0, 0
            for batch in bar:
                with accelerator.accumulate(model):
                    loss = model(**batch).loss
                    finite = torch.isfinite(loss.detach()).float()
                    if accelerator.num_processes > 1:
                        finite = accelerator.reduce(finite, reduction="mean")
                    if float(finite) < 1.0:
                        raise NonFiniteLossError(
                            f"loss became {float(loss.detach()):.4g} at epoch {epoch + 1}, batch {state['batch_in_epoch'] + 1}, "
                            f"optimizer step {state['global_step']}; training stopped. "
                            f"Last good checkpoint: {last_good or 'none (no checkpoint was written yet)'}. "
                            "Try a lower learning rate, --mixed-precision no, or check the inputs.")
                    accelerator.backward(loss)
                    if accelerator.sync_gradients and args.max_grad_norm:
                        accelerator.clip_grad_norm_(model.parameters(), args.max_grad_norm)
                    optimizer.step()
                    scheduler.step()
                    optimizer.zero_grad()
                state["batch_in_epoch"] += 1
                running += float(loss.detach())
                seen += 1
                if accelerator.sync_gradients:
                    state["global_step"] += 1
                    step = state["global_step"]
                    if step % args.log_every == 0:
                        logger.log({"loss": running / seen, "lr": scheduler.get_last_lr()[0], "epoch": epoch + 1}, step)
                        bar.set_postfix(loss=f"{running / seen:.4f}")
                        running, seen = 0.0, 0
                    if args.max_steps is not None and step >= args.max_steps:
                        done = True
                        break
                    if args.save_steps and step % args.save_steps == 0 and state["batch_in_epoch"] < len(train_dl):
                        checkpoint()
            bar.close()
            # --- end of epoch (or of max_steps): validate, select, checkpoint -----------------
            probs, labels = predict_scores(model, val_dl, accelerator, args.progress, "validate")
            val = classification_metrics(labels, probs)
            logger.log(val, state["global_step"], split="validation")
            accelerator.print(f"epoch {epoch + 1}: validation " + ", ".join(f"{k} {v:.4f}" for k, v in val.items()))
            if val["mcc"] > state["best_mcc"]:
                state.update(best_mcc=val["mcc"], best_epoch=epoch + 1, bad_epochs=0, best_validation=val)
                if accelerator.is_main_process:
                    save_final_model(_unwrap(accelerator, model), tokenizer, best_dir)
                accelerator.wait_for_everyone()
            else:
                state["bad_epochs"] += 1
            state["epoch"] = epoch + 1
            state["batch_in_epoch"] = 0
            if args.early_stopping_patience is not None and state["bad_epochs"] >= args.early_stopping_patience:
                state["stopped_early"] = True
                done = True
                accelerator.print(f"early stopping: validation MCC did not improve for {state['bad_epochs']} epochs")
            checkpoint()
    finally:
        logger.close()

    # --- final: best weights -> test -> model card (+ push) ----------------------------------
    from safetensors.torch import load_file

    weights = best_dir / "model.safetensors"
    if weights.is_file():
        missing, _ = _unwrap(accelerator, model).load_state_dict(load_file(str(weights)), strict=False)
        missing_params = [k for k in missing if k in dict(_unwrap(accelerator, model).named_parameters())]
        if missing_params:
            raise RuntimeError(f"best checkpoint {weights} lacks parameters {missing_params[:5]}")
    test = None
    if test_dl is not None:
        probs, labels = predict_scores(model, test_dl, accelerator, args.progress, "test")
        test = classification_metrics(labels, probs)
        accelerator.print("test: " + ", ".join(f"{k} {v:.4f}" for k, v in test.items()))
    hub_url = None
    if accelerator.is_main_process:
        card = default_card(_unwrap(accelerator, model), args, dataset_name, state["best_validation"], test, baselines)
        save_final_model(_unwrap(accelerator, model), tokenizer, best_dir, card)
        result = TrainResult(str(out), str(best_dir), state["best_epoch"], state["best_validation"], test,
                             state["global_step"], bool(state["stopped_early"]), time.time() - t_start)
        write_json_atomic(out / "results.json", result.to_dict())
        if args.push_to_hub:  # a failed push raises PushToHubError; best/ and results.json stay on disk
            from ..hub.push import push_folder
            hub_url = push_folder(best_dir, args.hub_model_id, private=args.hub_private)
            result.hub_url = hub_url
            write_json_atomic(out / "results.json", result.to_dict())
    accelerator.wait_for_everyone()
    return TrainResult(str(out), str(best_dir), state["best_epoch"], state["best_validation"], test,
                       state["global_step"], bool(state["stopped_early"]), time.time() - t_start, hub_url)
