"""B-spline basis of the KAN layers: value and derivative, in at least float32.

Closed form on uniform grids (orders 1-3) and a guarded Cox-de Boor recursion otherwise (any grid and
order, efficient-kan semantics). ``_expand`` lays the per-element expansion out for the linear
(slot-major) and convolutional (channel-major) kernels.

Shipped verbatim as Hub remote code: imports only torch.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

# Relative tolerance under which a grid row counts as uniform (fp32 linspace rounding is ~1e-7).
_UNIFORM_RTOL = 1e-5

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
) -> tuple[Tensor | None, Tensor | None]:
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
) -> tuple[Tensor | None, Tensor | None]:
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


def _grid_step(grid: Tensor) -> Tensor:
    """Knot spacing h (F,) of a uniform grid (F, m)."""
    return (grid.amax(dim=1) - grid.amin(dim=1)) / (grid.shape[1] - 1)


def _grid_units(xb: Tensor, grid: Tensor) -> Tensor:
    """u = (x - grid midpoint) / h for x (N, F, *rest) on a uniform grid (F, m), in x's dtype."""
    # u measured from the grid's midpoint (|u| <= (m-1)/2 inside the grid): halves fp32 rounding.
    # amin/amax (== first/last knot of a sorted row) give contiguous per-feature vectors; under
    # torch.compile this keeps the fused elementwise kernel's loads contiguous, i.e. vectorised
    grid = grid.to(xb.dtype)
    n_rest = xb.dim() - 2
    lo, hi = grid.amin(dim=1), grid.amax(dim=1)
    return (xb - _grid_view(0.5 * (lo + hi), n_rest)) / _grid_view((hi - lo) / (grid.shape[1] - 1), n_rest)


def _cox_de_boor(
    x: Tensor, grid: Tensor, order: int, need_value: bool, need_deriv: bool
) -> tuple[Tensor | None, Tensor | None]:
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
    out: Tensor | None = None,
    u: Tensor | None = None,
) -> tuple[Tensor | None, Tensor | None, Tensor | None, float, Tensor | None]:
    """Per-element feature expansion of x (N, F, *rest) on grid (F, m), in >= float32.

    The S = [1 +] nb slots are inserted at ``slot_axis``: 2 gives (N, F, S, *rest) (conv layout:
    channel-major), 1 with 2-D x gives (N, S, F) (linear layout: features contiguous, so every
    elementwise pass vectorises). Returns (feats, dsilu, D, cv, dscale):
      feats = [SiLU(x) (if with_silu), V_0 .. V_{nb-1}] along the slot axis, true basis B = cv * V;
      dsilu (N, F, *rest) = SiLU'(x) (if with_silu and need_deriv);
      D (nb slots, same layout) with dV/dx = dscale * D (dscale broadcasts over (N, F, *rest); None = 1).
    ``out`` (optional, the feats' shape and basis dtype) receives feats (the in-place kernels run in it);
    ``u`` (optional) is ``_grid_units(x, grid)``, computed beforehand (uniform grids, orders 1-3).
    """
    dtype = _basis_dtype(x.dtype)
    xb = x.to(dtype)
    grid = grid.to(dtype)
    n_rest = x.dim() - 2
    m = grid.shape[1]
    nb = m - order - 1
    inplace = _inplace_ok(x)
    feats: Tensor | None = None
    if uniform and 1 <= order <= 3:
        h = _grid_step(grid)
        if u is None:
            u = _grid_units(xb, grid)
        centers = torch.arange(nb, device=x.device, dtype=dtype) + (0.5 * (order + 1) - 0.5 * (m - 1))
        centers = centers.reshape((nb,) + (1,) * (u.dim() - slot_axis))
        if inplace and need_value and (with_silu or out is not None):
            if out is None:
                shape = list(u.shape)
                shape.insert(slot_axis, nb + 1)
                out = torch.empty(shape, dtype=dtype, device=x.device)
            feats = out
            d = feats.narrow(slot_axis, int(with_silu), nb)
            torch.sub(u.unsqueeze(slot_axis), centers, out=d)
        else:
            d = u.unsqueeze(slot_axis) - centers
        value, deriv = _closed_form_kernel(d, order, need_value, need_deriv, inplace)
        if feats is not None and value is not None and value.data_ptr() != d.data_ptr():  # pragma: no cover
            d.copy_(value)
        cv, cd = _CLOSED_FORM_CONSTANTS[order]
        dscale: Tensor | None = _grid_view((cd / cv) / h, n_rest) if need_deriv else None
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
    elif need_value and feats is None:
        feats = value
    if out is not None and feats is not None and feats is not out:
        out.copy_(feats)
        feats = out
    return feats, dsilu, deriv, cv, dscale


def _spline_basis(
    x: Tensor, grid: Tensor, order: int, uniform: bool, need_deriv: bool = False
) -> tuple[Tensor, Tensor | None]:
    """True B-spline basis values (and dB/dx) of x (N, F, *rest) on grid (F, m): (N, F, nb, *rest)."""
    value, _, deriv, cv, dscale = _expand(x, grid, order, uniform, False, True, need_deriv)
    assert value is not None
    if cv != 1.0:
        value = value * cv
    if deriv is not None and dscale is not None:
        deriv = deriv * (dscale * cv).unsqueeze(1)
    return value, deriv


def _uniform_grid(n_rows: int, grid_size: int, order: int, grid_range: tuple[float, float]) -> Tensor:
    """efficient-kan's grid: G uniform intervals on grid_range extended by k knots each side."""
    h = (grid_range[1] - grid_range[0]) / grid_size
    # one row on the CPU, then the default device: under torch.device("meta") this skips the slow meta
    # decompositions of arange/mul/add (model sizing builds many layers on meta)
    row = torch.arange(-order, grid_size + order + 1, dtype=torch.float32, device="cpu") * h + grid_range[0]
    return row.to(torch.get_default_device()).expand(n_rows, -1).contiguous()


def _grid_is_uniform(grid: Tensor) -> bool:
    """True when every grid row has equal knot spacing (within fp rounding)."""
    if grid.is_meta or grid.numel() == 0:
        return True
    g = grid.detach().to("cpu", torch.float64)
    d = g[:, 1:] - g[:, :-1]
    h = (g[:, -1:] - g[:, :1]) / d.shape[1]
    return bool(((d - h).abs() <= _UNIFORM_RTOL * h.abs() + 1e-12).all()) and bool((h > 0).all())
