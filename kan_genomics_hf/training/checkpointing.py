"""Atomic, resumable training checkpoints on top of `Accelerator.save_state` (shared by every trainer).

Usage (any training loop, classifier or diffusion)::

    from kan_genomics_hf.training.checkpointing import save_checkpoint, latest_checkpoint, load_checkpoint

    ckpt = latest_checkpoint(output_dir / "checkpoints") if resume else None
    state = load_checkpoint(accelerator, ckpt) if ckpt else {"global_step": 0}
    ...
    save_checkpoint(accelerator, output_dir / "checkpoints", step, {"global_step": step, "epoch": e}, keep_last=3)

Each checkpoint is `checkpoints/checkpoint-<step:08d>/` holding Accelerate's model/optimizer/scheduler/RNG
state plus `trainer_state.json` (your own JSON-serialisable loop state). It is written into a hidden temp
directory and renamed into place only when complete, so a run killed at any moment (even SIGKILL) leaves
the previous checkpoint intact and a half-written one is never picked up. `atomic_directory` gives the
same guarantee for any other folder (e.g. a `save_pretrained` export).

A checkpoint is written only when every parameter and buffer of the prepared models is finite
(`NonFiniteWeightsError` otherwise, before anything is written or pruned), so the checkpoints on disk
are always finite; `usable_checkpoints` skips unreadable or non-finite ones (newest first) on resume.
"""
from __future__ import annotations

import errno
import json
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..io.atomic import atomic_directory, write_json_atomic  # noqa: F401  (re-exported for the loops)

CHECKPOINT_PREFIX = "checkpoint-"
STATE_FILE = "trainer_state.json"
_CKPT_RE = re.compile(r"^checkpoint-(\d+)$")
RNG_FILE = "random_states_0.pkl"


class RunError(RuntimeError):
    """A training run cannot start or go on; the message is one line naming the cause and the fix."""


class NonFiniteWeightsError(RunError):
    """The model holds NaN/inf parameters or buffers; nothing was written."""


class CheckpointError(RunError):
    """No checkpoint can be resumed from, or one cannot be written (e.g. the disk is full)."""


# a value whose square overflows float32 (|x| > ~1.8e19) is as good as inf: any variance or norm of it is inf
DIVERGED_MAGNITUDE = 3.4028234663852886e38 ** 0.5


def nonfinite_tensors(named: Iterable[tuple[str, Any]]) -> list[str]:
    """Names of the floating-point tensors in `named` holding NaN, inf or a diverged value (|x| above
    `DIVERGED_MAGNITUDE`, e.g. a BatchNorm running_var of 1e34 after a learning-rate blow-up)."""
    import torch

    return [name for name, t in named if torch.is_tensor(t) and t.is_floating_point() and t.numel()
            and not (bool(torch.isfinite(t).all()) and float(t.detach().abs().max()) <= DIVERGED_MAGNITUDE)]


def _model_tensors(accelerator: Any) -> Iterator[tuple[str, Any]]:
    for model in getattr(accelerator, "_models", []):
        yield from accelerator.unwrap_model(model).state_dict().items()


def _describe(names: list[str], limit: int = 5) -> str:
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def checkpoint_name(step: int) -> str:
    """Folder name of the checkpoint taken at optimizer step `step` (zero-padded so names sort by step)."""
    return f"{CHECKPOINT_PREFIX}{int(step):08d}"


def list_checkpoints(root: str | os.PathLike) -> list[Path]:
    """Complete checkpoints under `root` (those holding trainer_state.json), oldest step first."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = []
    for child in root.iterdir():
        m = _CKPT_RE.match(child.name)
        if m and child.is_dir() and (child / STATE_FILE).is_file():
            found.append((int(m.group(1)), child))
    return [p for _, p in sorted(found)]


def latest_checkpoint(root: str | os.PathLike) -> Path | None:
    """Newest complete checkpoint under `root`, or None when there is none."""
    ckpts = list_checkpoints(root)
    return ckpts[-1] if ckpts else None


def read_checkpoint_state(path: str | os.PathLike) -> dict[str, Any]:
    """The trainer_state.json of a checkpoint folder, with a clear error if it is missing or corrupt."""
    file = Path(path) / STATE_FILE
    try:
        return json.loads(file.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} is not a complete checkpoint: {STATE_FILE} is missing") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{file} is not valid JSON ({err})") from None


def save_checkpoint(
    accelerator: Any,
    root: str | os.PathLike,
    step: int,
    state: dict[str, Any],
    keep_last: int | None = 3,
) -> Path:
    """Save `accelerator` state + `state` as checkpoint-<step> atomically; keep only the newest `keep_last`.

    Must be called on every process (Accelerate gathers/saves per-process RNG state). Non-finite model
    tensors raise `NonFiniteWeightsError` before anything is written or pruned; a full disk raises
    `CheckpointError` (the half-written temp folder is removed, older checkpoints stay)."""
    root = Path(root)
    bad = nonfinite_tensors(_model_tensors(accelerator))
    if bad:
        kept = latest_checkpoint(root)
        raise NonFiniteWeightsError(
            f"not writing {checkpoint_name(step)}: the weights diverged (NaN/inf or |x| > 1.8e19 in {_describe(bad)}); kept "
            f"{kept or 'no checkpoint (none was written yet)'} as the newest finite checkpoint. Resume from it "
            "with --resume and a lower --learning-rate (plus --allow-changed-args), or check the inputs")
    try:
        return _write_checkpoint(accelerator, root, step, state, keep_last)
    except OSError as err:
        if err.errno != errno.ENOSPC:
            raise
        shutil.rmtree(root / f".tmp-{checkpoint_name(step)}", ignore_errors=True)
        raise CheckpointError(f"no space left on the device while writing {root / checkpoint_name(step)}; "
                              f"free space and resume with --resume (kept {latest_checkpoint(root)})") from None


def _write_checkpoint(accelerator: Any, root: Path, step: int, state: dict[str, Any], keep_last: int | None) -> Path:
    final = root / checkpoint_name(step)
    tmp = root / f".tmp-{checkpoint_name(step)}"
    if accelerator.is_main_process:
        root.mkdir(parents=True, exist_ok=True)
        if tmp.exists():
            shutil.rmtree(tmp)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        write_json_atomic(tmp / STATE_FILE, {**state, "checkpoint_step": int(step)})
        if final.exists():  # re-saving the same step (e.g. after a resume): swap atomically
            old = root / f".old-{checkpoint_name(step)}"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
        if keep_last is not None and keep_last > 0:
            for stale in list_checkpoints(root)[:-keep_last]:
                shutil.rmtree(stale, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def load_checkpoint(accelerator: Any, path: str | os.PathLike) -> dict[str, Any]:
    """Restore model/optimizer/scheduler/RNG state from `path` and return its trainer_state.json.

    Also advances `accelerator.project_configuration.iteration` (Accelerate's own counter is not
    restored by load_state), so automatic checkpoint naming continues after the loaded one."""
    path = Path(path)
    state = read_checkpoint_state(path)
    accelerator.load_state(str(path))
    n_saved = len(list_checkpoints(path.parent)) or 1
    accelerator.project_configuration.iteration = max(accelerator.project_configuration.iteration, n_saved)
    return state


def checkpoint_problem(path: str | os.PathLike) -> str | None:
    """Why checkpoint folder `path` cannot be resumed from (bad trainer_state.json, an unreadable or
    non-finite safetensors file), or None when it looks usable."""
    from safetensors import safe_open

    path = Path(path)
    try:
        state = read_checkpoint_state(path)
    except (OSError, ValueError) as err:
        return str(err)
    if not isinstance(state, dict):
        return f"{path / STATE_FILE} does not hold a JSON object"
    for file in sorted(path.glob("*.safetensors")):
        try:
            with safe_open(str(file), framework="pt") as f:
                bad = nonfinite_tensors((k, f.get_tensor(k)) for k in f.keys())
        except Exception as err:  # noqa: BLE001 - safetensors raises its own types for truncated files
            return f"{file} is truncated or corrupted ({str(err).splitlines()[0]})"
        if bad:
            return f"{file} holds NaN/inf in {_describe(bad)}"
    return None


def usable_checkpoints(root: str | os.PathLike) -> tuple[list[Path], list[str]]:
    """(checkpoints that pass `checkpoint_problem`, newest first; one line per skipped checkpoint)."""
    good, skipped = [], []
    for ckpt in reversed(list_checkpoints(root)):
        problem = checkpoint_problem(ckpt)
        if problem is None:
            good.append(ckpt)
        else:
            skipped.append(f"{ckpt.name}: {problem}")
    return good, skipped


def rng_state_problem(path: str | os.PathLike) -> str | None:
    """Why the checkpoint's RNG file (random_states_0.pkl) cannot be restored, or None when it loads."""
    from accelerate.utils import load

    file = Path(path) / RNG_FILE
    if not file.is_file():
        return f"{file} is missing"
    try:
        load(file)  # weights_only where torch supports it, the same call accelerate makes
    except Exception as err:  # noqa: BLE001 - unpickling raises many types
        return f"{file} cannot be read safely ({type(err).__name__}: {str(err).splitlines()[0][:120]})"
    return None
