"""Kolmogorov-Arnold layers: a linear KAN (efficient-kan semantics) and a 1-D convolutional KAN.

Both layers compute  y = W_base . act(x) + (W_spline * scaler) . B(x)  with B the B-spline basis of
order k on a grid of G intervals extended by k knots each side (spline term and its gradient are
zero outside the extended grid). They are exact re-implementations of efficient-kan's ``KANLinear``
(state dicts load unchanged) and of "unfold + KANLinear" for the convolution, but

* the basis has a closed form on uniform grids (orders 1-3) and a guarded Cox-de Boor recursion
  otherwise, always evaluated in at least float32 (also under autocast; only the matmul/conv follows
  the autocast dtype);
* custom autograd Functions save only the input and the weights and recompute the basis (and its
  derivative) in backward, so saved activations are about those of ``nn.Linear`` / ``nn.Conv1d``;
* the convolution expands every input element into its basis once and runs ONE ``conv1d`` over the
  (N, C*(nb+1), L) expansion: no loop over channels, no unfold;
* everything traces under ``torch.compile(fullgraph=True)``; there a large linear layer enters the
  graph as one custom op that runs the eager path (row chunks, fused kernels), ``torch.export`` traces it.

The basis maths live in ``kan_basis.py`` and the autograd Functions in ``kan_autograd.py``; this file
holds the modules. The three files are shipped verbatim as Hub remote code: they import only torch
and each other.
"""
from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .kan_autograd import _compute_dtype, _KANConv1dFn, kan_linear
from .kan_basis import _grid_is_uniform, _spline_basis, _uniform_grid

__all__ = ["KANLinear", "KANConv1d"]

# Element budget of one least-squares chunk (samples * features * basis) in update_grid.
_LSTSQ_CHUNK_ELEMENTS = 1 << 22


# ----------------------------------------------------------------------------------------------
# Shared module machinery
# ----------------------------------------------------------------------------------------------
def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int >= {minimum}, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def _check_float(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _check_grid_range(grid_range: object) -> tuple[float, float]:
    if not isinstance(grid_range, (tuple, list)) or len(grid_range) != 2:
        raise ValueError(f"grid_range must be a pair (low, high), got {grid_range!r}")
    lo, hi = _check_float("grid_range[0]", grid_range[0]), _check_float("grid_range[1]", grid_range[1])
    if not hi > lo:
        raise ValueError(f"grid_range must have high > low, got {grid_range!r}")
    return lo, hi


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Run the small float64 fits single-threaded: they are tiny, and batched LAPACK calls inside an
    OpenMP region stall for ~1 s each on an oversubscribed CPU (measured on a shared 2-core machine)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def _lstsq(a: Tensor, b: Tensor) -> Tensor:
    """Minimum-norm least squares (float64, CPU; rank-revealing QR handles rank-deficient systems,
    e.g. fewer distinct data points than basis functions)."""
    return torch.linalg.lstsq(a, b, driver="gelsy").solution


def _should_init(t: Tensor) -> bool:
    """False for meta tensors and for tensors transformers marked as loaded (``_is_hf_initialized``)."""
    return not t.is_meta and not getattr(t, "_is_hf_initialized", False)


def _check_base_activation(base_activation: object) -> nn.Module:
    """An nn.Module class (efficient-kan's convention) or instance, or a plain function of a tensor."""
    if isinstance(base_activation, nn.Module):
        return base_activation
    if isinstance(base_activation, type):
        if not issubclass(base_activation, nn.Module):
            raise TypeError(f"base_activation must be an nn.Module class, got the class {base_activation.__name__}")
        return base_activation()
    if base_activation is F.silu:
        return nn.SiLU()
    if callable(base_activation):
        return _Lambda(base_activation)  # type: ignore[arg-type]
    raise TypeError(f"base_activation must be an nn.Module class or instance or a function, got {base_activation!r}")


class _Lambda(nn.Module):
    """Wraps a plain activation function as a module."""

    def __init__(self, fn: Callable[[Tensor], Tensor]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: Tensor) -> Tensor:
        return self.fn(x)


class _KANBase(nn.Module):
    """Grid, parameters, initialisation, regulariser and out-of-grid readout shared by both layers.

    ``n_cols`` weight columns (inputs of the equivalent KANLinear), ``n_grid_rows`` grid rows; the
    subclass sets its own attributes, then calls ``reset_parameters()``.
    """

    grid: Tensor
    last_out_of_grid_fraction: Tensor

    def __init__(
        self,
        *,
        n_cols: int,
        n_grid_rows: int,
        out_features: int,
        grid_size: int,
        spline_order: int,
        grid_range: Sequence[float],
        scale_noise: float,
        scale_base: float,
        scale_spline: float,
        base_activation: object,
        grid_eps: float,
        enable_standalone_scale_spline: bool,
        track_out_of_grid: bool,
    ) -> None:
        super().__init__()
        self.grid_size = _check_int("grid_size", grid_size, 1)
        self.spline_order = _check_int("spline_order", spline_order, 0)
        self.grid_range = _check_grid_range(grid_range)
        self.scale_noise = _check_float("scale_noise", scale_noise)
        self.scale_base = _check_float("scale_base", scale_base)
        self.scale_spline = _check_float("scale_spline", scale_spline)
        self.grid_eps = _check_float("grid_eps", grid_eps)
        if not 0.0 <= self.grid_eps <= 1.0:
            raise ValueError(f"grid_eps must be in [0, 1], got {grid_eps}")
        self.enable_standalone_scale_spline = bool(enable_standalone_scale_spline)
        self.track_out_of_grid = bool(track_out_of_grid)
        self.base_activation = _check_base_activation(base_activation)
        nb = self.grid_size + self.spline_order
        self.register_buffer("grid", _uniform_grid(n_grid_rows, self.grid_size, self.spline_order, self.grid_range))
        self.register_buffer("last_out_of_grid_fraction", torch.zeros(()), persistent=False)
        self.base_weight = nn.Parameter(torch.empty(out_features, n_cols))
        self.spline_weight = nn.Parameter(torch.empty(out_features, n_cols, nb))
        if self.enable_standalone_scale_spline:
            self.spline_scaler = nn.Parameter(torch.empty(out_features, n_cols))
        else:
            self.register_parameter("spline_scaler", None)
        self._uniform = True
        self._grid_key: tuple[int, int] = (-1, -1)

    # -- grid bookkeeping -----------------------------------------------------------------------
    @property
    def num_basis(self) -> int:
        """Number of B-spline basis functions per input column (grid_size + spline_order)."""
        return self.grid_size + self.spline_order

    def _refresh_uniform(self) -> None:
        self._uniform = _grid_is_uniform(self.grid)
        self._grid_key = (id(self.grid), self.grid._version)

    def _grid_uniform(self) -> bool:
        """'Grid is uniform' flag, re-checked in eager mode whenever the grid buffer was replaced (new
        id: loading, ``to``, ``to_empty``) or written in place (new version: ``copy_``, ``load_state_dict``)."""
        if not torch.compiler.is_compiling():
            key = (id(self.grid), self.grid._version)
            if key != self._grid_key:
                self._refresh_uniform()
        return self._uniform

    def _apply(self, fn, recurse=True):  # type: ignore[override]
        """Keep the grid in at least float32 when the module is cast to half/bfloat16 (knots such as
        -2.2 are not representable in bfloat16, which would make the grid non-uniform)."""
        grid = self.grid
        out = super()._apply(fn, recurse)
        if self.grid.dtype in (torch.float16, torch.bfloat16) and grid.dtype not in (torch.float16, torch.bfloat16):
            self.grid = grid.to(device=self.grid.device)
        return out

    def uniform_grid(self) -> Tensor:
        """A fresh uniform grid on grid_range (from grid_size and spline_order), shaped, typed and placed like ``grid``."""
        new = _uniform_grid(self.grid.shape[0], self.grid_size, self.spline_order, self.grid_range)
        return new.to(dtype=self.grid.dtype, device="cpu" if self.grid.is_meta else self.grid.device)

    def reset_grid(self) -> None:
        """Restore the uniform grid on grid_range (e.g. after ``to_empty``); no-op values on meta."""
        with torch.no_grad():
            if not self.grid.is_meta:
                self.grid.copy_(self.uniform_grid())

    # -- initialisation -------------------------------------------------------------------------
    @property
    def scaled_spline_weight(self) -> Tensor:
        """Effective spline coefficients spline_weight * spline_scaler (out, cols, nb)."""
        if self.spline_scaler is None:
            return self.spline_weight
        return self.spline_weight * self.spline_scaler.unsqueeze(-1)

    def reset_parameters(self) -> None:
        """efficient-kan initialisation: kaiming-uniform base/scaler (a = sqrt(5)*scale, so a larger
        scale gives a SMALLER init) and spline coefficients fitted to uniform noise of amplitude
        scale_noise/grid_size at the grid points. Skips everything on the meta device (call it again,
        e.g. from a transformers ``_init_weights``, once the weights are materialised)."""
        if self.base_weight.is_meta or self.grid.is_meta:
            return
        with torch.no_grad():
            self.last_out_of_grid_fraction.zero_()
        if _should_init(self.base_weight):
            nn.init.kaiming_uniform_(self.base_weight, a=math.sqrt(5) * self.scale_base)
        if _should_init(self.spline_weight):
            with torch.no_grad():
                out, cols, _ = self.spline_weight.shape
                k = self.spline_order
                pts = self.grid[:, k : self.grid.shape[1] - k].t()  # (G+1, rows)
                noise = (torch.rand(pts.shape[0], cols, out) - 0.5) * (self.scale_noise / self.grid_size)
                with _one_thread():
                    coeff = self._curve_to_coeff(self._expand_grid_points(pts), noise)  # (out, cols, nb)
                factor = 1.0 if self.enable_standalone_scale_spline else self.scale_spline
                self.spline_weight.copy_((factor * coeff).to(self.spline_weight))
        if self.spline_scaler is not None and _should_init(self.spline_scaler):
            nn.init.kaiming_uniform_(self.spline_scaler, a=math.sqrt(5) * self.scale_spline)

    def _expand_grid_points(self, pts: Tensor) -> Tensor:
        """Map per-grid-row points (P, rows) to per-column points (P, cols)."""
        return pts

    def _col_grid(self) -> Tensor:
        """Grid per weight column (cols, m)."""
        return self.grid

    def _curve_to_coeff(self, x: Tensor, y: Tensor) -> Tensor:
        """Least-squares spline coefficients (out, cols, nb) with B(x) @ c ~= y; x (P, cols), y (P, cols, out).
        float64 on CPU; columns sharing the same grid and points (the usual case at initialisation)
        share one factorisation, so a layer costs one small solve instead of ``cols`` batched ones."""
        grid = self._col_grid().detach().to("cpu", torch.float64)
        x = x.detach().to("cpu", torch.float64)
        y = y.detach().to("cpu", torch.float64)
        cols, out = y.shape[1], y.shape[2]
        keys, inverse = torch.unique(torch.cat([grid, x.t()], dim=1), dim=0, return_inverse=True)
        if keys.shape[0] == 1:  # one shared grid: a single (P, nb) pseudo-inverse for every column
            a, _ = _spline_basis(x[:, :1], grid[:1], self.spline_order, False)
            sol = torch.linalg.pinv(a[:, 0]) @ y.reshape(x.shape[0], -1)  # (nb, cols*out)
            return sol.reshape(self.num_basis, cols, out).permute(2, 1, 0).to(self.spline_weight.device)
        res = torch.empty(cols, self.num_basis, out, dtype=torch.float64)
        for u in range(keys.shape[0]):
            idx = (inverse == u).nonzero().squeeze(1)
            a, _ = _spline_basis(x[:, idx[:1]], grid[idx[:1]], self.spline_order, False)  # (P, 1, nb)
            rhs = y[:, idx].reshape(x.shape[0], -1)  # (P, |idx|*out)
            sol = torch.linalg.pinv(a[:, 0]) @ rhs  # min-norm least squares, (nb, |idx|*out)
            res[idx] = sol.reshape(self.num_basis, idx.numel(), out).transpose(0, 1)
        return res.permute(2, 0, 1).to(self.spline_weight.device)

    # -- regulariser / readout ------------------------------------------------------------------
    def regularization_loss(self, regularize_activation: float = 1.0, regularize_entropy: float = 1.0) -> Tensor:
        """efficient-kan's regulariser: a * sum(mean|spline_weight|) + e * entropy of the normalised
        L1 map; finite (value and gradient) for any weights, zero rows included."""
        l1 = self.spline_weight.abs().mean(-1)
        total = l1.sum()
        p = l1 / torch.where(total > 0, total, torch.ones_like(total))  # all-zero weights: p = 0, no 0/0
        entropy = -(p * torch.log(p.clamp_min(torch.finfo(l1.dtype).tiny))).sum()  # 0 log 0 := 0
        return regularize_activation * total + regularize_entropy * entropy

    def _out_of_grid(self, x: Tensor, feature_dim: int) -> Tensor:
        shape = [1] * x.dim()
        shape[feature_dim] = -1
        lo = self.grid[:, 0].reshape(shape)
        hi = self.grid[:, -1].reshape(shape)
        return ((x < lo) | (x >= hi)).float().mean()


# ----------------------------------------------------------------------------------------------
# Public layers
# ----------------------------------------------------------------------------------------------
class KANLinear(_KANBase):
    """Linear KAN layer with efficient-kan semantics: (..., in_features) -> (..., out_features).

    Parameters: ``base_weight (out, in)``, ``spline_weight (out, in, G+k)``, ``spline_scaler (out, in)``
    (absent when ``enable_standalone_scale_spline=False``); persistent buffer ``grid (in, G+2k+1)``.
    Set ``track_out_of_grid=True`` to record, in ``last_out_of_grid_fraction``, the fraction of the
    last input's elements outside the extended grid (where the spline branch is zero).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        grid_size: int = 5,
        spline_order: int = 3,
        grid_range: Sequence[float] = (-1.0, 1.0),
        scale_noise: float = 0.1,
        scale_base: float = 1.0,
        scale_spline: float = 1.0,
        base_activation: object = nn.SiLU,
        grid_eps: float = 0.02,
        enable_standalone_scale_spline: bool = True,
        track_out_of_grid: bool = False,
    ) -> None:
        in_features = _check_int("in_features", in_features, 1)
        out_features = _check_int("out_features", out_features, 1)
        super().__init__(
            n_cols=in_features, n_grid_rows=in_features, out_features=out_features, grid_size=grid_size,
            spline_order=spline_order, grid_range=grid_range, scale_noise=scale_noise, scale_base=scale_base,
            scale_spline=scale_spline, base_activation=base_activation, grid_eps=grid_eps,
            enable_standalone_scale_spline=enable_standalone_scale_spline, track_out_of_grid=track_out_of_grid,
        )
        self.in_features = in_features
        self.out_features = out_features
        self.reset_parameters()

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, grid_size={self.grid_size}, "
            f"spline_order={self.spline_order}, grid_range={self.grid_range}"
        )

    def _check_input(self, x: Tensor) -> None:
        if not isinstance(x, Tensor):
            raise TypeError(f"KANLinear expects a torch.Tensor, got {type(x).__name__}")
        if not x.is_floating_point():
            raise TypeError(f"KANLinear expects a floating-point input, got dtype {x.dtype}")
        if x.dim() < 1:
            raise ValueError(f"KANLinear expects an input of shape (..., {self.in_features}), got a 0-d tensor")
        if x.shape[-1] != self.in_features:
            raise ValueError(
                f"KANLinear expects input shape (..., {self.in_features}) (in_features={self.in_features}), "
                f"got last dimension {x.shape[-1]} (shape {tuple(x.shape)})"
            )

    def forward(self, x: Tensor) -> Tensor:
        """Apply the layer to the last dimension of x."""
        self._check_input(x)
        cd = _compute_dtype(x, self.base_weight.dtype)
        if x.dtype != self.base_weight.dtype and cd == self.base_weight.dtype:
            raise TypeError(
                f"KANLinear input dtype {x.dtype} does not match the layer dtype {self.base_weight.dtype}; "
                "cast the input or the layer (or use autocast)"
            )
        lead = x.shape[:-1]
        x2 = x.reshape(-1, self.in_features)
        if self.track_out_of_grid:
            with torch.no_grad():
                self.last_out_of_grid_fraction.copy_(self._out_of_grid(x2.detach(), 1))
        fused = isinstance(self.base_activation, nn.SiLU)
        y = kan_linear(
            x2, self.base_weight if fused else None, self.spline_weight, self.spline_scaler, self.grid,
            self.spline_order, self._grid_uniform(), cd,
        )
        if not fused:
            y = y + F.linear(self.base_activation(x2).to(cd), self.base_weight.to(cd))
        return y.reshape(*lead, self.out_features)

    def b_splines(self, x: Tensor) -> Tensor:
        """Basis values (N, in, G+k) of x (N, in) (efficient-kan's ``b_splines``), in >= float32."""
        self._check_input(x)
        value, _ = _spline_basis(x.reshape(-1, self.in_features), self.grid, self.spline_order, self._grid_uniform())
        assert value is not None
        return value

    def out_of_grid_fraction(self, x: Tensor) -> Tensor:
        """Fraction of the elements of x (..., in) outside the extended grid (spline branch is zero there)."""
        self._check_input(x)
        return self._out_of_grid(x.detach().reshape(-1, self.in_features), 1)

    def update_grid(self, x: Tensor, margin: float = 0.01) -> None:
        """Refit the grid to the data x (..., in) (efficient-kan's adaptive/uniform mix with grid_eps)
        while preserving the layer's function: the new coefficients are a least-squares fit (float64,
        CPU, chunked per feature) of the old *unscaled* spline curves, so the scaler stays valid."""
        self._check_input(x)
        with torch.no_grad(), _one_thread():
            self._update_grid(x.detach().reshape(-1, self.in_features), float(margin))

    def _update_grid(self, x2: Tensor, margin: float) -> None:
        if x2.shape[0] < 2:
            raise ValueError(f"update_grid needs at least 2 samples, got {x2.shape[0]}")
        if not math.isfinite(margin) or margin < 0:
            raise ValueError(f"update_grid margin must be a finite number >= 0, got {margin}")
        xd = x2.to("cpu", torch.float64)
        if not torch.isfinite(xd).all():
            raise ValueError("update_grid input contains NaN or infinite values")
        old_grid = self.grid.detach().to("cpu", torch.float64)
        n = xd.shape[0]
        k, gs = self.spline_order, self.grid_size
        xs = torch.sort(xd, dim=0).values
        idx = torch.linspace(0, n - 1, gs + 1, dtype=torch.float64).round().to(torch.int64)
        adaptive = xs[idx]
        step = (xs[-1] - xs[0] + 2 * margin) / gs
        uniform = torch.arange(gs + 1, dtype=torch.float64).unsqueeze(1) * step + xs[0] - margin
        core = self.grid_eps * uniform + (1 - self.grid_eps) * adaptive
        ext = torch.arange(1, k + 1, dtype=torch.float64).unsqueeze(1) * step
        new_grid = torch.cat([core[:1] - ext.flip(0), core, core[-1:] + ext], dim=0).t().contiguous()  # (in, m)
        # transfer matrix per feature: T_i = argmin ||B_new(x_i) T - B_old(x_i)||, new_w = T w
        w = self.spline_weight.detach().to("cpu", torch.float64)  # (out, in, nb)
        new_w = torch.empty_like(w)
        nb = self.num_basis
        step_cols = max(1, _LSTSQ_CHUNK_ELEMENTS // max(1, n * nb))
        old_uniform = self._grid_uniform()
        for s in range(0, self.in_features, step_cols):
            e = min(self.in_features, s + step_cols)
            b_old, _ = _spline_basis(xd[:, s:e], old_grid[s:e], k, old_uniform)  # (n, c, nb)
            b_new, _ = _spline_basis(xd[:, s:e], new_grid[s:e], k, False)
            t = _lstsq(b_new.transpose(0, 1), b_old.transpose(0, 1))  # (c, nb, nb)
            new_w[:, s:e] = torch.einsum("cji,oci->ocj", t, w[:, s:e])
        self.grid.copy_(new_grid.to(self.grid))
        self.spline_weight.copy_(new_w.to(self.spline_weight))
        self._refresh_uniform()


def _conv_padding(padding: object, stride: int, total: int) -> tuple[int, int]:
    """(left, right) zero padding for ``padding`` (int, 'same' or 'valid'); total = dilation*(K-1)."""
    if isinstance(padding, str):
        if padding == "same":
            if stride != 1:
                raise ValueError(f"padding='same' requires stride=1, got stride={stride}")
            return total // 2, total - total // 2
        if padding == "valid":
            return 0, 0
        raise ValueError(f"padding must be an int >= 0, 'same' or 'valid', got {padding!r}")
    p = _check_int("padding", padding, 0)
    return p, p


class KANConv1d(_KANBase):
    """1-D convolutional KAN: per group exactly ``unfold`` + one KANLinear(C_in/groups*K -> C_out/groups),
    with zero padding applied to the input before the basis. (B, C_in, L) -> (B, C_out, L_out).

    Parameters use the unfold column order (column = c*K + j): ``base_weight (out, C_in/g*K)``,
    ``spline_weight (out, C_in/g*K, G+k)``, ``spline_scaler (out, C_in/g*K)``; buffer
    ``grid (C_in, G+2k+1)`` (one grid per input channel, shared by its K taps).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int | str = 0,
        dilation: int = 1,
        groups: int = 1,
        grid_size: int = 5,
        spline_order: int = 3,
        grid_range: Sequence[float] = (-1.0, 1.0),
        scale_noise: float = 0.1,
        scale_base: float = 1.0,
        scale_spline: float = 1.0,
        base_activation: object = nn.SiLU,
        grid_eps: float = 0.02,
        enable_standalone_scale_spline: bool = True,
        track_out_of_grid: bool = False,
    ) -> None:
        in_channels = _check_int("in_channels", in_channels, 1)
        out_channels = _check_int("out_channels", out_channels, 1)
        kernel_size = _check_int("kernel_size", kernel_size, 1)
        stride = _check_int("stride", stride, 1)
        dilation = _check_int("dilation", dilation, 1)
        groups = _check_int("groups", groups, 1)
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"in_channels ({in_channels}) and out_channels ({out_channels}) must both be divisible by groups ({groups})"
            )
        pad = _conv_padding(padding, stride, dilation * (kernel_size - 1))
        super().__init__(
            n_cols=in_channels // groups * kernel_size, n_grid_rows=in_channels, out_features=out_channels,
            grid_size=grid_size, spline_order=spline_order, grid_range=grid_range, scale_noise=scale_noise,
            scale_base=scale_base, scale_spline=scale_spline, base_activation=base_activation, grid_eps=grid_eps,
            enable_standalone_scale_spline=enable_standalone_scale_spline, track_out_of_grid=track_out_of_grid,
        )
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.stride, self.dilation, self.groups = stride, dilation, groups
        self.padding = padding
        self._pad = pad
        self.reset_parameters()

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding!r}, dilation={self.dilation}, groups={self.groups}, grid_size={self.grid_size}, "
            f"spline_order={self.spline_order}"
        )

    def _col_grid(self) -> Tensor:
        cin_g = self.in_channels // self.groups
        # column c*K + j of group 0 uses channel c's grid (grids are per channel; initial grids are equal)
        return self.grid[:cin_g].repeat_interleave(self.kernel_size, dim=0)

    def _expand_grid_points(self, pts: Tensor) -> Tensor:
        return pts[:, : self.in_channels // self.groups].repeat_interleave(self.kernel_size, dim=1)

    def out_of_grid_fraction(self, x: Tensor) -> Tensor:
        """Fraction of the elements of x (B, C_in, L) outside the extended grid."""
        x = self._check_input(x)
        return self._out_of_grid(x.detach(), 1)

    def _check_input(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"KANConv1d expects a torch.Tensor, got {type(x).__name__}")
        if not x.is_floating_point():
            raise TypeError(f"KANConv1d expects a floating-point input, got dtype {x.dtype}")
        if x.dim() not in (2, 3):
            raise ValueError(
                f"KANConv1d expects input of shape (B, {self.in_channels}, L) or ({self.in_channels}, L), "
                f"got a {x.dim()}-d tensor of shape {tuple(x.shape)}"
            )
        if x.dim() == 2:
            x = x.unsqueeze(0)
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f"KANConv1d expects {self.in_channels} input channels (shape (B, {self.in_channels}, L)), "
                f"got {x.shape[1]} (shape {tuple(x.shape)})"
            )
        min_len = self.dilation * (self.kernel_size - 1) + 1
        if x.shape[2] + self._pad[0] + self._pad[1] < min_len:
            raise ValueError(
                f"KANConv1d input length {x.shape[2]} (+ padding {self._pad[0]}+{self._pad[1]}) is shorter than "
                f"the dilated kernel ({min_len})"
            )
        return x

    def forward(self, x: Tensor) -> Tensor:
        """Convolve x (B, C_in, L) (or unbatched (C_in, L))."""
        unbatched = x.dim() == 2 if isinstance(x, Tensor) else False
        x = self._check_input(x)
        cd = _compute_dtype(x, self.base_weight.dtype)
        if x.dtype != self.base_weight.dtype and cd == self.base_weight.dtype:
            raise TypeError(
                f"KANConv1d input dtype {x.dtype} does not match the layer dtype {self.base_weight.dtype}; "
                "cast the input or the layer (or use autocast)"
            )
        if self.track_out_of_grid:
            with torch.no_grad():
                self.last_out_of_grid_fraction.copy_(self._out_of_grid(x.detach(), 1))
        fused = isinstance(self.base_activation, nn.SiLU)
        y = _KANConv1dFn.apply(
            x, self.base_weight if fused else None, self.spline_weight, self.spline_scaler, self.grid,
            self.spline_order, self._grid_uniform(), cd, self._pad, self.stride, self.dilation, self.groups,
            self.kernel_size,
        )
        if not fused:
            xp = F.pad(x, self._pad)
            wb = self.base_weight.reshape(self.out_channels, self.in_channels // self.groups, self.kernel_size)
            y = y + F.conv1d(self.base_activation(xp).to(cd), wb.to(cd), None, self.stride, 0, self.dilation, self.groups)
        return y.squeeze(0) if unbatched else y
