"""Plain re-statement of efficient-kan's ``KANLinear`` (Cox-de Boor recursion, ordinary autograd) and
of Bodner et al.'s convolutional KAN ("zero-pad, unfold, one KANLinear per group").

Written from the published semantics as the yardstick of the exactness tests and of
``scripts/bench_kan_layers.py``; deliberately slow and simple. Imports only torch.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["reference_b_splines", "reference_kan_linear", "reference_unfold_conv", "ReferenceKANLinear", "UnfoldReferenceConv"]


def reference_b_splines(x: Tensor, grid: Tensor, order: int) -> Tensor:
    """Basis (N, F, G+k) of x (N, F) on grid (F, G+2k+1): textbook recursion, half-open order-0 intervals."""
    x = x.unsqueeze(-1)
    b = ((x >= grid[:, :-1]) & (x < grid[:, 1:])).to(x.dtype)
    for p in range(1, order + 1):
        b = (x - grid[:, : -(p + 1)]) / (grid[:, p:-1] - grid[:, : -(p + 1)]) * b[:, :, :-1] + (
            grid[:, p + 1 :] - x
        ) / (grid[:, p + 1 :] - grid[:, 1:-p]) * b[:, :, 1:]
    return b


def reference_kan_linear(
    x: Tensor,
    grid: Tensor,
    base_weight: Tensor,
    spline_weight: Tensor,
    spline_scaler: Tensor | None,
    order: int,
    base_activation: Callable[[Tensor], Tensor] = F.silu,
) -> Tensor:
    """efficient-kan forward of x (N, in): W_base act(x) + (W_spline * scaler) B(x)."""
    w = spline_weight if spline_scaler is None else spline_weight * spline_scaler.unsqueeze(-1)
    b = reference_b_splines(x, grid.to(x.dtype), order)
    return F.linear(base_activation(x), base_weight) + F.linear(b.reshape(x.shape[0], -1), w.reshape(w.shape[0], -1))


def reference_unfold_conv(
    x: Tensor,
    grid: Tensor,
    base_weight: Tensor,
    spline_weight: Tensor,
    spline_scaler: Tensor | None,
    order: int,
    kernel_size: int,
    pad: tuple[int, int] = (0, 0),
    stride: int = 1,
    dilation: int = 1,
    groups: int = 1,
    base_activation: Callable[[Tensor], Tensor] = F.silu,
) -> Tensor:
    """KAN convolution of x (N, C_in, L) as zero-pad + unfold + one reference KANLinear per group.
    Weights in unfold column order (column c*K + j); grid (C_in, m), one row per input channel."""
    xp = F.pad(x, pad)
    n, k = x.shape[0], kernel_size
    cg, og = x.shape[1] // groups, base_weight.shape[0] // groups
    outs = []
    for gi in range(groups):
        cols = F.unfold(
            xp[:, gi * cg : (gi + 1) * cg].unsqueeze(-1), (k, 1), dilation=(dilation, 1), stride=(stride, 1)
        )  # (N, cg*K, Lout)
        lout = cols.shape[-1]
        sl = slice(gi * og, (gi + 1) * og)
        y = reference_kan_linear(
            cols.transpose(1, 2).reshape(n * lout, -1),
            grid[gi * cg : (gi + 1) * cg].repeat_interleave(k, dim=0),
            base_weight[sl],
            spline_weight[sl],
            None if spline_scaler is None else spline_scaler[sl],
            order,
            base_activation,
        )
        outs.append(y.reshape(n, lout, og).transpose(1, 2))
    return torch.cat(outs, dim=1)


class ReferenceKANLinear(nn.Module):
    """efficient-kan's KANLinear (SiLU base, standalone scaler) with plain autograd and random weights;
    parameter and buffer names match ``KANLinear``."""

    def __init__(self, in_features: int, out_features: int, grid_size: int = 5, spline_order: int = 3) -> None:
        super().__init__()
        self.in_features, self.out_features, self.spline_order = in_features, out_features, spline_order
        h = 2.0 / grid_size
        knots = torch.arange(-spline_order, grid_size + spline_order + 1, dtype=torch.float32) * h - 1.0
        self.register_buffer("grid", knots.expand(in_features, -1).contiguous())
        nb = grid_size + spline_order
        self.base_weight = nn.Parameter(torch.randn(out_features, in_features) / math.sqrt(in_features))
        self.spline_weight = nn.Parameter(torch.randn(out_features, in_features, nb) * 0.1)
        self.spline_scaler = nn.Parameter(torch.randn(out_features, in_features) / math.sqrt(in_features))

    def b_splines(self, x: Tensor) -> Tensor:
        return reference_b_splines(x, self.grid, self.spline_order)

    def forward(self, x: Tensor) -> Tensor:
        return reference_kan_linear(x, self.grid, self.base_weight, self.spline_weight, self.spline_scaler, self.spline_order)


class UnfoldReferenceConv(nn.Module):
    """Bodner et al.'s convolutional KAN: unfold the zero-padded input + one ReferenceKANLinear."""

    def __init__(self, cin: int, cout: int, k: int, padding: int) -> None:
        super().__init__()
        self.k, self.padding = k, padding
        self.kan = ReferenceKANLinear(cin * k, cout)

    def forward(self, x: Tensor) -> Tensor:
        kan = self.kan
        grid = kan.grid[:: self.k]  # the per-column grid is the per-channel one repeated K times
        return reference_unfold_conv(
            x, grid, kan.base_weight, kan.spline_weight, kan.spline_scaler, kan.spline_order, self.k,
            (self.padding, self.padding),
        )
