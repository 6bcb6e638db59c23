"""Build classifier models for training: a named size preset (equal parameter count across baseline /
LKAN / CKAN, from `modeling.sizing`) or explicit LegNetConfig fields; parameter and FLOP counts."""
from __future__ import annotations

from typing import Any

from ..modeling.configuration_legnet import VARIANTS
from ..modeling.sizing import count_parameters

__all__ = ["VARIANTS", "build_config", "build_model", "count_parameters", "flops_per_sequence"]


def build_config(variant: str, size: str | None = None, num_labels: int = 2, **overrides: Any):
    """LegNetConfig for `variant` at preset `size` (e.g. "50k", "200k", "2M") or from explicit `overrides`."""
    from ..modeling.configuration_legnet import LegNetConfig

    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    if size:
        from ..modeling.sizing import preset_config
        return preset_config(variant, size, num_labels=num_labels, **overrides)
    return LegNetConfig(variant=variant, num_labels=num_labels, **overrides)


def build_model(config):
    """A freshly initialised LegNetForSequenceClassification."""
    from ..modeling.modeling_legnet import LegNetForSequenceClassification

    return LegNetForSequenceClassification(config)


def flops_per_sequence(model, length: int) -> int | None:
    """Forward FLOPs for one sequence of `length` bp (None if the profiler is unavailable)."""
    try:
        from .profiling import count_flops_per_sequence
    except ImportError:
        return None
    try:
        return int(count_flops_per_sequence(model, length))
    except Exception:  # noqa: BLE001 - FLOP counting is informative only
        return None
