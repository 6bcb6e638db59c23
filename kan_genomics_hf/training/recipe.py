"""Training-recipe pieces used by the trainer, kept out of the loop so they are easy to port and test:

* ``optimizer_groups``: AdamW groups with weight decay on matrices only, and a separate learning-rate
  multiplier / weight decay for KAN spline weights (``spline_weight``, ``spline_scaler``);
* ``training_loss``: the model's loss, or label-smoothed cross-entropy for single-label classification;
* ``WeightEMA``: exponential moving average of the parameters (buffers are taken from the live model),
  swapped in for evaluation and saving with ``with ema.applied(model): ...``;
* ``parse_grid_update_steps`` (from ``config``): the ``--grid-update`` schedule;
* ``GridUpdater``: refit every KANLinear grid to its inputs from a training batch (``update_grid``
  preserves the layer's function) at chosen optimizer steps;
* ``EMACallback`` / ``GridUpdateCallback`` / ``KANMonitorCallback``: the same wired into the classifier
  trainer (``trainer.recipe_callbacks`` builds them from ``ClassifierTrainingConfig``).
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor, nn

from ..modeling.kan_layers import KANLinear
from .config import parse_grid_update_steps
from .trainer import TrainerCallback

__all__ = ["EMACallback", "GridUpdateCallback", "GridUpdater", "KANMonitorCallback", "WeightEMA",
           "evaluation_weights", "is_spline_param", "optimizer_groups", "parse_grid_update_steps", "training_loss"]

SPLINE_PARAM_SUFFIXES = ("spline_weight", "spline_scaler")


def is_spline_param(name: str) -> bool:
    """True for KAN spline coefficients / scalers (the parameters ``--spline-lr-scale`` acts on)."""
    return name.rsplit(".", 1)[-1] in SPLINE_PARAM_SUFFIXES


def optimizer_groups(model: nn.Module, lr: float, weight_decay: float, spline_lr_scale: float = 1.0,
                     spline_weight_decay: float | None = None) -> list[dict[str, Any]]:
    """AdamW parameter groups: decayed matrices, undecayed vectors, and (if any) spline parameters."""
    if spline_lr_scale <= 0:
        raise ValueError(f"spline_lr_scale must be > 0, got {spline_lr_scale}")
    decay, no_decay, spline = [], [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if is_spline_param(name):
            spline.append(p)
        elif p.ndim > 1:
            decay.append(p)
        else:
            no_decay.append(p)
    groups = [{"params": decay, "weight_decay": weight_decay, "lr": lr},
              {"params": no_decay, "weight_decay": 0.0, "lr": lr}]
    if spline:
        wd = weight_decay if spline_weight_decay is None else spline_weight_decay
        groups.append({"params": spline, "weight_decay": wd, "lr": lr * spline_lr_scale})
    return [g for g in groups if g["params"]]


def training_loss(model: nn.Module, batch: dict[str, Tensor], label_smoothing: float = 0.0) -> Tensor:
    """Loss of one training batch; label-smoothed cross-entropy when asked and the task is single-label."""
    if not label_smoothing:
        return model(**batch).loss
    labels = batch["labels"]
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    logits = model(**inputs).logits
    if logits.shape[-1] < 2 or labels.is_floating_point():
        raise ValueError("label_smoothing needs single-label classification with >= 2 classes (integer labels)")
    return nn.functional.cross_entropy(logits.float(), labels.long(), label_smoothing=label_smoothing)


class WeightEMA:
    """Exponential moving average of a model's floating-point parameters: ema = d * ema + (1 - d) * w."""

    def __init__(self, model: nn.Module, decay: float = 0.999) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"ema decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.shadow = {n: p.detach().clone() for n, p in model.named_parameters() if p.is_floating_point()}
        self.updates = 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        # warm-up (as in common EMA implementations): early averages do not over-weight the random init
        self.updates += 1
        d = min(self.decay, (1.0 + self.updates) / (10.0 + self.updates))
        for n, p in model.named_parameters():
            if n in self.shadow:
                self.shadow[n].lerp_(p.detach(), 1.0 - d)

    @contextlib.contextmanager
    def applied(self, model: nn.Module) -> Iterator[None]:
        """Temporarily load the EMA weights into ``model`` (restored on exit)."""
        saved = {}
        with torch.no_grad():
            for n, p in model.named_parameters():
                if n in self.shadow:
                    saved[n] = p.detach().clone()
                    p.copy_(self.shadow[n])
        try:
            yield
        finally:
            with torch.no_grad():
                for n, p in model.named_parameters():
                    if n in saved:
                        p.copy_(saved[n])

    def state_dict(self) -> dict[str, Any]:
        return {"decay": self.decay, "updates": self.updates, "shadow": self.shadow}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.decay, self.updates = float(state["decay"]), int(state["updates"])
        for n, t in state["shadow"].items():
            if n in self.shadow:
                self.shadow[n].copy_(t)


def evaluation_weights(ema: WeightEMA | None, model: nn.Module):
    """Context in which ``model`` holds the weights to evaluate and save: the EMA ones, or its own."""
    return ema.applied(model) if ema is not None else contextlib.nullcontext()


class GridUpdater:
    """Refit KANLinear grids on the captured training inputs of a KANInputMonitor at chosen steps."""

    def __init__(self, monitor: Any, steps: set[int], margin: float = 0.01) -> None:
        self.monitor, self.steps, self.margin = monitor, set(steps), margin
        self.layers = {n: m for n, m in monitor.layers.items() if isinstance(m, KANLinear)}
        self.done: list[int] = []

    def before_step(self, next_step: int) -> None:
        """Call before the forward of the batch that ends optimizer step ``next_step``."""
        self.monitor.capture = next_step in self.steps

    def after_step(self, step: int) -> bool:
        """Refit the grids if ``step`` is scheduled (uses the inputs captured on that step's forward)."""
        if step not in self.steps or not self.monitor.capture:
            return False
        for name, layer in self.layers.items():
            x = self.monitor.last_inputs.get(name)
            if x is not None and x.reshape(-1, layer.in_features).shape[0] >= 2:
                layer.update_grid(x, margin=self.margin)
        self.monitor.capture = False
        self.monitor.last_inputs.clear()
        self.done.append(step)
        return True


class EMACallback(TrainerCallback):
    """Update a WeightEMA after every optimizer step; validate and save the best model with its weights."""

    def __init__(self, ema: WeightEMA) -> None:
        self.ema = ema

    def on_step_end(self, loop: Any) -> None:
        self.ema.update(loop.acc.unwrap_model(loop.model))

    def evaluation_weights(self, loop: Any) -> contextlib.AbstractContextManager:
        return self.ema.applied(loop.acc.unwrap_model(loop.model))


class GridUpdateCallback(TrainerCallback):
    """Capture the KAN inputs of the scheduled steps and refit the grids after them."""

    def __init__(self, updater: GridUpdater) -> None:
        self.updater = updater

    def on_train_begin(self, loop: Any) -> None:
        self.updater.before_step(loop.state["global_step"] + 1)

    def on_step_end(self, loop: Any) -> None:
        step = loop.state["global_step"]
        self.updater.after_step(step)
        self.updater.before_step(step + 1)


class KANMonitorCallback(TrainerCallback):
    """One "kan" row per epoch in train_log.jsonl: where each KAN layer's training inputs fall on its grid."""

    def __init__(self, monitor: Any, log: bool = True) -> None:
        self.monitor, self.log = monitor, log

    def on_epoch_end(self, loop: Any, metrics: dict[str, float]) -> None:
        summary = self.monitor.summary()
        if self.log and summary:
            loop.run.log(summary, loop.state["global_step"], split="kan")
        self.monitor.reset()

    def on_train_end(self, loop: Any) -> None:
        self.monitor.remove()  # no hooks left on the returned model
