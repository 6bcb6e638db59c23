"""`TrainingRun`: the skeleton every training loop shares (classifier and diffusion).

It owns the parts that are not about the model: the Accelerator (precision, device, trackers), refusing
to overwrite an earlier run unless resuming, resume from the newest checkpoint, atomic checkpoints that
carry the loop's JSON state and the training time, metric logging (JSONL + optional TensorBoard through
accelerate trackers), the atomic export of the final folder with its model card, results.json and the
Hub push. A loop builds its model/data/optimizer, calls `accelerator.prepare`, then `restore(state)`,
and calls `checkpoint` / `log` / `export` / `finish` / `close` as it goes.
"""
from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..io.atomic import atomic_directory, write_json_atomic
from .checkpointing import latest_checkpoint, load_checkpoint, save_checkpoint
from .config import CHECKPOINT_DIR, LOG_FILE, TrainingSetup
from .tracking import JSONLTracker, log_metrics

TENSORBOARD_RUN = "tensorboard"  # <output_dir>/tensorboard holds the TensorBoard events


def make_accelerator(setup: TrainingSetup, **accelerator_kwargs: Any):
    """An Accelerator for `setup`: precision, device, project folder and the JSONL (+ TensorBoard) trackers."""
    from accelerate import Accelerator
    from accelerate.utils import ProjectConfiguration, is_tensorboard_available

    out = str(Path(setup.output_dir))
    trackers: list[Any] = [JSONLTracker(Path(out) / LOG_FILE)]
    if setup.tensorboard and is_tensorboard_available():
        trackers.append("tensorboard")
    elif setup.tensorboard:
        warnings.warn("TensorBoard logging requested but `tensorboard` is not installed; "
                      "install kan-genomics-hf[tensorboard]. Logging JSONL only.", stacklevel=3)
    return Accelerator(mixed_precision=setup.mixed_precision, cpu=setup.cpu, log_with=trackers,
                       project_config=ProjectConfiguration(project_dir=out, logging_dir=out), **accelerator_kwargs)


class TrainingRun:
    """One run's Accelerator, checkpoints, trackers and final outputs (see module doc)."""

    def __init__(self, setup: TrainingSetup, accelerator: Any = None, **accelerator_kwargs: Any) -> None:
        from accelerate.utils import set_seed

        self.setup = setup
        self.out = Path(setup.output_dir)
        self.ckpt_root = self.out / CHECKPOINT_DIR
        if not setup.resume and latest_checkpoint(self.ckpt_root) is not None:
            raise FileExistsError(f"{self.ckpt_root} already holds checkpoints: pass resume=True (--resume) to "
                                  "continue or choose another output directory")
        self.accelerator = accelerator or make_accelerator(setup, **accelerator_kwargs)
        if not any(isinstance(t, JSONLTracker) for t in self.accelerator.log_with):  # a caller's Accelerator
            self.accelerator.log_with.append(JSONLTracker(self.out / LOG_FILE))
        self.accelerator.init_trackers(TENSORBOARD_RUN)
        set_seed(setup.seed)
        self.last_good: str | None = None
        self._t0 = time.time()

    @property
    def is_main(self) -> bool:
        return self.accelerator.is_main_process

    def elapsed(self) -> float:
        """Training seconds so far, including those before a resume."""
        return time.time() - self._t0

    def restore(self, state: dict[str, Any]) -> dict[str, Any]:
        """`state` updated from the newest checkpoint when resuming (call after `accelerator.prepare`)."""
        ckpt = latest_checkpoint(self.ckpt_root) if self.setup.resume else None
        if ckpt is not None:
            state.update(load_checkpoint(self.accelerator, ckpt))
            self.last_good = str(ckpt)
            self.accelerator.print(f"Resumed from {ckpt} (epoch {state.get('epoch')}, step {state.get('global_step')})")
        elif self.setup.resume:
            self.accelerator.print(f"--resume: no checkpoint under {self.ckpt_root}; starting from scratch")
        self._t0 = time.time() - float(state.get("train_seconds", 0.0))
        return state

    def checkpoint(self, step: int, state: dict[str, Any]) -> Path:
        """Save an atomic checkpoint at `step` holding `state` (+ train_seconds); all processes must call it."""
        state["train_seconds"] = self.elapsed()
        path = save_checkpoint(self.accelerator, self.ckpt_root, step, state, self.setup.keep_checkpoints)
        self.last_good = str(path)
        return path

    def wants_checkpoint(self, step: int) -> bool:
        """True at every `save_steps`-th optimizer update (when save_steps is set)."""
        return bool(self.setup.save_steps) and step % self.setup.save_steps == 0

    def log(self, metrics: dict[str, Any], step: int, split: str = "train") -> None:
        """Log one split's metrics to every tracker (main process only)."""
        log_metrics(self.accelerator, metrics, step, split)

    def export(self, folder: str | Path, save: Callable[[Path], Any], card: dict[str, Any] | None = None) -> Path:
        """Write `folder` atomically: `save(tmp)` fills it, then the model card (`write_model_card(**card)`)."""
        from ..hub.model_card import write_model_card

        with atomic_directory(folder) as tmp:
            save(Path(tmp))
            if card is not None:
                write_model_card(tmp, **card)
        return Path(folder)

    def finish(self, results: dict[str, Any], folder: str | Path) -> str | None:
        """Main process: write results.json, push `folder` when asked (URL into results.json); returns the URL.

        A failed push raises PushToHubError; `folder` and results.json stay on disk."""
        if not self.is_main:
            return None
        write_json_atomic(self.out / "results.json", results)
        if not self.setup.push_to_hub:
            return None
        from ..hub.push import push_folder

        url = push_folder(folder, self.setup.hub_model_id, private=self.setup.hub_private or None)
        results["hub_url"] = url
        write_json_atomic(self.out / "results.json", results)
        return url

    def close(self) -> None:
        """Close the trackers (flush the JSONL log) and wait for every process.

        Unlike `accelerator.end_training` this keeps the process group, so one process can run several
        trainings (the benchmark) or go on with a caller's Accelerator."""
        for tracker in self.accelerator.trackers:
            tracker.finish()
        self.accelerator.trackers.clear()
        self.accelerator.wait_for_everyone()
