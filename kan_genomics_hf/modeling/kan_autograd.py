"""Custom autograd Functions of the KAN layers: they save only the input and the weights and
recompute the basis (and its derivative) in backward, so saved activations are about those of
``nn.Linear`` / ``nn.Conv1d``; everything traces under ``torch.compile(fullgraph=True)``.

Shipped verbatim as Hub remote code: imports only torch and ``.kan_basis``.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from .kan_basis import _expand, _inplace_ok


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
