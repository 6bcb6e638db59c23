"""The one Accelerate training loop for DNA sequence classifiers (used by `kan-genomics train`,
`scripts/train_classifier.py` under `accelerate launch`, the benchmark and the demo).

Mixed precision, gradient accumulation, AdamW (constant LR or LegNet's OneCycle), early stopping on
validation MCC, atomic checkpoints every `save_steps` updates and each epoch, `resume=True` continues
from the latest checkpoint (a SIGKILLed-and-resumed run ends identical to an uninterrupted one), a
NaN/inf loss stops with a clear error keeping the last good checkpoint, JSONL (+ TensorBoard) logs,
tqdm, `gather_for_metrics` for multi-process evaluation. At the end the best model (by validation MCC)
is in `<output_dir>/best` as a `save_pretrained` folder with tokenizer, remote code and model card.

The shared skeleton (Accelerator, resume, checkpoints, trackers, export, push) is `skeleton.TrainingRun`.
Extension points: `build_optimizer` (parameter groups), `ClassifierLoop.compute_loss` (the objective),
and `TrainerCallback` hooks called before training, after every optimizer update, around validation (the
weights to evaluate and save) and after every validation.

The recipe options of `ClassifierTrainingConfig` (training/recipe.py) go through these: spline LR / weight
decay groups (`build_optimizer`), label smoothing (`compute_loss`), weight EMA, KAN grid updates and the KAN
input monitor (callbacks, see `recipe_callbacks`; the EMA is part of every checkpoint), and RC-averaged
evaluation (`config.rc_averaging`).
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..models.predict import predict_scores
from .cards import classifier_card, hardware_of
from .config import ClassifierTrainingConfig
from .skeleton import TrainingRun, run_identity


class NonFiniteLossError(RuntimeError):
    """Training hit a NaN/inf loss; the message names where and the last good checkpoint."""


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


class TrainerCallback:
    """Hooks into `ClassifierLoop` (EMA, KAN grid updates, diagnostics, ...); override what you need."""

    def on_train_begin(self, loop: ClassifierLoop) -> None:
        """Before the first update of `fit` (after a resume, `loop.state` is the restored state)."""

    def on_step_end(self, loop: ClassifierLoop) -> None:
        """After every optimizer update (`loop.state['global_step']` is the new step)."""

    def evaluation_weights(self, loop: ClassifierLoop) -> contextlib.AbstractContextManager:
        """Context around each validation and best-model save (e.g. swapping in EMA weights)."""
        return contextlib.nullcontext()

    def on_epoch_end(self, loop: ClassifierLoop, metrics: dict[str, float]) -> None:
        """After each validation, with its metrics (extra keys added here are logged too)."""

    def on_train_end(self, loop: ClassifierLoop) -> None:
        """After the last epoch (also when training stopped with an error): release hooks and the like."""


@dataclass
class Loaders:
    """The DataLoaders of one run (+ what resets the training order each epoch)."""

    train: Any
    validation: Any
    test: Any
    sampler: EpochShuffleSampler
    train_collate: Any


def check_splits(dataset) -> None:
    for split in ("train", "validation"):
        if split not in dataset or len(dataset[split]) == 0:
            raise ValueError(f"dataset has no (or an empty) {split!r} split; pass a DatasetDict with train and "
                             "validation rows")


def set_label_names(model, dataset) -> None:
    """Readable id2label/label2id (pipelines, cards) from the dataset's ClassLabel names."""
    names = getattr(dataset["train"].features.get("label"), "names", None)
    cfg = getattr(model, "config", None)
    if names and cfg is not None and len(names) == cfg.num_labels:
        cfg.id2label = {i: str(n) for i, n in enumerate(names)}
        cfg.label2id = {str(n): i for i, n in enumerate(names)}


def make_loaders(dataset, tokenizer, args: ClassifierTrainingConfig) -> Loaders:
    from torch.utils.data import DataLoader

    from ..data.collate import DNACollator

    train = dataset["train"]
    train = train if "idx" in train.column_names else train.add_column("idx", list(range(len(train))))
    train_collate = DNACollator(tokenizer, args.length_mode, args.fixed_length, args.max_length,
                                args.rc_augment, args.shift_augment, args.seed)
    eval_collate = DNACollator(tokenizer, args.length_mode, args.fixed_length, args.max_length)
    sampler = EpochShuffleSampler(len(train), args.seed)
    has_test = "test" in dataset and len(dataset["test"]) > 0
    return Loaders(
        train=DataLoader(train, batch_size=args.batch_size, sampler=sampler, collate_fn=train_collate,
                         num_workers=args.dataloader_workers),
        validation=DataLoader(dataset["validation"], batch_size=args.eval_batch_size, collate_fn=eval_collate),
        test=DataLoader(dataset["test"], batch_size=args.eval_batch_size, collate_fn=eval_collate) if has_test else None,
        sampler=sampler, train_collate=train_collate)


def build_optimizer(model, args: ClassifierTrainingConfig):
    """AdamW with weight decay on weight matrices only, and KAN spline weights in their own group
    (`spline_lr_scale`, `spline_weight_decay`); the place for extra parameter groups."""
    import torch

    from .recipe import optimizer_groups

    groups = optimizer_groups(model, args.learning_rate, args.weight_decay, args.spline_lr_scale,
                              args.spline_weight_decay)
    return torch.optim.AdamW(groups, lr=args.learning_rate)


def build_scheduler(optimizer, args: ClassifierTrainingConfig, total_updates: int, num_processes: int):
    import torch

    if args.scheduler == "onecycle":
        # one peak per parameter group: the group's own lr (e.g. spline weights at lr * spline_lr_scale); a single
        # max_lr would give every group the same schedule and silently drop the spline scale
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=[group["lr"] for group in optimizer.param_groups],
            total_steps=max(total_updates * num_processes, 2),
            pct_start=0.3, div_factor=25.0)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)


def initial_state() -> dict[str, Any]:
    return {"epoch": 0, "batch_in_epoch": 0, "global_step": 0, "best_mcc": -math.inf, "best_epoch": -1,
            "bad_epochs": 0, "best_validation": {}, "stopped_early": False, "train_seconds": 0.0}


class ClassifierLoop:
    """Epochs of optimizer updates, validation and model selection over prepared objects."""

    def __init__(self, run: TrainingRun, model, tokenizer, optimizer, scheduler, loaders: Loaders,
                 callbacks: Sequence[TrainerCallback] = ()) -> None:
        self.run, self.acc, self.args = run, run.accelerator, run.setup
        self.model, self.tokenizer, self.optimizer, self.scheduler = model, tokenizer, optimizer, scheduler
        self.loaders, self.callbacks = loaders, list(callbacks)
        self.best_dir = run.out / "best"
        self.state: dict[str, Any] = initial_state()

    def compute_loss(self, batch):
        """The training objective of one batch: the model's own loss, or label-smoothed cross-entropy."""
        from .recipe import training_loss

        return training_loss(self.model, batch, self.args.label_smoothing)

    def evaluation_weights(self) -> contextlib.ExitStack:
        """Every callback's `evaluation_weights` context at once (the weights to validate and save)."""
        stack = contextlib.ExitStack()
        for cb in self.callbacks:
            stack.enter_context(cb.evaluation_weights(self))
        return stack

    def check_finite(self, loss) -> None:
        import torch

        finite = torch.isfinite(loss.detach()).float()
        if self.acc.num_processes > 1:
            finite = self.acc.reduce(finite, reduction="mean")
        if float(finite) < 1.0:
            raise NonFiniteLossError(
                f"loss became {float(loss.detach()):.4g} at epoch {self.state['epoch'] + 1}, batch "
                f"{self.state['batch_in_epoch'] + 1}, optimizer step {self.state['global_step']}; training stopped. "
                f"Last good checkpoint: {self.run.last_good or 'none (no checkpoint was written yet)'}. "
                "Try a lower learning rate, --mixed-precision no, or check the inputs.")

    def train_step(self, batch) -> float:
        """Forward/backward of one batch; an optimizer update when the accumulation window closes."""
        with self.acc.accumulate(self.model):
            loss = self.compute_loss(batch)
            self.check_finite(loss)
            self.acc.backward(loss)
            if self.acc.sync_gradients and self.args.max_grad_norm:
                self.acc.clip_grad_norm_(self.model.parameters(), self.args.max_grad_norm)
            self.optimizer.step()
            self.scheduler.step()
            self.optimizer.zero_grad()
        return float(loss.detach())

    def max_steps_reached(self) -> bool:
        return self.args.max_steps is not None and self.state["global_step"] >= self.args.max_steps

    def train_epoch(self) -> bool:
        """Train the rest of the current epoch; True when max_steps ended the run."""
        from tqdm.auto import tqdm

        epoch, st, train_dl = self.state["epoch"], self.state, self.loaders.train
        for resettable in (self.loaders.sampler, self.loaders.train_collate, train_dl):
            if hasattr(resettable, "set_epoch"):
                resettable.set_epoch(epoch)
        skip = st["batch_in_epoch"]
        loader = self.acc.skip_first_batches(train_dl, skip) if skip else train_dl
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{self.args.epochs}", initial=skip, total=len(train_dl),
                   disable=not (self.args.progress and self.acc.is_local_main_process), leave=False)
        losses: list[float] = []
        for batch in bar:
            losses.append(self.train_step(batch))
            st["batch_in_epoch"] += 1
            if not self.acc.sync_gradients:
                continue
            st["global_step"] += 1
            for cb in self.callbacks:
                cb.on_step_end(self)
            if st["global_step"] % self.args.log_every == 0:
                self.run.log({"loss": float(np.mean(losses)), "lr": self.scheduler.get_last_lr()[0],
                              "epoch": epoch + 1}, st["global_step"])
                bar.set_postfix(loss=f"{np.mean(losses):.4f}")
                losses = []
            if self.max_steps_reached():
                bar.close()
                return True
            if self.run.wants_checkpoint(st["global_step"]) and st["batch_in_epoch"] < len(train_dl):
                self.run.checkpoint(st["global_step"], st)
        bar.close()
        return False

    def end_epoch(self) -> bool:
        """Validate, keep the best model, count patience, checkpoint; True when early stopping ends the run."""
        from ..evaluation.metrics import classification_metrics

        st, epoch = self.state, self.state["epoch"]
        with self.evaluation_weights():
            probs, labels = predict_scores(self.model, self.loaders.validation, self.acc, self.args.progress,
                                           "validate")
            val = classification_metrics(labels, probs)
            improved = val["mcc"] > st["best_mcc"]
            if improved:
                self.save_best()
        for cb in self.callbacks:
            cb.on_epoch_end(self, val)
        self.run.log(val, st["global_step"], split="validation")
        self.acc.print(f"epoch {epoch + 1}: validation " + ", ".join(f"{k} {v:.4f}" for k, v in val.items()))
        if improved:
            st.update(best_mcc=val["mcc"], best_epoch=epoch + 1, bad_epochs=0, best_validation=val)
        else:
            st["bad_epochs"] += 1
        st.update(epoch=epoch + 1, batch_in_epoch=0)
        patience = self.args.early_stopping_patience
        if patience is not None and st["bad_epochs"] >= patience:
            st["stopped_early"] = True
            self.acc.print(f"early stopping: validation MCC did not improve for {st['bad_epochs']} epochs")
        self.run.checkpoint(st["global_step"], st)
        return st["stopped_early"]

    def save_best(self, card: dict[str, Any] | None = None) -> None:
        from ..models.loading import save_classifier

        if self.acc.is_main_process:
            net = self.acc.unwrap_model(self.model)
            self.run.export(self.best_dir, lambda tmp: save_classifier(net, self.tokenizer, tmp), card)
        self.acc.wait_for_everyone()

    def fit(self) -> None:
        """Epochs until `epochs`, `max_steps` or early stopping (continuing a restored state)."""
        self.model.train()
        done = self.state["stopped_early"] or self.max_steps_reached()
        for cb in self.callbacks:
            cb.on_train_begin(self)
        while not done and self.state["epoch"] < self.args.epochs:
            hit_max = self.train_epoch()
            done = self.end_epoch() or hit_max

    def load_best(self) -> None:
        """Put the best weights (best/model.safetensors) back into the model."""
        from safetensors.torch import load_file

        weights = self.best_dir / "model.safetensors"
        if not weights.is_file():
            return
        net = self.acc.unwrap_model(self.model)
        missing, _ = net.load_state_dict(load_file(str(weights)), strict=False)
        missing_params = [k for k in missing if k in dict(net.named_parameters())]
        if missing_params:
            raise RuntimeError(f"best checkpoint {weights} lacks parameters {missing_params[:5]}")

    def test(self) -> dict[str, float] | None:
        from ..evaluation.metrics import classification_metrics

        if self.loaders.test is None:
            return None
        probs, labels = predict_scores(self.model, self.loaders.test, self.acc, self.args.progress, "test")
        test = classification_metrics(labels, probs)
        self.acc.print("test: " + ", ".join(f"{k} {v:.4f}" for k, v in test.items()))
        return test

    def result(self, test: dict[str, float] | None, hub_url: str | None = None) -> TrainResult:
        st = self.state
        return TrainResult(str(self.run.out), str(self.best_dir), st["best_epoch"], st["best_validation"], test,
                           st["global_step"], bool(st["stopped_early"]), self.run.elapsed(), hub_url)


def prepare_loop(run: TrainingRun, model, tokenizer, dataset, callbacks) -> ClassifierLoop:
    """Loaders, optimizer and scheduler through `accelerator.prepare`; the state restored when resuming."""
    args, acc = run.setup, run.accelerator
    loaders = make_loaders(dataset, tokenizer, args)
    optimizer = build_optimizer(model, args)
    model, optimizer, loaders.train, loaders.validation = acc.prepare(model, optimizer, loaders.train,
                                                                      loaders.validation)
    if loaders.test is not None:
        loaders.test = acc.prepare(loaders.test)
    total = math.ceil(len(loaders.train) / args.gradient_accumulation_steps) * args.epochs
    total = min(total, args.max_steps) if args.max_steps else total
    scheduler = acc.prepare(build_scheduler(optimizer, args, total, acc.num_processes))
    updates_per_epoch = math.ceil(len(loaders.train) / args.gradient_accumulation_steps)
    recipe = recipe_callbacks(acc, model, args, updates_per_epoch)  # registers the EMA for checkpointing
    loop = ClassifierLoop(run, model, tokenizer, optimizer, scheduler, loaders, [*recipe, *callbacks])
    run.restore(loop.state)
    return loop


def recipe_callbacks(acc, model, args: ClassifierTrainingConfig, updates_per_epoch: int) -> list[TrainerCallback]:
    """The callbacks the recipe options ask for: weight EMA (registered with `acc` so checkpoints carry it
    and `--resume` restores it), KAN grid updates and the KAN input monitor."""
    from . import recipe

    net = acc.unwrap_model(model)
    out: list[TrainerCallback] = []
    if args.ema_decay:
        ema = recipe.WeightEMA(net, args.ema_decay)
        acc.register_for_checkpointing(ema)
        out.append(recipe.EMACallback(ema))
    if args.kan_monitor or args.grid_update:
        from .kan_monitor import KANInputMonitor

        monitor = KANInputMonitor(net)
        if args.grid_update:
            steps = recipe.parse_grid_update_steps(args.grid_update, updates_per_epoch)
            out.append(recipe.GridUpdateCallback(recipe.GridUpdater(monitor, steps)))
        out.append(recipe.KANMonitorCallback(monitor, log=args.kan_monitor))
    return out


# recipe options a resume must repeat (the EMA state is in the checkpoint only when ema_decay is set)
RECIPE_TRAINING_ARGS = ("label_smoothing", "ema_decay", "rc_eval", "grid_update", "spline_lr_scale",
                        "spline_weight_decay")


def training_length(train_split, args: ClassifierTrainingConfig) -> int | None:
    """The median length (bp) of the training sequences as the model saw them (after --length-mode fixed /
    --max-length); recorded as `config.training_length` for the out-of-distribution input checks."""
    if args.length_mode == "fixed" and args.fixed_length:
        return int(args.fixed_length)
    lengths = [len(s) for s in train_split["sequence"]]
    if not lengths:
        return None
    median = int(round(float(np.median(lengths))))
    return min(median, args.max_length) if args.max_length else median


def train_classifier(model, tokenizer, dataset, args: ClassifierTrainingConfig, dataset_name: str = "custom",
                     baselines: dict[str, Any] | None = None, accelerator=None,
                     callbacks: Sequence[TrainerCallback] = (), full_rows: dict[str, int] | None = None
                     ) -> TrainResult:
    """Train `model` on dataset["train"], select on dataset["validation"] MCC, score dataset["test"]; see module doc.

    `full_rows` (split -> rows before `--max-train` / `--max-eval` subsampling) lets the model card say which
    splits are subsamples."""
    check_splits(dataset)
    run = TrainingRun(args, accelerator, gradient_accumulation_steps=args.gradient_accumulation_steps)
    set_label_names(model, dataset)
    if args.rc_eval and getattr(model, "config", None) is not None:
        model.config.rc_averaging = True  # evaluation averages both strands; kept in the saved config
    run.identity = run_identity(dataset_name, dataset, model.config, args)  # checked on resume
    run.identity["training"].update({k: getattr(args, k) for k in RECIPE_TRAINING_ARGS})
    if getattr(model, "config", None) is not None:  # after run_identity: resumes of older runs still match
        model.config.training_length = training_length(dataset["train"], args)
    loop = prepare_loop(run, model, tokenizer, dataset, callbacks)
    try:
        loop.fit()
    finally:
        for cb in loop.callbacks:
            cb.on_train_end(loop)
        run.close()
    loop.load_best()
    test = loop.test()
    net = run.accelerator.unwrap_model(loop.model)  # the card describes the best weights, now in the model
    rows = {split: len(ds) for split, ds in dataset.items()}
    loop.save_best(classifier_card(net, args, dataset_name, loop.state["best_validation"], test, baselines,
                                   rows=rows, full_rows=full_rows, num_processes=run.accelerator.num_processes,
                                   hardware=hardware_of(run.accelerator)))
    hub_url = run.finish(loop.result(test).to_dict(), loop.best_dir)
    run.accelerator.wait_for_everyone()
    return loop.result(test, hub_url)
