"""KANUNet1DModel: a class-conditional 1-D UNet over one-hot DNA for diffusion, with optional KAN layers.

A diffusers `ModelMixin` + `ConfigMixin` model in one file (it imports only sibling files: the KAN
layers and the shared ``VARIANTS``), so the folder can be loaded stand-alone as Hub remote code. The
number of diffusion steps is a scheduler setting (see ``pipelines.dna_diffusion.make_scheduler``);
old configs that still carry ``num_train_timesteps`` load (diffusers keeps it as a hidden key).

Input: (B, 4, L) one-hot DNA scaled to [-1, 1], a timestep per sample (or one for all) and optional
class ids; output: the predicted noise, same shape. Class id ``num_class_embeds`` (one past the last
real class) is the null class used for classifier-free guidance; ``class_labels=None`` means null.

Variants (``variant``):
- ``"baseline"``: plain Conv1d / Linear layers.
- ``"lkan"``: the embedding projection of every ResNet block (time+class embedding -> scale/shift)
  is a ``KANLinear`` instead of SiLU + Linear, as in the paper's LKAN generator.
- ``"ckan"``: the two kernel-3 convolutions of every ResNet block are ``KANConv1d`` layers
  (GroupNorm then KAN conv; the SiLU before the conv is dropped since the KAN holds the nonlinearity).

Parameter counts at the default size (block_out_channels=(64, 128, 256), layers_per_block=2,
attention at the deepest level, num_class_embeds=4, grid 5, order 3):
baseline 5,665,988; lkan 16,278,212 (2.9x); ckan 33,088,196 (5.8x).
``KANUNet1DModel(variant=v, block_out_channels=(32, 64), num_class_embeds=4)``: baseline 421,668;
lkan 1,600,292; ckan 2,079,524 (checked by the tests).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from diffusers.models.modeling_utils import ModelMixin
from diffusers.utils import BaseOutput
from torch import nn

from .configuration_legnet import VARIANTS
from .kan_layers import KANConv1d, KANLinear

# Old checkpoints stored the time MLP as nn.Sequential(Linear, SiLU, Linear).
_OLD_TIME_EMBEDDING_KEYS = {"time_embedding.0.": "time_embedding.linear_1.", "time_embedding.2.": "time_embedding.linear_2."}


@dataclass
class KANUNet1DOutput(BaseOutput):
    """Output of KANUNet1DModel: the predicted noise (B, C, L)."""

    sample: torch.Tensor


def _tracing() -> bool:
    """True while torch.compile / torch.export / torch.jit trace the model (no data-dependent checks then)."""
    return torch.compiler.is_compiling() or torch.compiler.is_exporting() or torch.jit.is_tracing()


def resolve_class_name(label: str, names: Sequence[str]) -> int:
    """Index of ``label`` in ``names``: an exact name, else the one name whose part before the first ``_``
    equals it, else the one name that starts with it (both case-insensitive): ``K562`` -> ``K562_ENCLB843GMH``."""
    names = list(names)
    if label in names:
        return names.index(label)
    key = label.lower()
    hits = [i for i, c in enumerate(names) if c.split("_")[0].lower() == key]
    hits = hits if len(hits) == 1 else [i for i, c in enumerate(names) if c.lower().startswith(key)]
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise ValueError(f"class name {label!r} is ambiguous: it matches {', '.join(names[i] for i in hits)}; "
                         f"give more of the name")
    known = ", ".join(names) if names else "(this model has no class names)"
    raise ValueError(f"unknown class name {label!r}; known classes: {known}")


def _groups(channels: int, preferred: int) -> int:
    """Largest group count <= preferred that divides channels (GroupNorm needs a divisor)."""
    return math.gcd(channels, preferred) or 1


class ResnetBlock1D(nn.Module):
    """Pre-activation ResNet block with GroupNorm and (scale, shift) from the time+class embedding."""

    def __init__(self, in_ch: int, out_ch: int, emb_dim: int, variant: str, groups: int, dropout: float, kan_kwargs: dict):
        super().__init__()
        self.variant = variant
        self.norm1 = nn.GroupNorm(_groups(in_ch, groups), in_ch)
        self.norm2 = nn.GroupNorm(_groups(out_ch, groups), out_ch)
        if variant == "ckan":
            self.conv1 = KANConv1d(in_ch, out_ch, 3, padding=1, **kan_kwargs)
            self.conv2 = KANConv1d(out_ch, out_ch, 3, padding=1, **kan_kwargs)
        else:
            self.conv1 = nn.Conv1d(in_ch, out_ch, 3, padding=1)
            self.conv2 = nn.Conv1d(out_ch, out_ch, 3, padding=1)
        if variant == "lkan":
            self.emb_proj = KANLinear(emb_dim, 2 * out_ch, **kan_kwargs)
        else:
            self.emb_proj = nn.Sequential(nn.SiLU(), nn.Linear(emb_dim, 2 * out_ch))
        self.dropout = nn.Dropout(dropout)
        self.skip = nn.Conv1d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def _act(self, h: torch.Tensor) -> torch.Tensor:
        return h if self.variant == "ckan" else F.silu(h)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(self._act(self.norm1(x)))
        scale, shift = self.emb_proj(emb)[:, :, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(self.dropout(self._act(h)))
        return h + self.skip(x)


class Attention1D(nn.Module):
    """Multi-head self-attention over the sequence axis with GroupNorm and a residual connection."""

    def __init__(self, channels: int, heads: int, groups: int):
        super().__init__()
        self.heads = max(1, min(heads, channels))
        while channels % self.heads:
            self.heads -= 1
        self.norm = nn.GroupNorm(_groups(channels, groups), channels)
        self.qkv = nn.Conv1d(channels, 3 * channels, 1)
        self.out = nn.Conv1d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, length = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, self.heads, c // self.heads, length).transpose(-1, -2).unbind(1)
        # contiguous q/k/v let CPU training use the fused attention kernel (1.5x faster fwd+bwd than the strided
        # inputs' math fallback); same values
        h = F.scaled_dot_product_attention(q.contiguous(), k.contiguous(), v.contiguous())  # (b, heads, L, c/heads)
        return x + self.out(h.transpose(-1, -2).reshape(b, c, length))


def _check_unet_config(variant: str, block_out_channels: Sequence[int], layers_per_block: int,
                       attention_levels: Sequence[int] | None, num_class_embeds: int | None,
                       class_names: Sequence[str] | None) -> tuple[tuple[int, ...], set[int], int | None]:
    """Validate KANUNet1DModel's config; returns the channels as a tuple of ints, the attention levels as
    non-negative indices, and num_class_embeds (defaulting to the number of class names)."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    block_out_channels = tuple(int(c) for c in block_out_channels)
    if not block_out_channels or min(block_out_channels) < 1:
        raise ValueError(f"block_out_channels must be a non-empty list of positive ints, got {block_out_channels}")
    if layers_per_block < 1:
        raise ValueError(f"layers_per_block must be >= 1, got {layers_per_block}")
    n_levels = len(block_out_channels)
    if attention_levels is None:
        attention_levels = (n_levels - 1,)
    levels = set()
    for lv in attention_levels:
        if not -n_levels <= int(lv) < n_levels:
            raise ValueError(f"attention level {lv} out of range for {n_levels} levels")
        levels.add(int(lv) % n_levels)
    if class_names is not None:
        class_names = list(class_names)
        if num_class_embeds is None:
            num_class_embeds = len(class_names)
        if len(class_names) != num_class_embeds or len(set(class_names)) != len(class_names):
            raise ValueError(
                f"class_names must be {num_class_embeds} distinct names (num_class_embeds), got {class_names}"
            )
    return block_out_channels, levels, num_class_embeds
class KANUNet1DModel(ModelMixin, ConfigMixin):
    """Class-conditional 1-D UNet predicting diffusion noise on one-hot DNA; variant baseline / lkan / ckan."""

    _supports_gradient_checkpointing = False

    @register_to_config
    def __init__(
        self,
        variant: str = "baseline",
        sample_size: int = 200,
        in_channels: int = 4,
        out_channels: int = 4,
        block_out_channels: Sequence[int] = (64, 128, 256),
        layers_per_block: int = 2,
        attention_levels: Sequence[int] | None = None,
        attention_heads: int = 4,
        norm_num_groups: int = 8,
        num_class_embeds: int | None = None,
        class_names: Sequence[str] | None = None,
        dropout: float = 0.0,
        kan_grid_size: int = 5,
        kan_spline_order: int = 3,
        kan_grid_range: Sequence[float] = (-1.0, 1.0),
    ):
        super().__init__()
        block_out_channels, levels, num_class_embeds = _check_unet_config(
            variant, block_out_channels, layers_per_block, attention_levels, num_class_embeds, class_names)
        n_levels = len(block_out_channels)
        kan_kwargs = dict(grid_size=kan_grid_size, spline_order=kan_spline_order, grid_range=tuple(kan_grid_range))
        self.downsample_factor = 2 ** (n_levels - 1)

        ch0 = block_out_channels[0]
        emb_dim = 4 * ch0
        # sinusoidal embedding (cos half first, frequencies 10000^(-i/half)) then Linear-SiLU-Linear
        self.time_proj = Timesteps(ch0, flip_sin_to_cos=True, downscale_freq_shift=0.0)
        self.time_embedding = TimestepEmbedding(ch0, emb_dim)
        # one extra row: the null class (id == num_class_embeds) for classifier-free guidance
        self.class_embedding = nn.Embedding(num_class_embeds + 1, emb_dim) if num_class_embeds else None
        self.conv_in = nn.Conv1d(in_channels, ch0, 7, padding=3)

        def block(i: int, o: int) -> ResnetBlock1D:
            return ResnetBlock1D(i, o, emb_dim, variant, norm_num_groups, dropout, kan_kwargs)

        def attention(ch: int, lv: int) -> nn.Module:
            return Attention1D(ch, attention_heads, norm_num_groups) if lv in levels else nn.Identity()

        prev = self._build_down_path(block, attention, block_out_channels, layers_per_block)
        self.mid_block1 = block(prev, prev)
        self.mid_attn = Attention1D(prev, attention_heads, norm_num_groups)
        self.mid_block2 = block(prev, prev)
        self._build_up_path(block, attention, block_out_channels, layers_per_block, prev)
        self.norm_out = nn.GroupNorm(_groups(ch0, norm_num_groups), ch0)
        self.conv_out = nn.Conv1d(ch0, out_channels, 3, padding=1)

    def _build_down_path(self, block, attention, block_out_channels: tuple[int, ...], layers_per_block: int) -> int:
        """Encoder levels (ResNet blocks, optional attention, stride-2 downsampling but at the last level);
        returns the channel count at the bottom."""
        n_levels = len(block_out_channels)
        self.down_blocks = nn.ModuleList()
        self.down_attn = nn.ModuleList()
        self.downsamplers = nn.ModuleList()
        prev = block_out_channels[0]
        for lv, ch in enumerate(block_out_channels):
            self.down_blocks.append(nn.ModuleList([block(prev if j == 0 else ch, ch) for j in range(layers_per_block)]))
            self.down_attn.append(attention(ch, lv))
            last = lv == n_levels - 1
            self.downsamplers.append(nn.Identity() if last else nn.Conv1d(ch, ch, 3, stride=2, padding=1))
            prev = ch
        return prev

    def _build_up_path(self, block, attention, block_out_channels: tuple[int, ...], layers_per_block: int,
                       prev: int) -> None:
        """Decoder levels, deepest first: ResNet blocks on the skip-concatenated input, optional attention,
        and a conv after upsampling but at the top level."""
        self.up_blocks = nn.ModuleList()
        self.up_attn = nn.ModuleList()
        self.upsamplers = nn.ModuleList()
        for lv in reversed(range(len(block_out_channels))):
            ch = block_out_channels[lv]
            self.up_blocks.append(
                nn.ModuleList([block(prev + ch if j == 0 else ch, ch) for j in range(layers_per_block)])
            )
            self.up_attn.append(attention(ch, lv))
            self.upsamplers.append(nn.Conv1d(ch, ch, 3, padding=1) if lv > 0 else nn.Identity())
            prev = ch

    def _fix_state_dict_keys_on_load(self, state_dict) -> None:
        """diffusers' load-time key fix-up: also rename the time MLP keys of old checkpoints."""
        super()._fix_state_dict_keys_on_load(state_dict)
        for key in [k for k in state_dict if k.startswith(tuple(_OLD_TIME_EMBEDDING_KEYS))]:
            old = key[: len("time_embedding.0.")]
            state_dict[_OLD_TIME_EMBEDDING_KEYS[old] + key[len(old):]] = state_dict.pop(key)

    @property
    def null_class_id(self) -> int | None:
        """Id of the null (unconditional) class, or None for an unconditional model."""
        return self.config.num_class_embeds if self.config.num_class_embeds else None

    def class_id(self, label: int | str) -> int:
        """Map a class name (exact, a unique prefix or the part before the first ``_``) or id to its id;
        unknown or ambiguous names and out-of-range ids raise a ValueError listing the classes."""
        n = self.config.num_class_embeds or 0
        names = list(self.config.class_names or [])
        if isinstance(label, str):
            return resolve_class_name(label, names)
        if isinstance(label, bool) or not isinstance(label, (int,)) and not hasattr(label, "__index__"):
            raise TypeError(f"class label must be an int id or a str name, got {type(label).__name__}")
        label = int(label)
        if not 0 <= label < n:
            listing = ", ".join(f"{i}={c}" for i, c in enumerate(names)) if names else f"ids 0..{n - 1}"
            raise ValueError(f"class id {label} out of range; this model has {n} classes ({listing})")
        return label

    def _check_class_range(self, class_labels: torch.Tensor) -> None:
        """Eager-mode check that class ids are in 0..null (skipped under torch.compile / torch.export, where a
        branch on tensor values would break the graph)."""
        if _tracing() or not class_labels.numel():
            return
        lo, hi = int(class_labels.min()), int(class_labels.max())
        if lo < 0 or hi > self.null_class_id:
            raise ValueError(
                f"class_labels must be in 0..{self.null_class_id} ({self.null_class_id} = null class), "
                f"got values in {lo}..{hi}"
            )

    def _check_input(self, sample: torch.Tensor) -> None:
        if not isinstance(sample, torch.Tensor) or sample.ndim != 3:
            shape = tuple(sample.shape) if isinstance(sample, torch.Tensor) else type(sample).__name__
            raise ValueError(f"sample must be a tensor of shape (batch, {self.config.in_channels}, length), got {shape}")
        if sample.shape[1] != self.config.in_channels:
            raise ValueError(
                f"sample has {sample.shape[1]} channels, the model expects {self.config.in_channels} (A, C, G, T)"
            )
        if sample.shape[2] < 1:
            raise ValueError("sequence length must be >= 1, got 0")

    def forward(
        self,
        sample: torch.Tensor,
        timestep: torch.Tensor | float | int,
        class_labels: torch.Tensor | None = None,
        return_dict: bool = True,
    ) -> KANUNet1DOutput | tuple:
        """Predict the noise in ``sample`` at ``timestep``; ``class_labels`` None (or the null id) = unconditional."""
        self._check_input(sample)
        b, _, length = sample.shape
        t = torch.as_tensor(timestep, device=sample.device)
        if t.ndim == 0:
            t = t.expand(b)
        elif t.shape[0] != b:
            raise ValueError(f"timestep has {t.shape[0]} entries for a batch of {b}")
        emb = self.time_embedding(self.time_proj(t).to(sample.dtype))
        if self.class_embedding is not None:
            if class_labels is None:
                class_labels = torch.full((b,), self.null_class_id, device=sample.device, dtype=torch.long)
            class_labels = torch.as_tensor(class_labels, device=sample.device).long().reshape(-1)
            if class_labels.shape[0] == 1 and b > 1:
                class_labels = class_labels.expand(b)
            if class_labels.shape[0] != b:
                raise ValueError(f"class_labels has {class_labels.shape[0]} entries for a batch of {b}")
            self._check_class_range(class_labels)
            emb = emb + self.class_embedding(class_labels).to(emb.dtype)
        elif class_labels is not None:
            raise ValueError("this model is unconditional (num_class_embeds is None); pass class_labels=None")

        pad = (-length) % self.downsample_factor
        h = self.conv_in(F.pad(sample, (0, pad)) if pad else sample)
        skips = []
        for blocks, attn, down in zip(self.down_blocks, self.down_attn, self.downsamplers):
            for blk in blocks:
                h = blk(h, emb)
            h = attn(h)
            skips.append(h)
            h = down(h)
        h = self.mid_block2(self.mid_attn(self.mid_block1(h, emb)), emb)
        for blocks, attn, up in zip(self.up_blocks, self.up_attn, self.upsamplers):
            h = torch.cat([h, skips.pop()], dim=1)
            for blk in blocks:
                h = blk(h, emb)
            h = attn(h)
            if not isinstance(up, nn.Identity):
                h = up(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        out = self.conv_out(F.silu(self.norm_out(h)))[:, :, :length]
        if not return_dict:
            return (out,)
        return KANUNet1DOutput(sample=out)
