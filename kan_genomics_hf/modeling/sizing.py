"""Parameter counting and equal-size scaling of LegNet configs.

``count_parameters`` is the package's one parameter counter: of a module, or of the classifier a config
describes, built on the ``meta`` device (no memory, no initialisation). The paper compares baseline /
LKAN / CKAN at equal parameter count. ``scale_config`` scales the widths (multiples of 8) to reach a
target count; ``preset_config`` gives named sizes per variant: the paper's "2M", "4M", "8M", "15M",
"22M" and small CPU sizes "50k", "200k", "1M", each within 1 % of the target so any two variants of
one size differ by at most 2 %.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .configuration_legnet import LegNetConfig
from .kan_layers import KANConv1d
from .modeling_legnet import ConvBNAct, LegNetForSequenceClassification, LegNetStage, _kan_kwargs

SIZE_PRESETS: dict[str, int] = {
    "50k": 50_000,
    "200k": 200_000,
    "1M": 1_000_000,
    "2M": 2_000_000,
    "4M": 4_000_000,
    "8M": 8_000_000,
    "15M": 15_000_000,
    "22M": 22_000_000,
}
PRESET_TOLERANCE = 0.01
WIDTH_MULTIPLE = 8


def count_parameters(model_or_config: nn.Module | LegNetConfig, trainable_only: bool = False) -> int:
    """Number of parameters of a module (only those with ``requires_grad`` if ``trainable_only``), or of
    ``LegNetForSequenceClassification(config)`` for a LegNetConfig (built on the meta device)."""
    if isinstance(model_or_config, LegNetConfig):
        with torch.device("meta"):
            model_or_config = LegNetForSequenceClassification(model_or_config)
    if not isinstance(model_or_config, nn.Module):
        raise TypeError(
            f"count_parameters expects an nn.Module or a LegNetConfig, got {type(model_or_config).__name__}"
        )
    return int(sum(p.numel() for p in model_or_config.parameters() if p.requires_grad or not trainable_only))


class _WidthCounter:
    """Parameter count of ``config`` with other block widths, for the width search: the model is a stem,
    stages and a head whose sizes depend only on their own widths, so each piece is built once on the
    meta device and its count cached (the search tries ~100 width lists; a whole model costs ~50 ms)."""

    def __init__(self, config: LegNetConfig) -> None:
        self.config = config
        self._cache: dict[tuple, int] = {}

    def _piece(self, key: tuple, build) -> int:
        if key not in self._cache:
            with torch.device("meta"):
                self._cache[key] = count_parameters(build())
        return self._cache[key]

    def __call__(self, widths: list[int]) -> int:
        c = self.config
        kan = _kan_kwargs(c)
        total = self._piece(("stem", widths[0]), lambda: ConvBNAct(
            c.in_channels, widths[0], c.kernel_size, kan=kan if c.uses_kan_conv("stem") else None))
        for i, (prev, nxt) in enumerate(zip(widths[:-1], widths[1:])):
            total += self._piece(("stage", i, prev, nxt), lambda i=i, prev=prev, nxt=nxt: LegNetStage(i, prev, nxt, c))
        head = (lambda: KANConv1d(widths[-1], c.num_labels, 1, **kan)) if c.uses_kan_conv("head") else (
            lambda: nn.Conv1d(widths[-1], c.num_labels, 1, bias=True))
        return total + self._piece(("head", widths[-1]), head)


def _with_widths(config: LegNetConfig, widths: list[int]) -> LegNetConfig:
    data = config.to_dict()
    data["block_sizes"] = widths
    for key in ("model_type", "transformers_version"):
        data.pop(key, None)
    return LegNetConfig(**data)


def _round_width(w: float) -> int:
    return max(WIDTH_MULTIPLE, int(round(w / WIDTH_MULTIPLE)) * WIDTH_MULTIPLE)


def scale_config(config: LegNetConfig, target_params: int, tolerance: float = 0.02) -> LegNetConfig:
    """Copy of ``config`` with block widths (multiples of 8) scaled so the count is within ``tolerance`` of target."""
    if target_params <= 0:
        raise ValueError(f"scale_config: target_params must be positive, got {target_params}")
    base = list(config.block_sizes)

    count = _WidthCounter(config)

    def err(widths: list[int]) -> float:
        return abs(count(widths) - target_params) / target_params

    # 1) uniform scale factor: bisection on the (monotone) count of the unrounded scale, then best rounding
    lo, hi = 1e-3, 1e3
    for _ in range(60):
        mid = (lo * hi) ** 0.5
        if count([_round_width(w * mid) for w in base]) < target_params:
            lo = mid
        else:
            hi = mid
    candidates = {tuple(_round_width(w * s) for w in base) for s in (lo, hi, (lo * hi) ** 0.5)}
    best = list(min(candidates, key=lambda c: err(list(c))))
    # 2) greedy moves of +-8 on one width, or +8 on one and -8 on another (fixes rounding granularity)
    n = len(best)
    moves = [{i: d} for i in range(n) for d in (WIDTH_MULTIPLE, -WIDTH_MULTIPLE)]
    moves += [{i: WIDTH_MULTIPLE, j: -WIDTH_MULTIPLE} for i in range(n) for j in range(n) if i != j]
    improved = True
    while err(best) > tolerance / 2 and improved:
        improved = False
        for move in moves:
            cand = [w + move.get(i, 0) for i, w in enumerate(best)]
            if min(cand) >= WIDTH_MULTIPLE and err(cand) < err(best):
                best, improved = cand, True
    final = _with_widths(config, best)
    got = count_parameters(final)
    if abs(got - target_params) > tolerance * target_params:
        raise ValueError(
            f"scale_config: cannot reach {target_params:,} parameters within {tolerance:.0%} with widths that are "
            f"multiples of {WIDTH_MULTIPLE} (closest: {got:,} with block_sizes {best})"
        )
    return final


def preset_config(variant: str, size: str, **overrides: Any) -> LegNetConfig:
    """Config of ``variant`` ("baseline" | "lkan" | "ckan") scaled to the named size (e.g. "2M", "50k")."""
    if size not in SIZE_PRESETS:
        raise ValueError(f"preset_config: unknown size {size!r}; choose from {list(SIZE_PRESETS)}")
    config = LegNetConfig(variant=variant, **overrides)
    return scale_config(config, SIZE_PRESETS[size], tolerance=PRESET_TOLERANCE)
