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
* everything traces under ``torch.compile(fullgraph=True)``.

This file is self-contained (shipped verbatim as Hub remote code): it imports only torch.
"""
from __future__ import annotations

import contextlib
import math
from typing import Callable, Iterator, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["KANLinear", "KANConv1d"]

# Relative tolerance under which a grid row counts as uniform (fp32 linspace rounding is ~1e-7).
_UNIFORM_RTOL = 1e-5
# Element budget of one least-squares chunk (samples * features * basis) in update_grid.
_LSTSQ_CHUNK_ELEMENTS = 1 << 22


# ----------------------------------------------------------------------------------------------
# B-spline basis (value and derivative)
# ----------------------------------------------------------------------------------------------
# Closed form on uniform grids: B_i(x) = N_k(u - c_i), u = (x - grid midpoint)/h, c_i the centre of
# B_i's support in the same units (i + (k+1)/2 - (G+2k)/2), with N_k the centred
# cardinal B-spline written with truncated powers of v = |d|:
#   k=1: N = (1-v)+                     k=2: N = [(3/2-v)+^2 - 3 (1/2-v)+^2] / 2
#   k=3: N = [(2-v)+^3 - 4 (1-v)+^3] / 6
# The kernels return V, D with N = CV*V and dN/dd = CD*D, so that constants fold into the (small)
# weight instead of costing a pass over the (N, F, nb) expansion.
_CLOSED_FORM_CONSTANTS = {1: (1.0, -1.0), 2: (0.5, 1.0), 3: (-1.0 / 6.0, -0.5)}


def _basis_dtype(dtype: torch.dtype) -> torch.dtype:
    """Basis precision: at least float32 (float64 stays float64)."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def _grid_view(t: Tensor, n_rest: int) -> Tensor:
    """Append ``n_rest`` singleton dims so a per-feature tensor broadcasts over trailing positions."""
    return t.reshape(t.shape + (1,) * n_rest)


def _inplace_ok(*tensors: Tensor) -> bool:
    """In-place elementwise passes are used in eager mode when no autograd graph is being recorded
    through them (inside our Functions, or for inputs that do not require grad)."""
    if torch.compiler.is_compiling():
        return False
    return not (torch.is_grad_enabled() and any(t.requires_grad for t in tensors))


def _closed_form_kernel(
    d: Tensor, order: int, need_value: bool, need_deriv: bool, inplace: bool
) -> Tuple[Optional[Tensor], Optional[Tensor]]:
    """V, D of the centred cardinal B-spline of ``order`` (1-3) at offsets d; see _CLOSED_FORM_CONSTANTS.
    With ``inplace`` (eager, no autograd recording) d's storage is reused: fewer passes and allocations."""
    if not inplace:
        return _closed_form_functional(d, order, need_value, need_deriv)
    s = torch.sign(d) if need_deriv else None
    v = d.abs_()
    if order == 1:
        b = v.neg_().add_(1.0).clamp_(min=0.0)
        deriv = s.mul_(b > 0) if s is not None else None
        return (b if need_value else None), deriv
    half = 0.5 * (order + 1)
    b = torch.rsub(v, half - 1.0).clamp_(min=0.0)  # (half-1-v)+
    an = v.sub_(half).clamp_(max=0.0)  # -(half-v)+, in d's storage
    value = deriv = None
    if order == 2:
        if need_deriv:
            deriv = torch.add(an, b, alpha=3.0).mul_(s)  # (3b - a) s
        if need_value:
            value = an.mul_(an).sub_(b.mul_(b), alpha=3.0)  # a^2 - 3 b^2
        return value, deriv
    if need_deriv:  # order 3
        a2 = an * an
        b2 = b * b
        if need_value:
            value = an.mul_(a2).add_(b.mul_(b2), alpha=4.0)  # -a^3 + 4 b^3
        deriv = a2.sub_(b2, alpha=4.0).mul_(s)  # (a^2 - 4 b^2) s
    elif need_value:
        value = an.pow_(3).add_(b.pow_(3), alpha=4.0)
    return value, deriv


def _closed_form_functional(
    d: Tensor, order: int, need_value: bool, need_deriv: bool
) -> Tuple[Optional[Tensor], Optional[Tensor]]:
    """Out-of-place twin of ``_closed_form_kernel`` (torch.compile, autograd recording, double backward)."""
    v = d.abs()
    s = torch.sign(d)
    value = deriv = None
    if order == 1:
        b = torch.clamp(1.0 - v, min=0.0)
        if need_deriv:
            deriv = s * (b > 0).to(b.dtype)
        return (b if need_value else None), deriv
    half = 0.5 * (order + 1)
    b = torch.clamp((half - 1.0) - v, min=0.0)
    an = torch.clamp(v - half, max=0.0)
    if order == 2:
        if need_value:
            value = an * an - 3.0 * (b * b)
        if need_deriv:
            deriv = (an + 3.0 * b) * s
        return value, deriv
    a2 = an * an
    b2 = b * b
    if need_value:
        value = an * a2 + 4.0 * (b2 * b)
    if need_deriv:
        deriv = (a2 - 4.0 * b2) * s
    return value, deriv


def _cox_de_boor(
    x: Tensor, grid: Tensor, order: int, need_value: bool, need_deriv: bool
) -> Tuple[Optional[Tensor], Optional[Tensor]]:
    """Cox-de Boor recursion (efficient-kan semantics, half-open intervals), guarded against
    zero-width knot spans; any grid and order. x: (N, F, *rest) -> value/dB/dx (N, F, nb, *rest)."""
    n_rest = x.dim() - 2
    g = _grid_view(grid, n_rest)  # (F, m, *ones)
    xe = x.unsqueeze(2)  # (N, F, 1, *rest)
    bases = ((xe >= g[:, :-1]) & (xe < g[:, 1:])).to(x.dtype)
    deriv = None

    def _inv(den: Tensor) -> Tensor:
        pos = den > 0
        return torch.where(pos, 1.0 / torch.where(pos, den, torch.ones_like(den)), torch.zeros_like(den))

    for p in range(1, order + 1):
        inv_left = _inv(g[:, p:-1] - g[:, : -(p + 1)])  # 1/(t_{i+p} - t_i)
        inv_right = _inv(g[:, p + 1 :] - g[:, 1:-p])  # 1/(t_{i+p+1} - t_{i+1})
        if p == order and need_deriv:
            deriv = order * (bases[:, :, :-1] * inv_left - bases[:, :, 1:] * inv_right)
        bases = (xe - g[:, : -(p + 1)]) * inv_left * bases[:, :, :-1] + (
            g[:, p + 1 :] - xe
        ) * inv_right * bases[:, :, 1:]
    if need_deriv and order == 0:
        deriv = torch.zeros_like(bases)
    return (bases if need_value else None), deriv


def _expand(
    x: Tensor,
    grid: Tensor,
    order: int,
    uniform: bool,
    with_silu: bool,
    need_value: bool,
    need_deriv: bool,
    slot_axis: int = 2,
) -> Tuple[Optional[Tensor], Optional[Tensor], Optional[Tensor], float, Optional[Tensor]]:
    """Per-element feature expansion of x (N, F, *rest) on grid (F, m), in >= float32.

    The S = [1 +] nb slots are inserted at ``slot_axis``: 2 gives (N, F, S, *rest) (conv layout:
    channel-major), 1 with 2-D x gives (N, S, F) (linear layout: features contiguous, so every
    elementwise pass vectorises). Returns (feats, dsilu, D, cv, dscale):
      feats = [SiLU(x) (if with_silu), V_0 .. V_{nb-1}] along the slot axis, true basis B = cv * V;
      dsilu (N, F, *rest) = SiLU'(x) (if with_silu and need_deriv);
      D (nb slots, same layout) with dV/dx = dscale * D (dscale broadcasts over (N, F, *rest); None = 1).
    """
    dtype = _basis_dtype(x.dtype)
    xb = x.to(dtype)
    grid = grid.to(dtype)
    n_rest = x.dim() - 2
    m = grid.shape[1]
    nb = m - order - 1
    inplace = _inplace_ok(x)
    feats: Optional[Tensor] = None
    if uniform and 1 <= order <= 3:
        # u measured from the grid's midpoint (|u| <= (m-1)/2 inside the grid): halves fp32 rounding
        # amin/amax (== first/last knot of a sorted row) give contiguous per-feature vectors; under
        # torch.compile this keeps the fused elementwise kernel's loads contiguous, i.e. vectorised
        lo, hi = grid.amin(dim=1), grid.amax(dim=1)
        mid = 0.5 * (lo + hi)
        h = (hi - lo) / (m - 1)
        u = (xb - _grid_view(mid, n_rest)) / _grid_view(h, n_rest)
        centers = torch.arange(nb, device=x.device, dtype=dtype) + (0.5 * (order + 1) - 0.5 * (m - 1))
        centers = centers.reshape((nb,) + (1,) * (u.dim() - slot_axis))
        if inplace and with_silu and need_value:
            shape = list(u.shape)
            shape.insert(slot_axis, nb + 1)
            feats = torch.empty(shape, dtype=dtype, device=x.device)
            d = feats.narrow(slot_axis, 1, nb)
            torch.sub(u.unsqueeze(slot_axis), centers, out=d)
        else:
            d = u.unsqueeze(slot_axis) - centers
        value, deriv = _closed_form_kernel(d, order, need_value, need_deriv, inplace)
        if feats is not None and value is not None and value.data_ptr() != d.data_ptr():  # pragma: no cover
            feats.narrow(slot_axis, 1, nb).copy_(value)
        cv, cd = _CLOSED_FORM_CONSTANTS[order]
        dscale: Optional[Tensor] = _grid_view((cd / cv) / h, n_rest) if need_deriv else None
    else:
        value, deriv = _cox_de_boor(xb, grid, order, need_value, need_deriv)  # (N, F, nb, *rest)
        if slot_axis != 2:
            value = value.movedim(2, slot_axis).contiguous() if value is not None else None
            deriv = deriv.movedim(2, slot_axis).contiguous() if deriv is not None else None
        cv, dscale = 1.0, None
    dsilu = None
    if with_silu:
        if need_deriv:
            sig = torch.sigmoid(xb)
            dsilu = sig * (1.0 + xb * (1.0 - sig))
        if need_value:
            silu = F.silu(xb)
            if feats is not None:
                feats.select(slot_axis, 0).copy_(silu)
            else:
                assert value is not None
                feats = torch.cat([silu.unsqueeze(slot_axis), value], dim=slot_axis)
    elif need_value:
        feats = value
    return feats, dsilu, deriv, cv, dscale


def _spline_basis(
    x: Tensor, grid: Tensor, order: int, uniform: bool, need_deriv: bool = False
) -> Tuple[Tensor, Optional[Tensor]]:
    """True B-spline basis values (and dB/dx) of x (N, F, *rest) on grid (F, m): (N, F, nb, *rest)."""
    value, _, deriv, cv, dscale = _expand(x, grid, order, uniform, False, True, need_deriv)
    assert value is not None
    if cv != 1.0:
        value = value * cv
    if deriv is not None and dscale is not None:
        deriv = deriv * (dscale * cv).unsqueeze(1)
    return value, deriv


def _slot_scale(cv: float, with_silu: bool, nb: int, ref: Tensor) -> Optional[Tensor]:
    """Per-slot factor (S,) folding cv into the weight: [1, cv, ..., cv] (None when cv == 1)."""
    if cv == 1.0:
        return None
    s = torch.full((nb + int(with_silu),), cv, dtype=ref.dtype, device=ref.device)
    if with_silu:
        s[0] = 1.0
    return s


def _packed_weight(
    base_weight: Optional[Tensor], spline_weight: Tensor, spline_scaler: Optional[Tensor]
) -> Tensor:
    """(out, cols, [1+]nb) weight: the base column (if any) then the scaled spline coefficients."""
    w = spline_weight if spline_scaler is None else spline_weight * spline_scaler.unsqueeze(-1)
    if base_weight is not None:
        w = torch.cat([base_weight.unsqueeze(-1), w], dim=-1)
    return w


def _unpack_weight_grad(
    gw: Tensor,
    base_weight: Optional[Tensor],
    spline_weight: Tensor,
    spline_scaler: Optional[Tensor],
    needs: Sequence[bool],
) -> Tuple[Optional[Tensor], Optional[Tensor], Optional[Tensor]]:
    """Split the gradient of the packed weight (out, cols, [1+]nb) into the three parameters."""
    g_base = g_spline = g_scaler = None
    if base_weight is not None:
        if needs[0]:
            g_base = gw[..., 0].to(base_weight.dtype)
        gw = gw[..., 1:]
    if needs[1]:
        g_spline = gw if spline_scaler is None else gw * spline_scaler.unsqueeze(-1).to(gw.dtype)
        g_spline = g_spline.to(spline_weight.dtype)
    if spline_scaler is not None and needs[2]:
        g_scaler = (gw * spline_weight.to(gw.dtype)).sum(-1).to(spline_scaler.dtype)
    return g_base, g_spline, g_scaler


def _compute_dtype(x: Tensor, weight_dtype: torch.dtype) -> torch.dtype:
    """dtype of the matmul/conv: the autocast dtype when autocast is on, else the layer's dtype."""
    dev = x.device.type
    if x.dtype in (torch.float32, torch.float16, torch.bfloat16) and torch.is_autocast_enabled(dev):
        return torch.get_autocast_dtype(dev)
    return weight_dtype


def _input_grad(
    gf: Tensor, dsilu: Optional[Tensor], deriv: Tensor, dscale: Optional[Tensor], inplace: bool, slot_axis: int
) -> Tensor:
    """dL/dx from dL/dfeats (slots at slot_axis): SiLU slot * SiLU'(x) + dscale * sum_s dL/dV_s * D_s."""
    spl = gf.narrow(slot_axis, 1, gf.shape[slot_axis] - 1) if dsilu is not None else gf
    prod = deriv.mul_(spl) if inplace else deriv * spl
    gx = prod.sum(slot_axis)
    if dscale is not None:
        gx = gx * dscale
    if dsilu is not None:
        gx = gx + gf.select(slot_axis, 0) * dsilu
    return gx


# ----------------------------------------------------------------------------------------------
# Autograd Functions (save inputs + weights only; recompute the basis in backward)
# ----------------------------------------------------------------------------------------------
def _unshared(x: Tensor) -> Tensor:
    """Under torch.compile, a copy of x that common-subexpression elimination cannot merge with the
    forward's x, so the backward recomputes the expansion instead of the partitioner saving it."""
    if torch.compiler.is_compiling():
        return x + 0.0
    return x


def _linear_weight(packed: Tensor) -> Tensor:
    """Packed (out, in, S) weight -> (out, S*in), matching the slot-major (N, S, in) expansion."""
    return packed.transpose(1, 2).reshape(packed.shape[0], -1)


class _KANLinearFn(torch.autograd.Function):
    """y = [SiLU(x) | B(x)] @ [W_base | W_spline*scaler]^T for x (N, in); base part optional.
    The expansion is laid out slot-major (N, S, in) so elementwise passes run over contiguous features."""

    @staticmethod
    def forward(
        ctx,
        x: Tensor,
        base_weight: Optional[Tensor],
        spline_weight: Tensor,
        spline_scaler: Optional[Tensor],
        grid: Tensor,
        order: int,
        uniform: bool,
        compute_dtype: torch.dtype,
    ) -> Tensor:
        with_silu = base_weight is not None
        feats, _, _, cv, _ = _expand(x, grid, order, uniform, with_silu, True, False, slot_axis=1)
        assert feats is not None
        w = _packed_weight(base_weight, spline_weight, spline_scaler)
        ss = _slot_scale(cv, with_silu, spline_weight.shape[-1], w)
        if ss is not None:
            w = w * ss
        n = x.shape[0]
        out = F.linear(feats.reshape(n, -1).to(compute_dtype), _linear_weight(w).to(compute_dtype))
        ctx.save_for_backward(x, base_weight, spline_weight, spline_scaler, grid)
        ctx.order, ctx.uniform, ctx.compute_dtype = order, uniform, compute_dtype
        return out

    @staticmethod
    def backward(ctx, grad_out: Tensor):  # type: ignore[override]
        x, base_weight, spline_weight, spline_scaler, grid = ctx.saved_tensors
        cd = ctx.compute_dtype
        need_x = ctx.needs_input_grad[0]
        need_w = any(ctx.needs_input_grad[1:4])
        with_silu = base_weight is not None
        inplace = _inplace_ok(x, grad_out)
        feats, dsilu, deriv, cv, dscale = _expand(
            _unshared(x), grid, ctx.order, ctx.uniform, with_silu, need_w, need_x, slot_axis=1
        )
        n, fin = x.shape
        g = grad_out.reshape(n, -1).to(cd)
        w = _packed_weight(base_weight, spline_weight, spline_scaler)
        ss = _slot_scale(cv, with_silu, spline_weight.shape[-1], w)
        gx = g_base = g_spline = g_scaler = None
        if need_x:
            assert deriv is not None
            ws = w if ss is None else w * ss
            gf = (g @ _linear_weight(ws).to(cd)).to(deriv.dtype).reshape(n, -1, fin)
            gx = _input_grad(gf, dsilu, deriv, dscale, inplace, 1).to(x.dtype)
        if need_w:
            assert feats is not None
            gw = (g.t() @ feats.reshape(n, -1).to(cd)).reshape(w.shape[0], -1, fin).transpose(1, 2).to(w.dtype)
            if ss is not None:
                gw = gw * ss
            g_base, g_spline, g_scaler = _unpack_weight_grad(
                gw, base_weight, spline_weight, spline_scaler, ctx.needs_input_grad[1:4]
            )
        return gx, g_base, g_spline, g_scaler, None, None, None, None


def _conv_weight(w: Tensor, groups: int, kernel_size: int) -> Tensor:
    """Packed (out, C/g*K, S) weight in unfold column order -> conv weight (out, C/g*S, K)."""
    out, cols, nbp = w.shape
    cin_g = cols // kernel_size
    return w.reshape(out, cin_g, kernel_size, nbp).transpose(2, 3).reshape(out, cin_g * nbp, kernel_size)


def _conv_weight_to_packed(wc: Tensor, kernel_size: int, nbp: int) -> Tensor:
    """Inverse of ``_conv_weight``: (out, C/g*S, K) -> (out, C/g*K, S)."""
    out = wc.shape[0]
    cin_g = wc.shape[1] // nbp
    return wc.reshape(out, cin_g, nbp, kernel_size).transpose(2, 3).reshape(out, cin_g * kernel_size, nbp)


class _KANConv1dFn(torch.autograd.Function):
    """KAN convolution as ONE conv1d over the per-element expansion [SiLU(x) | B(x)] (N, C*S, Lp)."""

    @staticmethod
    def forward(
        ctx,
        x: Tensor,
        base_weight: Optional[Tensor],
        spline_weight: Tensor,
        spline_scaler: Optional[Tensor],
        grid: Tensor,
        order: int,
        uniform: bool,
        compute_dtype: torch.dtype,
        pad: Tuple[int, int],
        stride: int,
        dilation: int,
        groups: int,
        kernel_size: int,
    ) -> Tensor:
        with_silu = base_weight is not None
        xp = F.pad(x, pad) if (pad[0] or pad[1]) else x
        feats, _, _, cv, _ = _expand(xp, grid, order, uniform, with_silu, True, False)
        assert feats is not None
        n, c, nbp, lp = feats.shape
        w = _packed_weight(base_weight, spline_weight, spline_scaler)
        ss = _slot_scale(cv, with_silu, spline_weight.shape[-1], w)
        if ss is not None:
            w = w * ss
        wc = _conv_weight(w, groups, kernel_size)
        out = F.conv1d(
            feats.reshape(n, c * nbp, lp).to(compute_dtype), wc.to(compute_dtype), None, stride, 0, dilation, groups
        )
        ctx.save_for_backward(x, base_weight, spline_weight, spline_scaler, grid)
        ctx.cfg = (order, uniform, compute_dtype, pad, stride, dilation, groups, kernel_size)
        return out

    @staticmethod
    def backward(ctx, grad_out: Tensor):  # type: ignore[override]
        x, base_weight, spline_weight, spline_scaler, grid = ctx.saved_tensors
        order, uniform, cd, pad, stride, dilation, groups, kernel_size = ctx.cfg
        need_x = ctx.needs_input_grad[0]
        need_w = any(ctx.needs_input_grad[1:4])
        with_silu = base_weight is not None
        inplace = _inplace_ok(x, grad_out)
        # (no _unshared here: under torch.compile, letting the partitioner keep the expansion saves
        # ~20 % of the compiled conv's fwd+bwd time, measured; eager saves only x and the weights)
        xp = F.pad(x, pad) if (pad[0] or pad[1]) else x
        # the conv backward needs the input (feats) for the weight grad; for the input grad only its shape
        feats, dsilu, deriv, cv, dscale = _expand(xp, grid, order, uniform, with_silu, True, need_x)
        assert feats is not None
        n, c, nbp, lp = feats.shape
        packed = _packed_weight(base_weight, spline_weight, spline_scaler)
        ss = _slot_scale(cv, with_silu, spline_weight.shape[-1], packed)
        ws = packed if ss is None else packed * ss
        wc = _conv_weight(ws, groups, kernel_size).to(cd)
        inp = feats.reshape(n, c * nbp, lp).to(cd)
        g_in, g_w, _ = torch.ops.aten.convolution_backward(
            grad_out.to(cd), inp, wc, None, [stride], [0], [dilation], False, [0], groups, [need_x, need_w, False]
        )
        gx = g_base = g_spline = g_scaler = None
        if need_x:
            assert deriv is not None
            gf = g_in.reshape(n, c, nbp, lp).to(deriv.dtype)
            gxp = _input_grad(gf, dsilu, deriv, dscale, inplace, 2)
            gx = gxp[:, :, pad[0] : lp - pad[1]].to(x.dtype)
        if need_w:
            gw = _conv_weight_to_packed(g_w, kernel_size, nbp).to(packed.dtype)
            if ss is not None:
                gw = gw * ss
            g_base, g_spline, g_scaler = _unpack_weight_grad(
                gw, base_weight, spline_weight, spline_scaler, ctx.needs_input_grad[1:4]
            )
        return gx, g_base, g_spline, g_scaler, None, None, None, None, None, None, None, None, None


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


def _uniform_grid(n_rows: int, grid_size: int, order: int, grid_range: Tuple[float, float]) -> Tensor:
    """efficient-kan's grid: G uniform intervals on grid_range extended by k knots each side."""
    h = (grid_range[1] - grid_range[0]) / grid_size
    row = torch.arange(-order, grid_size + order + 1, dtype=torch.float32) * h + grid_range[0]
    return row.expand(n_rows, -1).contiguous()


def _grid_is_uniform(grid: Tensor) -> bool:
    """True when every grid row has equal knot spacing (within fp rounding)."""
    if grid.is_meta or grid.numel() == 0:
        return True
    g = grid.detach().to("cpu", torch.float64)
    d = g[:, 1:] - g[:, :-1]
    h = (g[:, -1:] - g[:, :1]) / d.shape[1]
    return bool(((d - h).abs() <= _UNIFORM_RTOL * h.abs() + 1e-12).all()) and bool((h > 0).all())


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
    """Grid, parameters, initialisation, regulariser and out-of-grid readout shared by both layers."""

    grid: Tensor
    last_out_of_grid_fraction: Tensor

    def _setup(
        self,
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
        self.grid_size = _check_int("grid_size", grid_size, 1)
        self.spline_order = _check_int("spline_order", spline_order, 0)
        if not isinstance(grid_range, (tuple, list)) or len(grid_range) != 2:
            raise ValueError(f"grid_range must be a pair (low, high), got {grid_range!r}")
        lo, hi = _check_float("grid_range[0]", grid_range[0]), _check_float("grid_range[1]", grid_range[1])
        if not hi > lo:
            raise ValueError(f"grid_range must have high > low, got {grid_range!r}")
        self.grid_range = (lo, hi)
        self.scale_noise = _check_float("scale_noise", scale_noise)
        self.scale_base = _check_float("scale_base", scale_base)
        self.scale_spline = _check_float("scale_spline", scale_spline)
        self.grid_eps = _check_float("grid_eps", grid_eps)
        if not 0.0 <= self.grid_eps <= 1.0:
            raise ValueError(f"grid_eps must be in [0, 1], got {grid_eps}")
        self.enable_standalone_scale_spline = bool(enable_standalone_scale_spline)
        self.track_out_of_grid = bool(track_out_of_grid)
        self.base_activation = _check_base_activation(base_activation)
        nb = grid_size + spline_order
        self.register_buffer("grid", _uniform_grid(n_grid_rows, grid_size, spline_order, self.grid_range))
        self.register_buffer("last_out_of_grid_fraction", torch.zeros(()), persistent=False)
        self.base_weight = nn.Parameter(torch.empty(out_features, n_cols))
        self.spline_weight = nn.Parameter(torch.empty(out_features, n_cols, nb))
        if self.enable_standalone_scale_spline:
            self.spline_scaler = nn.Parameter(torch.empty(out_features, n_cols))
        else:
            self.register_parameter("spline_scaler", None)
        self._uniform = True
        self._grid_key: Tuple[int, int] = (-1, -1)
        self.reset_parameters()

    # -- grid bookkeeping -----------------------------------------------------------------------
    @property
    def num_basis(self) -> int:
        """Number of B-spline basis functions per input column (grid_size + spline_order)."""
        return self.grid_size + self.spline_order

    def _refresh_uniform(self) -> None:
        self._uniform = _grid_is_uniform(self.grid)
        self._grid_key = (id(self.grid), self.grid._version)

    def _grid_uniform(self) -> bool:
        """Cached 'grid is uniform' flag; re-checked in eager mode whenever the grid buffer changed."""
        if not torch.compiler.is_compiling():
            key = (id(self.grid), self.grid._version)
            if key != self._grid_key:
                self._refresh_uniform()
        return self._uniform

    def _load_from_state_dict(self, *args, **kwargs):  # type: ignore[override]
        super()._load_from_state_dict(*args, **kwargs)
        self._refresh_uniform()

    def __setattr__(self, name: str, value: object) -> None:
        super().__setattr__(name, value)
        if name == "grid" and "_uniform" in self.__dict__:  # buffer replaced (e.g. transformers loading)
            self._refresh_uniform()

    def _apply(self, fn, recurse=True):  # type: ignore[override]
        """Keep the grid in at least float32 when the module is cast to half/bfloat16 (knots such as
        -2.2 are not representable in bfloat16, which would make the grid non-uniform)."""
        grid = self.grid
        out = super()._apply(fn, recurse)
        if self.grid.dtype in (torch.float16, torch.bfloat16) and grid.dtype not in (torch.float16, torch.bfloat16):
            self.grid = grid.to(device=self.grid.device)
        return out

    def reset_grid(self) -> None:
        """Restore the uniform grid on grid_range (e.g. after ``to_empty``); no-op values on meta."""
        new = _uniform_grid(self.grid.shape[0], self.grid_size, self.spline_order, self.grid_range)
        with torch.no_grad():
            if not self.grid.is_meta:
                self.grid.copy_(new.to(self.grid))
        self._grid_key = (-1, -1)

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
                    coeff = self._curve_to_coeff(self._expand_grid_points(pts, cols), noise)  # (out, cols, nb)
                factor = 1.0 if self.enable_standalone_scale_spline else self.scale_spline
                self.spline_weight.copy_((factor * coeff).to(self.spline_weight))
        if self.spline_scaler is not None and _should_init(self.spline_scaler):
            nn.init.kaiming_uniform_(self.spline_scaler, a=math.sqrt(5) * self.scale_spline)

    def _expand_grid_points(self, pts: Tensor, cols: int) -> Tensor:
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
        super().__init__()
        self.in_features = _check_int("in_features", in_features, 1)
        self.out_features = _check_int("out_features", out_features, 1)
        self._setup(
            in_features, in_features, out_features, grid_size, spline_order, grid_range, scale_noise,
            scale_base, scale_spline, base_activation, grid_eps, enable_standalone_scale_spline,
            track_out_of_grid,
        )

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
        y = _KANLinearFn.apply(
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
        padding: Union[int, str] = 0,
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
        super().__init__()
        self.in_channels = _check_int("in_channels", in_channels, 1)
        self.out_channels = _check_int("out_channels", out_channels, 1)
        self.kernel_size = _check_int("kernel_size", kernel_size, 1)
        self.stride = _check_int("stride", stride, 1)
        self.dilation = _check_int("dilation", dilation, 1)
        self.groups = _check_int("groups", groups, 1)
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"in_channels ({in_channels}) and out_channels ({out_channels}) must both be divisible by groups ({groups})"
            )
        total = self.dilation * (self.kernel_size - 1)
        if isinstance(padding, str):
            if padding == "same":
                if self.stride != 1:
                    raise ValueError(f"padding='same' requires stride=1, got stride={stride}")
                self._pad = (total // 2, total - total // 2)
            elif padding == "valid":
                self._pad = (0, 0)
            else:
                raise ValueError(f"padding must be an int >= 0, 'same' or 'valid', got {padding!r}")
        else:
            p = _check_int("padding", padding, 0)
            self._pad = (p, p)
        self.padding = padding
        self._setup(
            in_channels // groups * kernel_size, in_channels, out_channels, grid_size, spline_order, grid_range,
            scale_noise, scale_base, scale_spline, base_activation, grid_eps, enable_standalone_scale_spline,
            track_out_of_grid,
        )

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

    def _expand_grid_points(self, pts: Tensor, cols: int) -> Tensor:
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
