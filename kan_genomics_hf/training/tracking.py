"""Training metrics through accelerate's trackers: `JSONLTracker`, one JSON object per line (+ TensorBoard).

Usage::

    from accelerate import Accelerator
    from kan_genomics_hf.training.tracking import JSONLTracker, log_metrics
    acc = Accelerator(log_with=[JSONLTracker(out_dir / "train_log.jsonl"), "tensorboard"],
                      project_dir=out_dir)   # TensorBoard only when asked
    acc.init_trackers("tensorboard")         # TensorBoard writes to <logging_dir>/tensorboard
    log_metrics(acc, {"loss": 0.3, "lr": 1e-3}, step=10, split="train")
    acc.end_training()

`log_metrics` sends `<split>/<name>` keys (TensorBoard tags); the JSONL tracker writes them back as
records like `{"step": 10, "split": "train", "loss": 0.3, "lr": 0.001, "time": 12.5}`. The file is
appended to (a resumed run continues the same log) and flushed after every record; only the main
process writes. `read_jsonl` loads it back.
"""
from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

from accelerate.tracking import GeneralTracker, on_main_process

DEFAULT_SPLIT = "train"


def _plain(value: Any) -> Any:
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN/inf; keep them visible as strings
    return value


def log_metrics(accelerator: Any, metrics: dict[str, Any], step: int, split: str = DEFAULT_SPLIT) -> None:
    """Log `metrics` of one split to every tracker of `accelerator` (as `<split>/<name>` keys)."""
    accelerator.log({f"{split}/{k}": _plain(v) for k, v in metrics.items()}, step=int(step))


class JSONLTracker(GeneralTracker):
    """An accelerate tracker appending one JSON record per (step, split) to `path` (main process only)."""

    name = "jsonl"
    requires_logging_directory = False
    main_process_only = True

    def __init__(self, path: str | os.PathLike) -> None:
        super().__init__()
        self.path = Path(path)
        self._fh = None
        self._t0 = time.time()

    @property
    def tracker(self) -> Any:
        return self._fh

    @on_main_process
    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a")
        self._t0 = time.time()

    @on_main_process
    def store_init_configuration(self, values: dict) -> None:
        """Hyperparameters are in results.json; the log holds metrics only."""

    @on_main_process
    def log(self, values: dict, step: int | None = None, **kwargs: Any) -> None:
        """Write one record per split found in the `<split>/<name>` keys of `values` (no prefix = train)."""
        if self._fh is None:
            self.start()
        by_split: dict[str, dict[str, Any]] = {}
        for key, value in values.items():
            split, _, name = key.partition("/") if "/" in key else ("", "", key)  # names may hold "/" (kan rows)
            by_split.setdefault(split or DEFAULT_SPLIT, {})[name] = _plain(value)
        for split, metrics in by_split.items():
            record = {"step": int(step or 0), "split": split, **metrics, "time": round(time.time() - self._t0, 3)}
            self._fh.write(json.dumps(record) + "\n")
        self._fh.flush()

    @on_main_process
    def finish(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def read_jsonl(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Load every record of a JSONL log (skipping a truncated last line left by a killed run)."""
    records = []
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records
