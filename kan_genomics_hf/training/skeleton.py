"""`TrainingRun`: the skeleton every training loop shares (classifier and diffusion).

It owns the parts that are not about the model: the Accelerator (precision, device, trackers), refusing
an output folder holding another run (unless resuming it or `overwrite_output_dir`), resume from the newest
usable checkpoint after checking the dataset / model / key arguments match, finite-only atomic checkpoints that
carry the loop's JSON state and the training time, metric logging (JSONL + optional TensorBoard through
accelerate trackers), the atomic export of the final folder with its model card, results.json and the
Hub push. A loop builds its model/data/optimizer, calls `accelerator.prepare`, then `restore(state)`,
and calls `checkpoint` / `log` / `export` / `finish` / `close` as it goes.
"""
from __future__ import annotations

import errno
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..io.atomic import atomic_directory, write_json_atomic
from .checkpointing import (
    CheckpointError,
    NonFiniteWeightsError,
    RunError,
    list_checkpoints,
    load_checkpoint,
    nonfinite_tensors,
    read_checkpoint_state,
    rng_state_problem,
    save_checkpoint,
    usable_checkpoints,
)
from .config import CHECKPOINT_DIR, LOG_FILE, TrainingSetup
from .tracking import JSONLTracker, log_metrics

TENSORBOARD_RUN = "tensorboard"  # <output_dir>/tensorboard holds the TensorBoard events
# what a run leaves in its output folder: a folder holding any of these belongs to another run
RUN_ARTIFACTS = (CHECKPOINT_DIR, "best", "model", LOG_FILE, "results.json", TENSORBOARD_RUN)
# training arguments a resume must repeat (unless allow_changed_args); dataset and model must always match
KEY_TRAINING_ARGS = ("seed", "batch_size", "gradient_accumulation_steps", "learning_rate", "scheduler",
                     "weight_decay", "max_grad_norm", "mixed_precision", "length_mode",
                     "fixed_length", "max_length", "rc_augment", "shift_augment", "p_uncond", "loss")
IDENTITY_KEY = "run_identity"  # trainer_state.json entry holding what `run_identity` describes
_VOLATILE_CONFIG_KEYS = ("transformers_version", "_name_or_path", "architectures", "auto_map", "torch_dtype", "dtype")


class ResumeMismatchError(RunError):
    """--resume onto a checkpoint of another dataset, model configuration or training arguments."""


def _plain_json(obj: Any) -> Any:
    import json

    return json.loads(json.dumps(obj, default=str, sort_keys=True))


def run_identity(dataset_name: str, dataset: Any, model_config: Any, setup: Any) -> dict[str, Any]:
    """What a resume must match: dataset (name + per-split row counts and content hashes), the model
    configuration, and the `KEY_TRAINING_ARGS` of `setup`."""
    from ..data.loading import dataset_fingerprint

    config = model_config.to_dict() if hasattr(model_config, "to_dict") else dict(model_config)
    return _plain_json({
        "dataset": {"name": str(dataset_name), **dataset_fingerprint(dataset)},
        "model": {k: v for k, v in config.items() if k not in _VOLATILE_CONFIG_KEYS},
        "training": {k: getattr(setup, k) for k in KEY_TRAINING_ARGS if hasattr(setup, k)},
    })


def _flat(d: dict[str, Any], prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        out.update(_flat(v, f"{prefix}.{k}") if isinstance(v, dict) else {f"{prefix}.{k}": v})
    return out


def identity_differences(saved: dict[str, Any], now: dict[str, Any], sections: tuple[str, ...]) -> list[str]:
    """'section.key: <checkpoint> (checkpoint) vs <now> (now)' for every differing entry of `sections`."""
    diffs = []
    for section in sections:
        a, b = _flat(saved.get(section, {}), section), _flat(now.get(section, {}), section)
        diffs += [f"{k}: {a.get(k)!r} (checkpoint) vs {b.get(k)!r} (now)" for k in sorted(a.keys() | b.keys())
                  if a.get(k) != b.get(k)]
    return diffs


def check_output_dir(out: Path, resume: bool, overwrite: bool) -> list[str]:
    """The run artifacts found in `out`; raise FileExistsError when they belong to another run, i.e. unless
    `overwrite` (the caller removes them) or `resume` with a checkpoint to resume from."""
    found = [name for name in RUN_ARTIFACTS if (out / name).exists()]
    if not found or overwrite or (resume and list_checkpoints(out / CHECKPOINT_DIR)):
        return found
    what = ", ".join(found)
    if resume:
        raise FileExistsError(f"{out} holds {what} of an earlier run but no checkpoint to resume from; pass "
                              "--overwrite-output-dir to replace that run or choose another --output-dir")
    raise FileExistsError(f"{out} already holds {what} of another run: pass --resume to continue it, "
                          "--overwrite-output-dir to replace it, or choose another --output-dir")


def _remove_artifacts(out: Path, found: list[str]) -> None:
    import shutil

    from accelerate import PartialState

    state = PartialState()
    if state.is_main_process:
        for name in found:
            path = out / name
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    state.wait_for_everyone()


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


def _check_finite_folder(tmp: Path, target: Path) -> None:
    """Raise NonFiniteWeightsError when a safetensors file written into `tmp` holds NaN/inf."""
    from safetensors.torch import load_file

    for file in sorted(tmp.glob("*.safetensors")):
        bad = nonfinite_tensors(load_file(str(file)).items())
        if bad:
            raise NonFiniteWeightsError(f"not writing {target}: {file.name} would hold NaN/inf in "
                                        f"{', '.join(bad[:5])}; the previous {target.name}/ is kept. Lower the "
                                        "learning rate or check the inputs")


class TrainingRun:
    """One run's Accelerator, checkpoints, trackers and final outputs (see module doc)."""

    def __init__(self, setup: TrainingSetup, accelerator: Any = None, **accelerator_kwargs: Any) -> None:
        from accelerate.utils import set_seed

        self.setup = setup
        self.out = Path(setup.output_dir)
        self.ckpt_root = self.out / CHECKPOINT_DIR
        overwrite = bool(getattr(setup, "overwrite_output_dir", False))
        # every process checks the folder before any of them writes to it (the trackers create files)
        from accelerate import PartialState

        found = check_output_dir(self.out, setup.resume, overwrite)
        PartialState().wait_for_everyone()
        if overwrite and found:
            _remove_artifacts(self.out, found)
        self.accelerator = accelerator or make_accelerator(setup, **accelerator_kwargs)
        if not any(isinstance(t, JSONLTracker) for t in self.accelerator.log_with):  # a caller's Accelerator
            self.accelerator.log_with.append(JSONLTracker(self.out / LOG_FILE))
        self.accelerator.init_trackers(TENSORBOARD_RUN)
        set_seed(setup.seed)
        self.last_good: str | None = None
        self.identity: dict[str, Any] | None = None
        self._t0 = time.time()

    @property
    def is_main(self) -> bool:
        return self.accelerator.is_main_process

    def elapsed(self) -> float:
        """Training seconds so far, including those before a resume."""
        return time.time() - self._t0

    def restore(self, state: dict[str, Any], identity: dict[str, Any] | None = None) -> dict[str, Any]:
        """`state` updated from the newest usable checkpoint when resuming (call after `accelerator.prepare`).

        Unreadable or non-finite checkpoints are skipped with a message (falling back to the previous one);
        `identity` (see `run_identity`) is stored with every checkpoint and, on resume, must match the
        checkpoint's (`ResumeMismatchError` lists the differences; `allow_changed_args` accepts changed
        training arguments, never another dataset or model)."""
        self.identity = identity if identity is not None else self.identity
        ckpt = self._resume_checkpoint() if self.setup.resume else None
        if ckpt is not None:
            self._check_identity(ckpt)
            rng = rng_state_problem(ckpt)
            if rng is not None:
                warnings.warn(f"{rng}: the RNG state is not restored, so the resumed run will not repeat the "
                              "uninterrupted one exactly", stacklevel=2)
            saved = load_checkpoint(self.accelerator, ckpt)
            self._apply_learning_rate(saved.pop(IDENTITY_KEY, None))
            state.update(saved)
            self.last_good = str(ckpt)
            self.accelerator.print(f"Resumed from {ckpt} (epoch {state.get('epoch')}, step {state.get('global_step')})")
        elif self.setup.resume:
            self.accelerator.print(f"--resume: no checkpoint under {self.ckpt_root}; starting from scratch")
        self._t0 = time.time() - float(state.get("train_seconds", 0.0))
        return state

    def _resume_checkpoint(self) -> Path | None:
        """The newest usable checkpoint; each skipped one is reported; none usable of several is an error."""
        good, skipped = usable_checkpoints(self.ckpt_root)
        for line in skipped:
            self.accelerator.print(f"--resume: skipping {line}")
        if skipped and not good:
            raise CheckpointError(f"no usable checkpoint under {self.ckpt_root} ({'; '.join(skipped)}); remove "
                                  "them or pass --overwrite-output-dir to start over")
        return good[0] if good else None

    def _check_identity(self, ckpt: Path) -> None:
        saved = read_checkpoint_state(ckpt).get(IDENTITY_KEY)
        if self.identity is None or not isinstance(saved, dict):
            return
        sections = ("dataset", "model") if getattr(self.setup, "allow_changed_args", False) else (
            "dataset", "model", "training")
        diffs = identity_differences(saved, self.identity, sections)
        if diffs:
            raise ResumeMismatchError(
                f"cannot resume from {ckpt}: it belongs to another setup ({'; '.join(diffs)}). Resume with the "
                "checkpoint's dataset, model and arguments, choose another --output-dir, or (training "
                "arguments only) pass --allow-changed-args")

    def _apply_learning_rate(self, saved: dict[str, Any] | None) -> None:
        """After a resume with another learning rate (allow_changed_args), scale the restored optimizer and
        scheduler learning rates by new / checkpoint (load_state brings back the checkpoint's)."""
        old = ((saved or {}).get("training") or {}).get("learning_rate")
        new = getattr(self.setup, "learning_rate", None)
        if not old or not new or old == new:
            return
        scale = float(new) / float(old)
        for opt in self.accelerator._optimizers:
            for group in opt.param_groups:
                for key in ("lr", "initial_lr", "max_lr", "min_lr"):
                    if key in group:
                        group[key] *= scale
        for sched in self.accelerator._schedulers:
            inner = getattr(sched, "scheduler", sched)
            if hasattr(inner, "base_lrs"):
                inner.base_lrs = [lr * scale for lr in inner.base_lrs]
            if hasattr(inner, "_last_lr"):
                inner._last_lr = [lr * scale for lr in inner._last_lr]
        self.accelerator.print(f"--allow-changed-args: learning rate {old:g} -> {new:g} from here on")

    def checkpoint(self, step: int, state: dict[str, Any]) -> Path:
        """Save an atomic checkpoint at `step` holding `state` (+ train_seconds, the run identity); all
        processes must call it. Non-finite weights raise `NonFiniteWeightsError` and write nothing."""
        state["train_seconds"] = self.elapsed()
        saved = {**state, IDENTITY_KEY: self.identity} if self.identity is not None else state
        path = save_checkpoint(self.accelerator, self.ckpt_root, step, saved, self.setup.keep_checkpoints)
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

        try:
            with atomic_directory(folder) as tmp:
                save(Path(tmp))
                _check_finite_folder(Path(tmp), Path(folder))
                if card is not None:
                    write_model_card(tmp, **card)
        except OSError as err:
            if err.errno != errno.ENOSPC:
                raise
            raise CheckpointError(f"no space left on the device while writing {folder}; the previous {folder} "
                                  "is intact; free space and resume with --resume") from None
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
