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
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from ..io.atomic import atomic_directory, write_json_atomic  # noqa: F401  (re-exported for the loops)

CHECKPOINT_PREFIX = "checkpoint-"
STATE_FILE = "trainer_state.json"
_CKPT_RE = re.compile(r"^checkpoint-(\d+)$")


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

    Must be called on every process (Accelerate gathers/saves per-process RNG state)."""
    root = Path(root)
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
