"""Training-metric logging shared by all trainers: one JSON object per line (+ optional TensorBoard).

Usage::

    from kan_genomics_hf.training.tracking import MetricLogger
    with MetricLogger(out_dir / "train_log.jsonl", tensorboard_dir=out_dir / "tb", enabled=accelerator.is_main_process) as log:
        log.log({"loss": 0.3, "lr": 1e-3}, step=10, split="train")

Records look like `{"step": 10, "split": "train", "loss": 0.3, "lr": 0.001, "time": 12.5}`; the file is
appended to (so a resumed run continues the same log) and flushed after every record. `read_jsonl`
loads it back. TensorBoard is used only when requested and installed; otherwise a warning is printed.
"""
from __future__ import annotations

import json
import math
import os
import time
import warnings
from pathlib import Path
from typing import Any


def _plain(value: Any) -> Any:
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN/inf; keep them visible as strings
    return value


class MetricLogger:
    """Append metrics as JSONL (and to TensorBoard if asked); a no-op when `enabled` is False (non-main ranks)."""

    def __init__(
        self,
        path: str | os.PathLike,
        tensorboard_dir: str | os.PathLike | None = None,
        enabled: bool = True,
    ) -> None:
        self.path = Path(path)
        self.enabled = enabled
        self._t0 = time.time()
        self._fh = None
        self._tb = None
        if not enabled:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a")
        if tensorboard_dir is not None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                warnings.warn("TensorBoard logging requested but `tensorboard` is not installed; "
                              "install kan-genomics-hf[tensorboard]. Logging JSONL only.")
            else:
                self._tb = SummaryWriter(log_dir=str(tensorboard_dir))

    def log(self, metrics: dict[str, Any], step: int, split: str = "train") -> None:
        """Write one record; numbers also go to TensorBoard as `<split>/<name>`."""
        if not self.enabled:
            return
        record = {"step": int(step), "split": split, **{k: _plain(v) for k, v in metrics.items()},
                  "time": round(time.time() - self._t0, 3)}
        self._fh.write(json.dumps(record) + "\n")
        self._fh.flush()
        if self._tb is not None:
            for key, value in metrics.items():
                value = _plain(value)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    self._tb.add_scalar(f"{split}/{key}", value, int(step))

    def close(self) -> None:
        """Flush and close the file and the TensorBoard writer."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._tb is not None:
            self._tb.close()
            self._tb = None

    def __enter__(self) -> "MetricLogger":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


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
