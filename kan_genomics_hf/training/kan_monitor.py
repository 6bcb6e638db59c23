"""Where do the inputs of each KAN layer fall relative to its grid? Forward hooks on every KANLinear /
KANConv1d collect, during training forwards only, the count of inputs outside the extended grid (where the
spline branch and its gradient are exactly 0), outside the core grid range, and a bounded random sample of
input values for quantiles. ``summary()`` gives one flat dict per epoch for the JSONL log.

Cost: one comparison pass over each KAN layer's input plus a sample of at most
``sample_per_call`` values per call, at random positions (the SE inputs are (batch, channels), so this is
negligible).

    monitor = KANInputMonitor(model)      # attaches hooks
    ...train an epoch...
    logger.log(monitor.summary(), step, split="kan"); monitor.reset()
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ..modeling.kan_layers import KANConv1d, KANLinear

QUANTILES = (0.01, 0.25, 0.5, 0.75, 0.99)


def kan_layers(model: nn.Module) -> dict[str, nn.Module]:
    """Name -> module of every KANLinear / KANConv1d in ``model`` (names without a DDP/compile prefix)."""
    return {name: m for name, m in model.named_modules() if isinstance(m, (KANLinear, KANConv1d))}


def _feature_dim(module: nn.Module, x: Tensor) -> int:
    return 1 if isinstance(module, KANConv1d) else x.dim() - 1


def _bounds(module: nn.Module, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Per-feature extended (lo, hi) and core (lo, hi) grid bounds, shaped to broadcast against x."""
    shape = [1] * x.dim()
    shape[_feature_dim(module, x)] = -1
    grid, k = module.grid.detach(), module.spline_order
    ext_lo, ext_hi = grid[:, 0].reshape(shape), grid[:, -1].reshape(shape)
    core_lo, core_hi = grid[:, k].reshape(shape), grid[:, grid.shape[1] - 1 - k].reshape(shape)
    return ext_lo, ext_hi, core_lo, core_hi


class _LayerStats:
    """Running counts and a bounded sample of one layer's inputs (raw and relative to its core grid)."""

    def __init__(self, max_samples: int) -> None:
        self.max_samples = max_samples
        self.generator = torch.Generator().manual_seed(0)  # its own stream: the training RNG is not touched
        self.reset()

    def reset(self) -> None:
        self.n = 0
        self.out_ext = 0
        self.out_core = 0
        self.raw: list[Tensor] = []
        self.rel: list[Tensor] = []
        self.kept = 0

    def add(self, module: nn.Module, x: Tensor, sample_per_call: int) -> None:
        x = x.detach().float()
        ext_lo, ext_hi, core_lo, core_hi = _bounds(module, x)
        self.n += x.numel()
        self.out_ext += int(((x < ext_lo) | (x >= ext_hi)).sum())
        self.out_core += int(((x < core_lo) | (x > core_hi)).sum())
        if self.kept >= self.max_samples:
            return
        rel = (x - core_lo) / (core_hi - core_lo)  # 0..1 = the core grid range
        # positions drawn at random: a fixed stride through (batch, channels[, length]) lands on the same few
        # channels every call (a stride of 2 * length visits only the even channels at one position)
        flat_x, flat_rel = x.reshape(-1), rel.reshape(-1)
        if flat_x.numel() > sample_per_call:
            idx = torch.randint(flat_x.numel(), (sample_per_call,), generator=self.generator).to(x.device)
            flat_x, flat_rel = flat_x[idx], flat_rel[idx]
        self.raw.append(flat_x.cpu())
        self.rel.append(flat_rel.cpu())
        self.kept += self.raw[-1].numel()

    def summary(self) -> dict[str, float]:
        if not self.n:
            return {}
        out = {"out_of_grid": self.out_ext / self.n, "outside_range": self.out_core / self.n}
        raw, rel = torch.cat(self.raw), torch.cat(self.rel)
        q = torch.tensor(QUANTILES)
        for name, values in (("q", raw), ("rel_q", rel)):
            for p, v in zip(QUANTILES, torch.quantile(values, q).tolist()):
                out[f"{name}{int(round(p * 100)):02d}"] = v
        return out


class KANInputMonitor:
    """Forward hooks on every KAN layer of ``model`` recording its input distribution while training."""

    def __init__(self, model: nn.Module, max_samples: int = 20_000, sample_per_call: int = 256) -> None:
        if max_samples < 1 or sample_per_call < 1:
            raise ValueError("KANInputMonitor: max_samples and sample_per_call must be >= 1")
        self.sample_per_call = sample_per_call
        self.layers = kan_layers(model)
        self.stats = {name: _LayerStats(max_samples) for name in self.layers}
        self.last_inputs: dict[str, Tensor] = {}
        self.capture = False  # when True, keep each layer's last training input (for grid updates)
        self._handles = [m.register_forward_hook(self._hook(name)) for name, m in self.layers.items()]

    def _hook(self, name: str):
        def hook(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
            if not module.training or torch.compiler.is_compiling() or not inputs:
                return
            x = inputs[0]
            self.stats[name].add(module, x, self.sample_per_call)
            if self.capture:
                self.last_inputs[name] = x.detach()
        return hook

    def summary(self) -> dict[str, float]:
        """Flat {"<layer>/<stat>": value} over the forwards since the last reset, plus an overall mean."""
        flat: dict[str, float] = {}
        for name, st in self.stats.items():
            for key, value in st.summary().items():
                flat[f"{name}/{key}"] = value
        fracs = [v for k, v in flat.items() if k.endswith("/out_of_grid")]
        if fracs:
            flat["mean_out_of_grid"] = sum(fracs) / len(fracs)
        return flat

    def reset(self) -> None:
        for st in self.stats.values():
            st.reset()

    def remove(self) -> None:
        """Detach the hooks."""
        for h in self._handles:
            h.remove()
        self._handles = []
