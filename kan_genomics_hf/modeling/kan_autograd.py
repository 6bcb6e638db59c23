"""Custom autograd Functions of the KAN layers: they save only the input and the weights and
recompute the basis (and its derivative) in backward, so saved activations are about those of
``nn.Linear`` / ``nn.Conv1d``; everything traces under ``torch.compile(fullgraph=True)`` (a large linear
layer as one opaque custom op, ``kan_linear``, that runs the eager path).

Shipped verbatim as Hub remote code: imports only torch and ``.kan_basis``.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from .kan_basis import _CLOSED_FORM_CONSTANTS, _basis_dtype, _expand, _grid_units, _inplace_ok


# ----------------------------------------------------------------------------------------------
# Weight packing and gradient helpers
# ----------------------------------------------------------------------------------------------
def _slot_scale(cv: float, with_silu: bool, nb: int, ref: Tensor) -> Tensor | None:
    """Per-slot factor (S,) folding cv into the weight: [1, cv, ..., cv] (None when cv == 1)."""
    if cv == 1.0:
        return None
    s = torch.full((nb + int(with_silu),), cv, dtype=ref.dtype, device=ref.device)
    if with_silu:
        s[0] = 1.0
    return s


def _packed_weight(
    base_weight: Tensor | None, spline_weight: Tensor, spline_scaler: Tensor | None
) -> Tensor:
    """(out, cols, [1+]nb) weight: the base column (if any) then the scaled spline coefficients."""
    w = spline_weight if spline_scaler is None else spline_weight * spline_scaler.unsqueeze(-1)
    if base_weight is not None:
        w = torch.cat([base_weight.unsqueeze(-1), w], dim=-1)
    return w


def _unpack_weight_grad(
    gw: Tensor,
    base_weight: Tensor | None,
    spline_weight: Tensor,
    spline_scaler: Tensor | None,
    needs: Sequence[bool],
) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
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
    gf: Tensor, dsilu: Tensor | None, deriv: Tensor, dscale: Tensor | None, inplace: bool, slot_axis: int
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


# ----------------------------------------------------------------------------------------------
# Eager path of the linear layer: the batch in row chunks, fused kernels
# ----------------------------------------------------------------------------------------------
# The expansion of one chunk of rows is written into ONE buffer per call, read by one matmul, then
# overwritten by the next chunk (the backward reuses it for dL/dfeats): every temporary stays a few MB
# of memory touched again and again instead of freshly faulted pages (a fresh whole-batch expansion
# costs as much in page faults as computing it), and the weight gradient accumulates over chunks.
# On uniform grids (orders 1-3) the expansion, the input gradient (SiLU' and the basis derivative
# contracted with dL/dfeats) and the weight packing/unpacking (scaler and kernel constant folded in)
# are each ONE fused pass: the functional kernels below compiled with torch.compile, once per process.
# For small layers, where compiling fails, or with KAN_GENOMICS_COMPILED_KERNELS=0, the in-place
# eager kernels run instead (in cache-sized row blocks). Under torch.compile / export of the model
# itself none of this runs: the Functions' functional path is traced.
_CHUNK_ELEMENTS = 1 << 20  # expansion elements per row chunk (4 MB in float32)
_BLOCK_ELEMENTS = 1 << 18  # elements per in-place eager kernel block (1 MB in float32)
_KERNEL_MIN_ELEMENTS = 1 << 19  # smallest whole-batch expansion that uses the compiled kernels
_KERNELS: dict[str, Callable[..., Any]] = {}
_KERNELS_STATE = {"enabled": os.environ.get("KAN_GENOMICS_COMPILED_KERNELS", "1") != "0"}


def _feats_kernel(out: Tensor, u: Tensor, x: Tensor, grid: Tensor, order: int, with_silu: bool) -> None:
    """out (N, S, F) <- [SiLU(x) |] V(x) slot-major on a uniform grid (true basis = cv * V); u =
    _grid_units(x) is an input so that the fused kernel does not redo its divisions for every slot.
    Each slot range is written into out's slices: compiled, that stores straight into out (copying a
    concatenation into out costs the kernel a further full pass)."""
    value, _, _, _, _ = _expand(x, grid, order, True, False, True, False, 1, u=u)
    assert value is not None
    if with_silu:
        out.select(1, 0).copy_(F.silu(x.to(out.dtype)))
    out.narrow(1, int(with_silu), value.shape[1]).copy_(value)


def _input_grad_kernel(gf: Tensor, u: Tensor, x: Tensor, grid: Tensor, order: int, with_silu: bool) -> Tensor:
    """dL/dx (N, F) from dL/d[SiLU | V] (N, S, F) on a uniform grid."""
    _, dsilu, deriv, _, dscale = _expand(x, grid, order, True, with_silu, False, True, 1, u=u)
    assert deriv is not None
    return _input_grad(gf, dsilu, deriv, dscale, False, 1)


def _pack_kernel(
    base_weight: Tensor | None, spline_weight: Tensor, spline_scaler: Tensor | None, cv: float, dtype: torch.dtype
) -> Tensor:
    """(out, S*F) weight matching the slot-major (N, S, F) expansion: [W_base | cv * scaler * W_spline^T]."""
    w = spline_weight if spline_scaler is None else spline_weight * spline_scaler.unsqueeze(-1)
    w = (w * cv if cv != 1.0 else w).transpose(1, 2)
    if base_weight is not None:
        w = torch.cat([base_weight.unsqueeze(1), w], dim=1)
    return w.to(dtype).reshape(w.shape[0], -1)


def _unpack_kernel(
    gw: Tensor, spline_weight: Tensor, spline_scaler: Tensor | None, cv: float, with_silu: bool
) -> tuple[Tensor | None, Tensor, Tensor | None]:
    """Gradients (base, spline, scaler) from the gradient of the packed weight (out, S*F)."""
    out, fin, nb = spline_weight.shape
    gw3 = gw.reshape(out, nb + int(with_silu), fin)
    g_base = gw3[:, 0].to(spline_weight.dtype).contiguous() if with_silu else None
    gs = gw3[:, int(with_silu) :].transpose(1, 2)  # (out, F, nb): dL/d(cv * scaler * W_spline)
    gs = gs * cv if cv != 1.0 else gs
    if spline_scaler is None:
        return g_base, gs.to(spline_weight.dtype).contiguous(), None
    g_spline = (gs * spline_scaler.unsqueeze(-1)).to(spline_weight.dtype).contiguous()
    g_scaler = (gs * spline_weight).sum(-1).to(spline_scaler.dtype)
    return g_base, g_spline, g_scaler


_KERNEL_FNS: dict[str, Callable[..., Any]] = {
    "feats": _feats_kernel, "input_grad": _input_grad_kernel, "pack": _pack_kernel, "unpack": _unpack_kernel,
}


def _kernel_workload(x: Tensor, spline_weight: Tensor, with_silu: bool, order: int, uniform: bool) -> int:
    """Expansion elements of one linear call for x (N, in), or 0 where no compiled kernel exists (no closed form)."""
    if not (uniform and order in _CLOSED_FORM_CONSTANTS):
        return 0
    return x.shape[0] * x.shape[1] * (spline_weight.shape[-1] + int(with_silu))


def _kernels_on(n_elements: int) -> bool:
    """Whether a workload of n_elements runs the compiled kernels (one exists, large enough, not disabled)."""
    return n_elements > 0 and n_elements >= _KERNEL_MIN_ELEMENTS and _KERNELS_STATE["enabled"]


def _compiled_kernel(name: str, n_elements: int) -> Callable[..., Any] | None:
    """The compiled twin of a kernel above, or None (small workload, disabled, or unavailable)."""
    if not _kernels_on(n_elements):
        return None
    fn = _KERNELS.get(name)
    if fn is None:
        try:
            fn = torch.compile(_KERNEL_FNS[name])
        except Exception:  # pragma: no cover - torch.compile unsupported here
            _KERNELS_STATE["enabled"] = False
            return None
        _KERNELS[name] = fn
    return fn


def _run_kernel(fn: Callable[..., Any] | None, fallback: Callable[[], Any], *args: Any) -> Any:
    """fn(*args); when it fails (compiling needs a C++ toolchain, ...) disable the compiled kernels for
    good and return fallback()."""
    if fn is not None:
        try:
            # one dispatch context for every caller (the eager Functions, the custom op under torch.compile):
            # a compiled kernel guards on its inputs' dispatch keys, so each context would compile it again
            with torch._C._AutoDispatchBelowADInplaceOrView():
                return fn(*args)
        except Exception:  # pragma: no cover - depends on the platform's compiler
            _KERNELS_STATE["enabled"] = False
    return fallback()


def _row_chunks(n: int, row_elems: int, budget: int) -> list[tuple[int, int]]:
    """Split rows 0..n into equal chunks of at most ``budget // row_elems`` rows (at least one row)."""
    parts = max(1, -(-n * row_elems // budget))
    step = -(-n // parts)
    return [(r, min(n, r + step)) for r in range(0, n, step)]


def _fast_linear_ok(x: Tensor, *tensors: Tensor) -> bool:
    """Chunked eager path: no autograd recording through the kernels (not under torch.compile)."""
    return x.dim() == 2 and x.shape[0] > 0 and _inplace_ok(x, *tensors)


def _kernel_cv(order: int, uniform: bool) -> float:
    """The closed-form constant cv of the expansion (true basis = cv * V); 1 for Cox-de Boor."""
    return _CLOSED_FORM_CONSTANTS[order][0] if (uniform and order in _CLOSED_FORM_CONSTANTS) else 1.0


class _LinearPlan:
    """Shapes, chunks and kernels of one eager call of the linear Function."""

    def __init__(self, x: Tensor, spline_weight: Tensor, with_silu: bool, order: int, uniform: bool) -> None:
        self.n, self.fin = x.shape
        self.out, _, self.nb = spline_weight.shape
        self.with_silu, self.order, self.uniform = with_silu, order, uniform
        self.slots = self.nb + int(with_silu)
        self.bdt = _basis_dtype(x.dtype)
        self.cv = _kernel_cv(order, uniform)
        self.chunks = _row_chunks(self.n, self.slots * self.fin, _CHUNK_ELEMENTS)
        self.size = _kernel_workload(x, spline_weight, with_silu, order, uniform)

    def kernel(self, name: str) -> Callable[..., Any] | None:
        return _compiled_kernel(name, self.size)

    def buffer(self, x: Tensor) -> Tensor:
        return torch.empty(self.chunks[0][1] - self.chunks[0][0], self.slots, self.fin, dtype=self.bdt, device=x.device)

    def pack(self, base_weight: Tensor | None, spline_weight: Tensor, spline_scaler: Tensor | None, cd: torch.dtype) -> Tensor:
        args = (base_weight, spline_weight, spline_scaler, self.cv, cd)
        return _run_kernel(self.kernel("pack"), lambda: _pack_kernel(*args), *args)

    def units(self, x: Tensor, grid: Tensor, *fns: Callable[..., Any] | None) -> Tensor | None:
        """_grid_units of all rows, once per call, when a compiled kernel will use them (else None)."""
        return _grid_units(x.to(self.bdt), grid) if any(f is not None for f in fns) else None

    def feats(
        self, x: Tensor, grid: Tensor, buf: Tensor, fn: Callable[..., Any] | None, u: Tensor | None
    ) -> Tensor:
        """Expansion (rows, S*F) of one chunk of rows, written into buf (rows, S, F); u: the chunk's units."""

        def eager() -> None:
            rows = buf.shape[0]
            for s0, s1 in _row_chunks(rows, self.slots * self.fin, _BLOCK_ELEMENTS):
                _expand(x[s0:s1], grid, self.order, self.uniform, self.with_silu, True, False, 1, buf[s0:s1])

        _run_kernel(fn, eager, buf, u, x, grid, self.order, self.with_silu)
        return buf.reshape(x.shape[0], -1)

    def input_grad(
        self, gf: Tensor, x: Tensor, grid: Tensor, fn: Callable[..., Any] | None, u: Tensor | None
    ) -> Tensor:
        """dL/dx (rows, F) of one chunk from dL/dfeats (rows, S, F); u: the chunk's units."""

        def eager() -> Tensor:
            rows = gf.shape[0]
            gx = torch.empty(rows, self.fin, dtype=gf.dtype, device=gf.device)
            for s0, s1 in _row_chunks(rows, self.slots * self.fin, _BLOCK_ELEMENTS):
                _, dsilu, deriv, _, dscale = _expand(x[s0:s1], grid, self.order, self.uniform, self.with_silu, False, True, 1)
                assert deriv is not None
                gx[s0:s1] = _input_grad(gf[s0:s1], dsilu, deriv, dscale, True, 1)
            return gx

        return _run_kernel(fn, eager, gf, u, x, grid, self.order, self.with_silu)


def _fast_linear_forward(
    x: Tensor, base_weight: Tensor | None, spline_weight: Tensor, spline_scaler: Tensor | None,
    grid: Tensor, order: int, uniform: bool, cd: torch.dtype,
) -> Tensor:
    plan = _LinearPlan(x, spline_weight, base_weight is not None, order, uniform)
    fn = plan.kernel("feats")
    w = plan.pack(base_weight, spline_weight, spline_scaler, cd).t()
    buf = plan.buffer(x)
    u = plan.units(x, grid, fn)
    y = torch.empty(plan.n, plan.out, dtype=cd, device=x.device)
    for r0, r1 in plan.chunks:
        feats = plan.feats(x[r0:r1], grid, buf[: r1 - r0], fn, u[r0:r1] if u is not None else None)
        torch.mm(feats.to(cd), w, out=y[r0:r1])
    return y


def _fast_linear_backward(
    x: Tensor, grad_out: Tensor, base_weight: Tensor | None, spline_weight: Tensor, spline_scaler: Tensor | None,
    grid: Tensor, order: int, uniform: bool, cd: torch.dtype, needs: Sequence[bool],
) -> tuple[Tensor | None, Tensor | None, Tensor | None, Tensor | None]:
    plan = _LinearPlan(x, spline_weight, base_weight is not None, order, uniform)
    need_x, need_w = needs[0], any(needs[1:4])
    fn_f = plan.kernel("feats") if need_w else None
    fn_g = plan.kernel("input_grad") if need_x else None
    g = grad_out.reshape(plan.n, plan.out).to(cd)
    buf = plan.buffer(x)
    gx = torch.empty(plan.n, plan.fin, dtype=x.dtype, device=x.device) if need_x else None
    w = plan.pack(base_weight, spline_weight, spline_scaler, cd) if need_x else None
    gw: Tensor | None = None
    u = plan.units(x, grid, fn_f, fn_g)
    for r0, r1 in plan.chunks:
        nr = r1 - r0
        b, xc, gc = buf[:nr], x[r0:r1], g[r0:r1]
        uc = u[r0:r1] if u is not None else None
        if need_w:
            feats = plan.feats(xc, grid, b, fn_f, uc).to(cd)
            gw = torch.mm(gc.t(), feats) if gw is None else gw.addmm_(gc.t(), feats)
        if need_x:
            assert gx is not None and w is not None
            if cd == plan.bdt:
                gf = torch.mm(gc, w, out=b.reshape(nr, -1))
            else:
                gf = torch.mm(gc, w).to(plan.bdt)
            gx[r0:r1] = plan.input_grad(gf.reshape(nr, plan.slots, plan.fin), xc, grid, fn_g, uc)
    g_base = g_spline = g_scaler = None
    if need_w:
        assert gw is not None
        args = (gw, spline_weight, spline_scaler, plan.cv, base_weight is not None)
        g_base, g_spline, g_scaler = _run_kernel(plan.kernel("unpack"), lambda: _unpack_kernel(*args), *args)
        g_base = g_base if needs[1] else None
        g_spline = g_spline if needs[2] else None
        g_scaler = g_scaler if needs[3] else None
    return gx, g_base, g_spline, g_scaler


def _traced_chunks(x: Tensor, row_elems: int) -> list[tuple[int, int]] | None:
    """Row chunks (the eager path's budget) for the traced path under torch.compile with a static batch size:
    the compiled graph's expansion buffers then stay cache-sized and are reused, instead of one whole-batch
    expansion that costs fresh memory (page faults) and cache misses. None (one whole-batch pass) otherwise,
    e.g. for a dynamic batch size."""
    n = x.shape[0]
    if not torch.compiler.is_compiling() or not isinstance(n, int) or n * row_elems <= _CHUNK_ELEMENTS:
        return None
    return _row_chunks(n, row_elems, _CHUNK_ELEMENTS)


class _KANLinearFn(torch.autograd.Function):
    """y = [SiLU(x) | B(x)] @ [W_base | W_spline*scaler]^T for x (N, in); base part optional.
    The expansion is laid out slot-major (N, S, in) so elementwise passes run over contiguous features."""

    @staticmethod
    def forward(
        ctx,
        x: Tensor,
        base_weight: Tensor | None,
        spline_weight: Tensor,
        spline_scaler: Tensor | None,
        grid: Tensor,
        order: int,
        uniform: bool,
        compute_dtype: torch.dtype,
    ) -> Tensor:
        ctx.save_for_backward(x, base_weight, spline_weight, spline_scaler, grid)
        ctx.order, ctx.uniform, ctx.compute_dtype = order, uniform, compute_dtype
        if _fast_linear_ok(x):
            return _fast_linear_forward(x, base_weight, spline_weight, spline_scaler, grid, order, uniform, compute_dtype)
        with_silu = base_weight is not None
        n = x.shape[0]
        w = _packed_weight(base_weight, spline_weight, spline_scaler)
        wl: Tensor | None = None
        outs = []
        for r0, r1 in _traced_chunks(x, w.shape[-1] * x.shape[1]) or [(0, n)]:
            feats, _, _, cv, _ = _expand(x[r0:r1], grid, order, uniform, with_silu, True, False, slot_axis=1)
            assert feats is not None
            if wl is None:
                ss = _slot_scale(cv, with_silu, spline_weight.shape[-1], w)
                wl = _linear_weight(w if ss is None else w * ss).to(compute_dtype)
            outs.append(F.linear(feats.reshape(r1 - r0, -1).to(compute_dtype), wl))
        return outs[0] if len(outs) == 1 else torch.cat(outs)

    @staticmethod
    def backward(ctx, grad_out: Tensor):  # type: ignore[override]
        x, base_weight, spline_weight, spline_scaler, grid = ctx.saved_tensors
        cd = ctx.compute_dtype
        need_x = ctx.needs_input_grad[0]
        need_w = any(ctx.needs_input_grad[1:4])
        if _fast_linear_ok(x, grad_out):
            gx, g_base, g_spline, g_scaler = _fast_linear_backward(
                x, grad_out, base_weight, spline_weight, spline_scaler, grid, ctx.order, ctx.uniform, cd,
                ctx.needs_input_grad[:4],
            )
            return gx, g_base, g_spline, g_scaler, None, None, None, None
        with_silu = base_weight is not None
        inplace = _inplace_ok(x, grad_out)
        n, fin = x.shape
        g = grad_out.reshape(n, -1).to(cd)
        w = _packed_weight(base_weight, spline_weight, spline_scaler)
        chunks = _traced_chunks(x, w.shape[-1] * fin) or [(0, n)]
        xu = _unshared(x)
        gxs, gw_sum, ws_l = [], None, None
        for r0, r1 in chunks:
            feats, dsilu, deriv, cv, dscale = _expand(
                xu[r0:r1], grid, ctx.order, ctx.uniform, with_silu, need_w, need_x, slot_axis=1
            )
            ss = _slot_scale(cv, with_silu, spline_weight.shape[-1], w)
            gc = g[r0:r1]
            if need_x:
                assert deriv is not None
                if ws_l is None:
                    ws_l = _linear_weight(w if ss is None else w * ss).to(cd)
                gf = (gc @ ws_l).to(deriv.dtype).reshape(r1 - r0, -1, fin)
                gxs.append(_input_grad(gf, dsilu, deriv, dscale, inplace, 1).to(x.dtype))
            if need_w:
                assert feats is not None
                part = gc.t() @ feats.reshape(r1 - r0, -1).to(cd)
                gw_sum = part if gw_sum is None else gw_sum + part
        gx = g_base = g_spline = g_scaler = None
        if need_x:
            gx = gxs[0] if len(gxs) == 1 else torch.cat(gxs)
        if need_w:
            assert gw_sum is not None
            gw = gw_sum.reshape(w.shape[0], -1, fin).transpose(1, 2).to(w.dtype)
            if ss is not None:
                gw = gw * ss
            g_base, g_spline, g_scaler = _unpack_weight_grad(
                gw, base_weight, spline_weight, spline_scaler, ctx.needs_input_grad[1:4]
            )
        return gx, g_base, g_spline, g_scaler, None, None, None, None


# ----------------------------------------------------------------------------------------------
# Under torch.compile: the eager path above as one opaque custom op
# ----------------------------------------------------------------------------------------------
# Traced, the linear layer is whatever inductor makes of the functional path below (one fused graph, but
# fresh expansion buffers, unfused weight packing, ~2x the eager saved activations). Opaque, a compiled
# model calls the eager path above (row chunks, ONE reused buffer, the fused compiled kernels) and saves
# only x and the weights. Used when that path would run its compiled kernels (uniform grid, order 1-3,
# a large enough batch); torch.export keeps the traced path, so exported graphs hold aten ops only.
_OP_NAMESPACE = re.sub(r"\W", "_", __name__)  # per import: a Hub remote-code copy registers its own ops


def _use_linear_op(x: Tensor, spline_weight: Tensor, with_silu: bool, order: int, uniform: bool) -> bool:
    """Whether the linear layer runs as the opaque custom op (only while torch.compile traces it)."""
    if not torch.compiler.is_compiling() or torch.compiler.is_exporting():
        return False
    return _kernels_on(_kernel_workload(x, spline_weight, with_silu, order, uniform))


@torch.library.custom_op(
    f"{_OP_NAMESPACE}::kan_linear",
    mutates_args=(),
    schema="(Tensor x, Tensor? base_weight, Tensor spline_weight, Tensor? spline_scaler, Tensor grid, int order, "
    "bool uniform, ScalarType compute_dtype) -> Tensor",
)
def _kan_linear_op(
    x: Tensor, base_weight: Tensor | None, spline_weight: Tensor, spline_scaler: Tensor | None, grid: Tensor,
    order: int, uniform: bool, compute_dtype: torch.dtype,
) -> Tensor:
    """y (N, out) of the KAN linear function through the eager path (an empty batch gives an empty y)."""
    if x.shape[0] == 0:
        return x.new_zeros(0, spline_weight.shape[0], dtype=compute_dtype)
    with torch.no_grad():
        return _fast_linear_forward(x, base_weight, spline_weight, spline_scaler, grid, order, uniform, compute_dtype)


@_kan_linear_op.register_fake
def _kan_linear_op_fake(x, base_weight, spline_weight, spline_scaler, grid, order, uniform, compute_dtype):  # type: ignore[no-untyped-def]
    return x.new_empty(x.shape[0], spline_weight.shape[0], dtype=compute_dtype)


@torch.library.custom_op(
    f"{_OP_NAMESPACE}::kan_linear_backward",
    mutates_args=(),
    schema="(Tensor x, Tensor grad_out, Tensor? base_weight, Tensor spline_weight, Tensor? spline_scaler, "
    "Tensor grid, int order, bool uniform, ScalarType compute_dtype, bool[] needs) -> Tensor[]",
)
def _kan_linear_backward_op(
    x: Tensor, grad_out: Tensor, base_weight: Tensor | None, spline_weight: Tensor, spline_scaler: Tensor | None,
    grid: Tensor, order: int, uniform: bool, compute_dtype: torch.dtype, needs: list[bool],
) -> list[Tensor]:
    """Gradients (x, base, spline, scaler); an empty tensor where ``needs`` is False."""
    inputs = (x, base_weight, spline_weight, spline_scaler)
    if x.shape[0] == 0:
        grads: Sequence[Tensor | None] = [torch.zeros_like(t) if t is not None else None for t in inputs]
    else:
        with torch.no_grad():
            grads = _fast_linear_backward(
                x, grad_out, base_weight, spline_weight, spline_scaler, grid, order, uniform, compute_dtype, needs
            )
    return [g if (n and g is not None) else x.new_empty(0) for g, n in zip(grads, needs)]


@_kan_linear_backward_op.register_fake
def _kan_linear_backward_op_fake(x, grad_out, base_weight, spline_weight, spline_scaler, grid, order, uniform,  # type: ignore[no-untyped-def]
                                 compute_dtype, needs):
    inputs = (x, base_weight, spline_weight, spline_scaler)
    return [torch.empty_like(t) if (n and t is not None) else x.new_empty(0) for t, n in zip(inputs, needs)]


def _kan_linear_op_setup(ctx, inputs, output) -> None:  # type: ignore[no-untyped-def]
    x, base_weight, spline_weight, spline_scaler, grid, order, uniform, compute_dtype = inputs
    ctx.save_for_backward(x, base_weight, spline_weight, spline_scaler, grid)
    ctx.cfg = (order, uniform, compute_dtype)


def _kan_linear_op_backward(ctx, grad_out: Tensor):  # type: ignore[no-untyped-def]
    x, base_weight, spline_weight, spline_scaler, grid = ctx.saved_tensors
    needs = [bool(n) for n in ctx.needs_input_grad[:4]]  # False for an absent (None) weight
    grads = _kan_linear_backward_op(x, grad_out, base_weight, spline_weight, spline_scaler, grid, *ctx.cfg, needs)
    return (*[g if n else None for g, n in zip(grads, needs)], None, None, None, None)


_kan_linear_op.register_autograd(_kan_linear_op_backward, setup_context=_kan_linear_op_setup)


def kan_linear(
    x: Tensor, base_weight: Tensor | None, spline_weight: Tensor, spline_scaler: Tensor | None, grid: Tensor,
    order: int, uniform: bool, compute_dtype: torch.dtype,
) -> Tensor:
    """y (N, out) of the KAN linear function for x (N, in): the custom op while torch.compile traces a large
    enough layer, the autograd Function otherwise (eager, export, double backward)."""
    if _use_linear_op(x, spline_weight, base_weight is not None, order, uniform):
        return _kan_linear_op(x, base_weight, spline_weight, spline_scaler, grid, order, uniform, compute_dtype)
    return _KANLinearFn.apply(x, base_weight, spline_weight, spline_scaler, grid, order, uniform, compute_dtype)


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
        base_weight: Tensor | None,
        spline_weight: Tensor,
        spline_scaler: Tensor | None,
        grid: Tensor,
        order: int,
        uniform: bool,
        compute_dtype: torch.dtype,
        pad: tuple[int, int],
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
