"""Is an input unlike the training data? One check shared by `kan-genomics predict` and the pipelines.

`out_of_distribution_warning(seqs, ids, training_length)` returns one line naming what is unusual (sequences
much shorter or longer than the training length, sequences that are mostly N) with a count and the first
record id, or None when nothing is. Callers print / log it once per call.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

LENGTH_RATIO = 2.0  # a length outside [training_length / 2, training_length * 2] is "far" from training
MAX_N_FRACTION = 0.5  # more than half N (or other ambiguous bases) carries little signal


def training_length_of(config: Any) -> int | None:
    """The training sequence length recorded on a model config (``training_length``), else None."""
    value = getattr(config, "training_length", None)
    return int(value) if isinstance(value, (int, float)) and value > 0 else None


def _n_fraction(seq: str) -> float:
    return sum(1 for c in seq if c not in "ACGTacgt") / max(1, len(seq))


def _describe(kind: str, hits: list[int], ids: Sequence[str]) -> str:
    return f"{len(hits)} {kind} (first: {ids[hits[0]]})"


def out_of_distribution_warning(
    seqs: Sequence[str], ids: Sequence[str] | None = None, training_length: int | None = None,
    length_ratio: float = LENGTH_RATIO, max_n_fraction: float = MAX_N_FRACTION,
) -> str | None:
    """One line describing inputs unlike the training data, or None (see the module doc)."""
    names = list(ids) if ids is not None else [str(i) for i in range(len(seqs))]
    parts = []
    if training_length:
        short = [i for i, s in enumerate(seqs) if len(s) * length_ratio < training_length]
        long = [i for i, s in enumerate(seqs) if len(s) > training_length * length_ratio]
        if short:
            parts.append(_describe(f"shorter than {training_length / length_ratio:g} bp", short, names))
        if long:
            parts.append(_describe(f"longer than {training_length * length_ratio:g} bp (scored as one window; "
                                   "the pipeline's window=... scans them)", long, names))
    mostly_n = [i for i, s in enumerate(seqs) if _n_fraction(s) > max_n_fraction]
    if mostly_n:
        parts.append(_describe(f"more than {max_n_fraction:.0%} N", mostly_n, names))
    if not parts:
        return None
    trained = f"trained on {training_length} bp sequences" if training_length else "trained on DNA"
    return f"inputs unlike the training data ({trained}): " + "; ".join(parts) + "; their scores are unreliable"
