"""Interpretability of linear KAN layers: evaluate, plot, rank and prune the learned edge functions.

A KANLinear computes y_o = sum_i phi_{o,i}(x_i) with
phi_{o,i}(x) = base_weight[o,i] * SiLU(x) + sum_b spline_weight[o,i,b] * spline_scaler[o,i] * B_b(x).
This module evaluates phi on a grid of inputs (or on recorded data), ranks edges by the size of their
function (mean |phi| = L1 norm over the inputs, or the standard deviation over data as in pykan), and
prunes edges by zeroing their weights -- what the paper says efficient linear KANs lacked.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor, nn

from ..modeling.kan_layers import KANLinear


def kan_linear_layers(model: nn.Module) -> dict[str, KANLinear]:
    """All KANLinear layers of a model by qualified name (e.g. 'legnet.blocks.0.se.fc1')."""
    return {name: m for name, m in model.named_modules() if isinstance(m, KANLinear)}


def input_grid(layer: KANLinear, n_points: int = 201, x_range: tuple[float, float] | None = None) -> Tensor:
    """Evaluation points (n_points, in): per feature, uniform over x_range or its extended spline grid."""
    if n_points < 2:
        raise ValueError(f"n_points must be >= 2, got {n_points}")
    t = torch.linspace(0, 1, n_points, dtype=torch.float32).unsqueeze(1)
    if x_range is not None:
        lo, hi = float(x_range[0]), float(x_range[1])
        if not hi > lo:
            raise ValueError(f"x_range must be (low, high) with low < high, got {x_range}")
        return (lo + t * (hi - lo)).expand(n_points, layer.in_features).contiguous()
    grid = layer.grid.detach().float().cpu()
    lo, hi = grid[:, 0].unsqueeze(0), grid[:, -1].unsqueeze(0)
    return lo + t * (hi - lo)


@torch.no_grad()
def edge_functions(layer: KANLinear, x: Tensor | None = None, n_points: int = 201,
                   x_range: tuple[float, float] | None = None) -> tuple[Tensor, Tensor]:
    """phi_{o,i} at points x (P, in): returns (x, phi) with phi of shape (P, out, in); sum over i gives layer(x)."""
    if not isinstance(layer, KANLinear):
        raise TypeError(f"edge_functions expects a KANLinear, got {type(layer).__name__}")
    if x is None:
        x = input_grid(layer, n_points, x_range)
    x = x.detach().reshape(-1, layer.in_features).to(layer.base_weight.device, torch.float32)
    basis = layer.b_splines(x).float()  # (P, in, nb)
    spline = torch.einsum("pib,oib->poi", basis, layer.scaled_spline_weight.float())
    base = layer.base_activation(x).unsqueeze(1) * layer.base_weight.float().unsqueeze(0)
    return x.cpu(), (spline + base).cpu()


@torch.no_grad()
def edge_importance(layer: KANLinear, x: Tensor | None = None, n_points: int = 201,
                    x_range: tuple[float, float] | None = None, norm: str = "l1") -> Tensor:
    """Size of every edge function (out, in): mean |phi| ("l1") or its standard deviation ("std") over x."""
    if norm not in ("l1", "std"):
        raise ValueError(f"norm must be 'l1' or 'std', got {norm!r}")
    _, phi = edge_functions(layer, x, n_points, x_range)
    return phi.abs().mean(0) if norm == "l1" else phi.std(0, unbiased=False)


def rank_edges(layer: KANLinear, top_k: int | None = None, **kwargs: object) -> list[tuple[int, int, float]]:
    """Edges as (out, in, importance), largest first (``kwargs`` go to ``edge_importance``)."""
    imp = edge_importance(layer, **kwargs)  # type: ignore[arg-type]
    order = torch.argsort(imp.flatten(), descending=True)
    if top_k is not None:
        order = order[:top_k]
    n_in = imp.shape[1]
    return [(int(k) // n_in, int(k) % n_in, float(imp.flatten()[k])) for k in order]


@torch.no_grad()
def prune_edges(layer: KANLinear, threshold: float | None = None, fraction: float | None = None,
                **kwargs: object) -> Tensor:
    """Zero the weights of small edges (importance < threshold, or the smallest ``fraction``); returns the kept mask."""
    if (threshold is None) == (fraction is None):
        raise ValueError("prune_edges: pass exactly one of threshold or fraction")
    imp = edge_importance(layer, **kwargs)  # type: ignore[arg-type]
    if fraction is not None:
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"prune_edges: fraction must be in [0, 1], got {fraction}")
        n_prune = int(round(fraction * imp.numel()))
        keep = torch.ones(imp.numel(), dtype=torch.bool)
        keep[torch.argsort(imp.flatten())[:n_prune]] = False
        keep = keep.reshape(imp.shape)
    else:
        keep = imp >= float(threshold)  # type: ignore[arg-type]
    mask = keep.to(layer.base_weight.device)
    layer.base_weight.mul_(mask.to(layer.base_weight.dtype))
    layer.spline_weight.mul_(mask.unsqueeze(-1).to(layer.spline_weight.dtype))
    if layer.spline_scaler is not None:
        layer.spline_scaler.mul_(mask.to(layer.spline_scaler.dtype))
    return keep


def plot_edge_functions(layer: KANLinear, path: str | os.PathLike, edges: Sequence[tuple[int, int]] | None = None,
                        top_k: int = 9, x: Tensor | None = None, n_points: int = 201,
                        x_range: tuple[float, float] | None = None, title: str | None = None,
                        data: Tensor | None = None) -> Path:
    """PNG grid of phi_{o,i}(x) curves for ``edges`` (default: the ``top_k`` largest), with grid knots marked.

    ``data`` (N, in), if given, is drawn as a rug of the inputs the layer actually saw.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if edges is None:
        edges = [(o, i) for o, i, _ in rank_edges(layer, top_k=top_k, x=x, n_points=n_points, x_range=x_range)]
    edges = list(edges)
    if not edges:
        raise ValueError("plot_edge_functions: no edges to plot")
    for o, i in edges:
        if not (0 <= o < layer.out_features and 0 <= i < layer.in_features):
            raise ValueError(f"edge ({o}, {i}) outside the layer ({layer.out_features} outputs, {layer.in_features} inputs)")
    xs, phi = edge_functions(layer, x, n_points, x_range)
    imp = phi.abs().mean(0)
    n = len(edges)
    cols = min(3, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.6 * rows), squeeze=False)
    grid = layer.grid.detach().float().cpu()
    k = layer.spline_order
    for ax, (o, i) in zip(axes.flat, edges):
        order = torch.argsort(xs[:, i])
        ax.plot(xs[order, i].numpy(), phi[order, o, i].numpy(), color="tab:blue")
        for knot in grid[i, k : grid.shape[1] - k].tolist():
            ax.axvline(knot, color="0.85", lw=0.6, zorder=0)
        if data is not None:
            d = data.detach().reshape(-1, layer.in_features)[:, i].float().cpu().numpy()
            ax.plot(d, [ax.get_ylim()[0]] * len(d), "|", color="tab:orange", alpha=0.3, ms=6)
        ax.set_title(f"phi[out {o}, in {i}]  |phi|={imp[o, i]:.3g}", fontsize=8)
        ax.set_xlabel(f"input {i} value x (layer input units)", fontsize=7)
        ax.set_ylabel("phi(x) (contribution to output)", fontsize=7)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle(title or f"KAN edge functions phi[out, in](x): {n} of {layer.out_features * layer.in_features} "
                 "edges (grey lines: grid knots)", fontsize=10)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


class InputRecorder:
    """Context manager recording the inputs of chosen KANLinear layers during forward passes."""

    def __init__(self, layers: dict[str, KANLinear]):
        self.layers, self.inputs = layers, {name: [] for name in layers}
        self._handles: list = []

    def __enter__(self) -> InputRecorder:
        for name, layer in self.layers.items():
            self._handles.append(layer.register_forward_pre_hook(
                lambda mod, args, name=name: self.inputs[name].append(args[0].detach().reshape(-1, mod.in_features).cpu())
            ))
        return self

    def __exit__(self, *exc: object) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()

    def data(self, name: str) -> Tensor:
        """All recorded inputs (N, in) of layer ``name``."""
        if not self.inputs.get(name):
            raise KeyError(f"no inputs recorded for layer {name!r}")
        return torch.cat(self.inputs[name])
