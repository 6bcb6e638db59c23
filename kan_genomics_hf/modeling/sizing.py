"""Parameter counting and equal-size scaling of LegNet configs (pure arithmetic; no model is built).

The paper compares baseline / LKAN / CKAN at equal parameter count. ``scale_config`` scales the widths
(multiples of 8) to reach a target count; ``preset_config`` gives named sizes per variant: the paper's
"2M", "4M", "8M", "15M", "22M" and small CPU sizes "50k", "200k", "1M", each within 1 % of the target
so any two variants of one size differ by at most 2 %.
"""
from __future__ import annotations

from typing import Any

from .configuration_legnet import LegNetConfig

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


def _kan_factor(config: LegNetConfig) -> int:
    return config.kan_grid_size + config.kan_spline_order + 2


def _conv(config: LegNetConfig, name: str, cin: int, cout: int, k: int, groups: int = 1, bias: bool = False) -> int:
    if config.uses_kan_conv(name):
        return cin // groups * k * cout * _kan_factor(config)
    return cin // groups * k * cout + (cout if bias else 0)


def _dense(config: LegNetConfig, kan: bool, i: int, o: int, bias: bool) -> int:
    return i * o * _kan_factor(config) if kan else i * o + (o if bias else 0)


def _se(config: LegNetConfig, stage: int, block_in: int, channels: int) -> int:
    kan = config.uses_kan_se(stage)
    hidden = max(1, block_in // config.se_reduction)
    if config.se_type == "simple":
        return _dense(config, kan, channels, hidden, False) + _dense(config, kan, hidden, channels, False)
    half = max(1, hidden // 2)
    rank = config.bilinear_rank or max(1, hidden * hidden // 10)
    return (
        _dense(config, kan, channels, hidden, True)
        + _dense(config, kan, hidden, hidden, True)
        + 2 * hidden * rank + rank * half + half
        + _dense(config, kan, hidden + half, channels, True)
    )


def count_parameters(config: LegNetConfig) -> int:
    """Exact number of parameters of LegNetForSequenceClassification(config), computed from the config."""
    return _count(config, list(config.block_sizes))


def _count(config: LegNetConfig, b: list[int]) -> int:
    ks = config.kernel_size
    total = _conv(config, "stem", config.in_channels, b[0], ks) + 2 * b[0]
    for i, (prev, nxt) in enumerate(zip(b[:-1], b[1:])):
        inner = nxt * config.resize_factor
        total += _conv(config, f"blocks.{i}.expand", prev, inner, 1) + 2 * inner
        total += _conv(config, f"blocks.{i}.depthwise", inner, inner, ks, groups=inner // config.filter_per_group)
        total += 2 * inner
        total += _se(config, i, prev, inner)
        total += _conv(config, f"blocks.{i}.project", inner, prev, 1) + 2 * prev
        total += _conv(config, f"blocks.{i}.resize", 2 * prev, nxt, ks) + 2 * nxt
    total += _conv(config, "head", b[-1], config.num_labels, 1, bias=True)
    return total


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

    def count(widths: list[int]) -> int:
        return _count(config, widths)

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
