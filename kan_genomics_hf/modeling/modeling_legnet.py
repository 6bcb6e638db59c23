"""LegNet DNA classifiers as transformers models: baseline (MLP SE), LKAN (KANLinear SE), CKAN (KAN convs).

Architecture (the authors' LegNet ``SeqNN``): stem CBS(k) -> stages of [concat(x, EffNet branch(x)) ->
resize CBS(k)] -> head. CBS = Conv1d('same', no bias) -> BatchNorm1d -> SiLU. The head is a k=1 conv to
``num_labels`` followed by a mask-aware mean over positions: plain logits (not the authors' SiLU ->
sigmoid). Padding never changes the outputs at real positions: padded positions are zeroed before
every convolution wider than 1 and all means over length are mask-aware, so a padded batch gives the
same logits as each sequence alone.

Self-contained for the Hub: imports only torch, transformers and sibling files.
"""
from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.modeling_outputs import BaseModelOutputWithPoolingAndNoAttention, SequenceClassifierOutput

from .configuration_legnet import LegNetConfig
from .kan_layers import KANConv1d, KANLinear

# Files shipped as remote code next to a saved checkpoint (all flat, importing each other relatively).
REMOTE_CODE_FILES = (
    "configuration_legnet.py",
    "variants.py",
    "modeling_legnet.py",
    "kan_layers.py",
    "kan_autograd.py",
    "kan_basis.py",
    "dna_encoding.py",
    "tokenization_dna.py",
)
AUTO_MAP = {
    "AutoConfig": "configuration_legnet.LegNetConfig",
    "AutoModel": "modeling_legnet.LegNetModel",
    "AutoModelForSequenceClassification": "modeling_legnet.LegNetForSequenceClassification",
    "AutoTokenizer": ["tokenization_dna.DNATokenizer", None],
}


def _kan_kwargs(config: LegNetConfig) -> dict[str, Any]:
    return {
        "grid_size": config.kan_grid_size,
        "spline_order": config.kan_spline_order,
        "grid_range": tuple(config.kan_grid_range),
        "scale_noise": float(getattr(config, "kan_scale_noise", 0.1)),
        "scale_spline": float(getattr(config, "kan_scale_spline", 1.0)),
        "grid_eps": float(getattr(config, "kan_grid_eps", 0.02)),
    }


class GridSquash(nn.Module):
    """Bounded squashing onto a KAN grid range: mid + half * tanh((x - mid) / half) (identity near mid)."""

    def __init__(self, grid_range: tuple[float, float]):
        super().__init__()
        self.mid = 0.5 * (grid_range[0] + grid_range[1])
        self.half = 0.5 * (grid_range[1] - grid_range[0])

    def forward(self, x: Tensor) -> Tensor:
        return self.mid + self.half * torch.tanh((x - self.mid) / self.half)


class NormedKANLinear(nn.Module):
    """A parameter-free input normalisation followed by a KANLinear (``LegNetConfig.kan_input_norm``)."""

    def __init__(self, in_features: int, out_features: int, norm: str, **kan: Any):
        super().__init__()
        if norm == "layernorm":
            self.norm: nn.Module = nn.LayerNorm(in_features, elementwise_affine=False)
        elif norm == "batchnorm":
            self.norm = nn.BatchNorm1d(in_features, affine=False)
        elif norm == "tanh":
            self.norm = GridSquash(kan["grid_range"])
        else:
            raise ValueError(f"NormedKANLinear: unknown norm {norm!r} (layernorm, batchnorm or tanh)")
        self.kan = KANLinear(in_features, out_features, **kan)

    def forward(self, x: Tensor) -> Tensor:
        return self.kan(self.norm(x))


def _conv_squash(norm: str, kan: dict[str, Any] | None) -> GridSquash | None:
    """The input squashing of a KANConv1d (``LegNetConfig.kan_conv_input_norm``, "none" or "tanh", checked by the
    config); None for a plain convolution or "none"."""
    return None if kan is None or norm == "none" else GridSquash(kan["grid_range"])


def masked_mean(x: Tensor, mask: Tensor | None) -> Tensor:
    """Mean of x (B, C, L) over L counting only positions where mask (B, 1, L) is 1."""
    if mask is None:
        return x.mean(dim=-1)
    total = (x * mask).sum(dim=-1)
    return total / mask.sum(dim=-1).clamp_min(1.0)


def _is_channels_last(x: Tensor) -> bool:
    """x (B, C, L) laid out position-major in memory (strides (L*C, 1, C)): the layout of ``ChannelsLastConv1d``."""
    return x.dim() == 3 and x.unsqueeze(2).is_contiguous(memory_format=torch.channels_last)


def _cpu_channels_last(x: Tensor) -> bool:
    """x is a CPU (B, C, L) tensor in that layout and not also plain contiguous (then the 4-D route pays off)."""
    return x.device.type == "cpu" and _is_channels_last(x) and not x.is_contiguous()


class MaskedBatchNorm1d(nn.BatchNorm1d):
    """BatchNorm1d whose training statistics use only real (unpadded) positions; eval is plain BatchNorm1d."""

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() not in (2, 3, 4):
            raise ValueError(f"MaskedBatchNorm1d: expected a (B, C) or (B, C, L) input, got shape {tuple(input.shape)}")

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:  # type: ignore[override]
        if mask is None or not self.training or not self.track_running_stats:
            if _cpu_channels_last(x):
                return super().forward(x.unsqueeze(2)).squeeze(2)  # channels-last 4-D kernels (~2x faster)
            return super().forward(x)
        xf, m = x.float(), mask.float()
        count = m.sum() * 1.0
        mean = (xf * m).sum(dim=(0, 2)) / count.clamp_min(1.0)
        centred = (xf - mean[None, :, None]) * m
        var = (centred * centred).sum(dim=(0, 2)) / count.clamp_min(1.0)
        with torch.no_grad():
            self.num_batches_tracked.add_(1)
            factor = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
            unbiased = var * count / (count - 1.0).clamp_min(1.0)
            self.running_mean.lerp_(mean.to(self.running_mean.dtype), factor)
            self.running_var.lerp_(unbiased.to(self.running_var.dtype), factor)
        y = (xf - mean[None, :, None]) * torch.rsqrt(var[None, :, None] + self.eps)
        if self.affine:
            y = y * self.weight.float()[None, :, None] + self.bias.float()[None, :, None]
        return y.to(x.dtype)


def cat_channels(tensors: list[Tensor]) -> Tensor:
    """torch.cat over channels (dim 1) of (B, C, L) tensors that keeps a channels-last layout (3-D cat would not)."""
    if all(_cpu_channels_last(t) for t in tensors):
        return torch.cat([t.unsqueeze(2) for t in tensors], dim=1).squeeze(2)
    return torch.cat(tensors, dim=1)


class ChannelsLastConv1d(nn.Conv1d):
    """nn.Conv1d (same parameters and state dict) that on CPU runs as a channels-last (1, k) Conv2d and returns
    its (B, C, L) output in that layout (position-major memory).

    oneDNN's CPU kernels are faster in that layout at LegNet's shapes (grouped convolutions with 2 filters per
    group the most), and BatchNorm too (``MaskedBatchNorm1d`` keeps it): with every convolution and
    BatchNorm of a LegNet trunk in it, a fp32 training step avoids all layout copies
    (``scripts/bench_classifiers.py --training-paths``). The one-hot input is already in this layout. The result
    equals ``nn.Conv1d`` up to float rounding. ``cpu_channels_last`` (class attribute, default True) switches
    the route off; other devices always take ``nn.Conv1d``'s."""

    cpu_channels_last: bool = True

    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
        if not (self.cpu_channels_last and x.device.type == "cpu" and x.dim() == 3 and self.padding_mode == "zeros"):
            return super().forward(x)
        padding = self.padding if isinstance(self.padding, str) else (0, self.padding[0])
        weight = self.weight.unsqueeze(2).contiguous(memory_format=torch.channels_last)
        x4 = x.unsqueeze(2).contiguous(memory_format=torch.channels_last)
        y = F.conv2d(x4, weight, self.bias, (1, self.stride[0]), padding, (1, self.dilation[0]), self.groups)
        return y.squeeze(2)


class ConvBNAct(nn.Module):
    """CBS block: Conv1d('same', no bias) or KANConv1d -> BatchNorm1d -> SiLU; zeroes padding first (k > 1).

    In training, BatchNorm statistics skip padded positions (MaskedBatchNorm1d)."""

    def __init__(self, cin: int, cout: int, kernel_size: int, groups: int = 1, kan: dict[str, Any] | None = None,
                 kan_input_norm: str = "none"):
        super().__init__()
        self.kernel_size = kernel_size
        if kan is None:
            self.conv: nn.Module = ChannelsLastConv1d(cin, cout, kernel_size, padding="same", groups=groups, bias=False)
        else:
            self.conv = KANConv1d(cin, cout, kernel_size, padding="same", groups=groups, **kan)
        # LegNetConfig.kan_conv_input_norm (KAN convolutions only; parameter-free)
        self.squash = _conv_squash(kan_input_norm, kan)
        self.bn = MaskedBatchNorm1d(cout)
        self.act = nn.SiLU()

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        if self.squash is not None:
            x = self.squash(x)
        if mask is not None and self.kernel_size > 1:
            x = x * mask
        return self.act(self.bn(self.conv(x), mask))


class BilinearCP(nn.Module):
    """CP-factorised bilinear layer: out_j = sum_r (A z)_r (B z)_r C_rj + b_j (rank-R tensor regression on z z^T)."""

    def __init__(self, in_features: int, out_features: int, rank: int):
        super().__init__()
        self.left = nn.Linear(in_features, rank, bias=False)
        self.right = nn.Linear(in_features, rank, bias=False)
        self.out = nn.Linear(rank, out_features, bias=True)

    def forward(self, z: Tensor) -> Tensor:
        return self.out(self.left(z) * self.right(z))


class SqueezeExcite(nn.Module):
    """Channel gate from the mask-aware mean over length; MLP or KANLinear, 'simple' or 'bilinear' form."""

    def __init__(self, block_in: int, channels: int, config: LegNetConfig, kan: bool):
        super().__init__()
        hidden = max(1, block_in // config.se_reduction)
        self.se_type = config.se_type
        kw = _kan_kwargs(config)
        norm = getattr(config, "kan_input_norm", "none")

        def dense(i: int, o: int, bias: bool) -> nn.Module:
            if not kan:
                return nn.Linear(i, o, bias=bias)
            return KANLinear(i, o, **kw) if norm == "none" else NormedKANLinear(i, o, norm, **kw)

        if config.se_type == "simple":
            # the authors' code: Linear(e->h) -> SiLU -> Linear(h->e) -> Sigmoid (no bias); LKAN drops the SiLU
            self.fc1 = dense(channels, hidden, False)
            self.act = nn.Identity() if kan else nn.SiLU()
            self.fc2 = dense(hidden, channels, False)
        else:
            # LegNet paper: Linear(e->h) -> SiLU -> Linear(h->h) -> [z, Bilinear(z)] -> SiLU -> Linear(1.5h->e)
            half = max(1, hidden // 2)
            rank = config.bilinear_rank or max(1, hidden * hidden // 10)
            self.fc1 = dense(channels, hidden, True)
            self.act = nn.Identity() if kan else nn.SiLU()
            self.fc_mid = dense(hidden, hidden, True)
            self.bilinear = BilinearCP(hidden, half, rank)
            self.act2 = nn.Identity() if kan else nn.SiLU()
            self.fc2 = dense(hidden + half, channels, True)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        z = masked_mean(x, mask)
        if self.se_type == "simple":
            g = self.fc2(self.act(self.fc1(z)))
        else:
            h = self.fc_mid(self.act(self.fc1(z)))
            g = self.fc2(self.act2(torch.cat([h, self.bilinear(h)], dim=-1)))
        return x * torch.sigmoid(g).unsqueeze(-1)


class LegNetStage(nn.Module):
    """One stage: concat[x, EffNet branch(x)] -> resize CBS; the branch is expand -> grouped conv -> SE -> project."""

    def __init__(self, index: int, prev: int, nxt: int, config: LegNetConfig):
        super().__init__()
        inner = nxt * config.resize_factor
        ks = config.kernel_size
        kw = _kan_kwargs(config)

        norm = getattr(config, "kan_conv_input_norm", "none")

        def kan_for(conv: str) -> dict[str, Any] | None:
            return kw if config.uses_kan_conv(f"blocks.{index}.{conv}") else None

        self.expand = ConvBNAct(prev, inner, 1, kan=kan_for("expand"), kan_input_norm=norm)
        self.depthwise = ConvBNAct(inner, inner, ks, groups=inner // config.filter_per_group, kan=kan_for("depthwise"),
                                   kan_input_norm=norm)
        self.se = SqueezeExcite(prev, inner, config, kan=config.uses_kan_se(index))
        self.project = ConvBNAct(inner, prev, 1, kan=kan_for("project"), kan_input_norm=norm)
        self.resize = ConvBNAct(2 * prev, nxt, ks, kan=kan_for("resize"), kan_input_norm=norm)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        y = self.depthwise(self.expand(x, mask), mask)
        y = self.project(self.se(y, mask), mask)
        return self.resize(cat_channels([x, y]), mask)


class LegNetPreTrainedModel(PreTrainedModel):
    """Shared loading/saving and LegNet initialisation (conv N(0, sqrt(2/(k*c_out))), Linear N(0, 0.001), BN 1/0)."""

    config_class = LegNetConfig
    base_model_prefix = "legnet"
    main_input_name = "input_ids"
    supports_gradient_checkpointing = False
    _no_split_modules = ["LegNetStage"]

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, (KANLinear, KANConv1d)):
            # refill the buffers first (the spline fit reads the grid), then the weights that were not loaded;
            # both steps skip loaded tensors (``_is_hf_initialized``) and meta tensors
            if not module.last_out_of_grid_fraction.is_meta:
                init.zeros_(module.last_out_of_grid_fraction)
            if not module.grid.is_meta:
                init.copy_(module.grid, module.uniform_grid())
            module.reset_parameters()
        elif isinstance(module, nn.Conv1d):
            if getattr(module, "_legnet_head", False):
                init.normal_(module.weight, mean=0.0, std=1.0 / math.sqrt(module.in_channels))
            else:
                fan = module.kernel_size[0] * module.out_channels
                init.normal_(module.weight, mean=0.0, std=math.sqrt(2.0 / fan))
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            init.normal_(module.weight, mean=0.0, std=self.config.initializer_std_linear)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm1d):
            if module.affine:
                init.ones_(module.weight)
                init.zeros_(module.bias)
            init.zeros_(module.running_mean)
            init.ones_(module.running_var)
            init.zeros_(module.num_batches_tracked)

    def save_pretrained(self, save_directory: str | os.PathLike, *args: Any, **kwargs: Any) -> Any:
        """Save config + safetensors weights, then the flat remote-code files and a full ``auto_map``."""
        out = super().save_pretrained(save_directory, *args, **kwargs)
        write_remote_code(save_directory)
        return out

    def kan_regularization_loss(self, regularize_activation: float = 1.0, regularize_entropy: float = 1.0) -> Tensor:
        """Sum of the efficient-kan regularisers of all KAN layers (0 for the baseline)."""
        terms = [
            m.regularization_loss(regularize_activation, regularize_entropy)
            for m in self.modules()
            if isinstance(m, (KANLinear, KANConv1d))
        ]
        return torch.stack(terms).sum() if terms else torch.zeros((), device=self.device)


def write_remote_code(save_directory: str | os.PathLike) -> list[str]:
    """Copy the flat modeling files beside a saved checkpoint and set ``auto_map`` in its config.json."""
    here, dest = Path(__file__).resolve().parent, Path(save_directory)
    copied = []
    for name in REMOTE_CODE_FILES:
        src = here / name
        if src.is_file():
            if src.resolve() != (dest / name).resolve():
                shutil.copyfile(src, dest / name)
            copied.append(name)
    missing = set(REMOTE_CODE_FILES[:6]) - set(copied)
    if missing:
        raise FileNotFoundError(f"remote code files {sorted(missing)} not found next to {__file__}")
    auto_map = {k: v for k, v in AUTO_MAP.items() if k != "AutoTokenizer" or "tokenization_dna.py" in copied}
    for fname in ("config.json", "tokenizer_config.json"):
        path = dest / fname
        if not path.is_file():
            continue
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        data["auto_map"] = auto_map if fname == "config.json" else {"AutoTokenizer": AUTO_MAP["AutoTokenizer"]}
        tmp = path.with_suffix(".json.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, sort_keys=True)
            f.write("\n")
        os.replace(tmp, path)
    return copied


def _flag(value: bool | None, default: bool) -> bool:
    """A per-call switch (``output_hidden_states``, ``return_dict``): the call's value, else the config's."""
    return bool(default) if value is None else bool(value)


def one_hot_ids(input_ids: Tensor, channels: int = 4, dtype: torch.dtype = torch.float32) -> Tensor:
    """Token ids (B, L) -> one-hot (B, channels, L); N (4), padding and special tokens give zero columns."""
    oh = F.one_hot(input_ids.clamp(min=0, max=channels), channels + 1)[..., :channels]
    return oh.transpose(1, 2).to(dtype)


def reverse_complement_one_hot(x: Tensor) -> Tensor:
    """Reverse complement of a (B, 4, L) one-hot in A,C,G,T order: flip channels and length."""
    return x.flip(1).flip(2)


class LegNetModel(LegNetPreTrainedModel):
    """LegNet trunk: per-position features (B, C, L) and their mask-aware mean (B, C).

    ``drop_full_mask`` (class attribute, default True): an all-ones attention mask is dropped so that
    unpadded batches (fixed-length tasks such as GUE) take the plain BatchNorm / mean path; the result is
    the same up to float rounding. Set it False only to time the old masked path."""

    drop_full_mask: bool = True

    def __init__(self, config: LegNetConfig):
        super().__init__(config)
        kw = _kan_kwargs(config)
        b = config.block_sizes
        self.stem = ConvBNAct(config.in_channels, b[0], config.kernel_size, kan=kw if config.uses_kan_conv("stem") else None,
                              kan_input_norm=getattr(config, "kan_conv_input_norm", "none"))
        self.blocks = nn.ModuleList(LegNetStage(i, p, n, config) for i, (p, n) in enumerate(zip(b[:-1], b[1:])))
        self.post_init()

    def prepare_inputs(
        self,
        input_ids: Tensor | None = None,
        attention_mask: Tensor | None = None,
        inputs_embeds: Tensor | None = None,
    ) -> tuple[Tensor, Tensor | None]:
        """Validate inputs; return one-hot (B, C, L) in the model dtype and the float mask (B, 1, L) or None."""
        cfg = self.config
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("LegNet: pass exactly one of input_ids (B, L) or inputs_embeds (B, in_channels, L)")
        dtype = self.stem.bn.weight.dtype
        if input_ids is not None:
            if input_ids.dim() == 1:
                input_ids = input_ids.unsqueeze(0)
            if input_ids.dim() != 2 or input_ids.is_floating_point():
                raise ValueError(
                    f"LegNet: input_ids must be an integer tensor of shape (batch, length), got dtype "
                    f"{input_ids.dtype} and shape {tuple(input_ids.shape)}"
                )
            if not torch.compiler.is_compiling() and input_ids.numel():
                lo, hi = int(input_ids.min()), int(input_ids.max())
                if lo < 0 or hi >= cfg.vocab_size:
                    raise ValueError(f"LegNet: input_ids must lie in [0, {cfg.vocab_size}), got values in [{lo}, {hi}]")
            if attention_mask is None and cfg.pad_token_id is not None:
                attention_mask = (input_ids != cfg.pad_token_id).long()
            x = one_hot_ids(input_ids, cfg.in_channels, dtype)
        else:
            if inputs_embeds.dim() != 3 or inputs_embeds.shape[1] != cfg.in_channels:
                raise ValueError(
                    f"LegNet: inputs_embeds must have shape (batch, {cfg.in_channels}, length), "
                    f"got {tuple(inputs_embeds.shape)}"
                )
            x = inputs_embeds.to(dtype)
        length = x.shape[-1]
        if length == 0:
            raise ValueError("LegNet: empty input (length 0)")
        if cfg.max_sequence_length is not None and length > cfg.max_sequence_length:
            raise ValueError(
                f"LegNet: input length {length} exceeds max_sequence_length={cfg.max_sequence_length}; "
                "truncate it or scan it with the 'dna-classification' pipeline (window=...)"
            )
        mask = None
        if attention_mask is not None:
            if attention_mask.dim() == 1:
                attention_mask = attention_mask.unsqueeze(0)
            if tuple(attention_mask.shape) != (x.shape[0], length):
                raise ValueError(
                    f"LegNet: attention_mask shape {tuple(attention_mask.shape)} does not match the input "
                    f"(batch, length) = {(x.shape[0], length)}"
                )
            mask = attention_mask.to(dtype).unsqueeze(1)
            if self.drop_full_mask and not torch.compiler.is_compiling() and bool(attention_mask.all()):
                mask = None  # no padding: the plain (faster) BatchNorm / mean give the same result
        return x, mask

    def features(self, x: Tensor, mask: Tensor | None) -> Tensor:
        """Per-position features (B, C_last, L) of a one-hot input (B, C_in, L)."""
        return self.features_and_stages(x, mask, keep_stages=False)[0]

    def features_and_stages(
        self, x: Tensor, mask: Tensor | None, keep_stages: bool
    ) -> tuple[Tensor, tuple[Tensor, ...] | None]:
        """Last features (B, C_last, L) and, if ``keep_stages``, the stem output then each stage's output
        (the per-stage feature maps transformers CNNs return as ``hidden_states``), else None."""
        h = self.stem(x, mask)
        stages = [h] if keep_stages else None
        for block in self.blocks:
            h = block(h, mask)
            if stages is not None:
                stages.append(h)
        # h stays in the trunk's layout for the head; the returned stage maps are contiguous (B, C, L)
        return h, tuple(t.contiguous() for t in stages) if stages is not None else None

    def forward(
        self,
        input_ids: Tensor | None = None,
        attention_mask: Tensor | None = None,
        inputs_embeds: Tensor | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs: Any,
    ) -> BaseModelOutputWithPoolingAndNoAttention | tuple[Tensor, ...]:
        """Features (B, C, L) as last_hidden_state, their mask-aware mean (B, C) as pooler_output and, with
        ``output_hidden_states`` (default ``config.output_hidden_states``), the stem and stage outputs."""
        x, mask = self.prepare_inputs(input_ids, attention_mask, inputs_embeds)
        h, stages = self.features_and_stages(x, mask, _flag(output_hidden_states, self.config.output_hidden_states))
        pooled = masked_mean(h, mask)
        h = h.contiguous()  # the CPU trunk runs channels-last; hand users the usual (B, C, L) layout
        if not _flag(return_dict, self.config.return_dict):
            return (h, pooled) + ((stages,) if stages is not None else ())
        return BaseModelOutputWithPoolingAndNoAttention(last_hidden_state=h, pooler_output=pooled, hidden_states=stages)


class LegNetForSequenceClassification(LegNetPreTrainedModel):
    """LegNet with a logits head (k=1 conv, then mask-aware mean); optional reverse-complement averaging."""

    def __init__(self, config: LegNetConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        if config.rc_averaging and config.in_channels != 4:
            raise ValueError("LegNetConfig.rc_averaging needs in_channels=4 (one-hot A, C, G, T)")
        self.legnet = LegNetModel(config)
        cin = config.block_sizes[-1]
        # squashing of the head's input (kan_conv_input_norm), a module without parameters so the state dict is the
        # paper's; None for the plain head
        self.head_squash: GridSquash | None = None
        if config.uses_kan_conv("head"):
            self.head: nn.Module = KANConv1d(cin, config.num_labels, 1, **_kan_kwargs(config))
            self.head_squash = _conv_squash(getattr(config, "kan_conv_input_norm", "none"), _kan_kwargs(config))
        else:
            self.head = ChannelsLastConv1d(cin, config.num_labels, 1, bias=True)
            self.head._legnet_head = True
        self.post_init()

    def _logits(self, x: Tensor, mask: Tensor | None, keep_stages: bool = False) -> tuple[Tensor, tuple | None]:
        h, stages = self.legnet.features_and_stages(x, mask, keep_stages)
        if self.head_squash is not None:
            h = self.head_squash(h)
        return masked_mean(self.head(h), mask), stages

    def forward(
        self,
        input_ids: Tensor | None = None,
        attention_mask: Tensor | None = None,
        inputs_embeds: Tensor | None = None,
        labels: Tensor | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        rc_averaging: bool | None = None,
        **kwargs: Any,
    ) -> SequenceClassifierOutput | tuple[Tensor, ...]:
        """Logits (B, num_labels); loss from ``labels`` per ``config.problem_type`` (inferred like transformers);
        ``hidden_states`` (stem and stage outputs of the forward strand) with ``output_hidden_states``."""
        x, mask = self.legnet.prepare_inputs(input_ids, attention_mask, inputs_embeds)
        logits, stages = self._logits(x, mask, _flag(output_hidden_states, self.config.output_hidden_states))
        use_rc = self.config.rc_averaging if rc_averaging is None else rc_averaging
        if use_rc and not self.training:
            rc_mask = mask.flip(2) if mask is not None else None
            logits = 0.5 * (logits + self._logits(reverse_complement_one_hot(x), rc_mask)[0])
        loss = self.compute_loss(logits, labels) if labels is not None else None
        if not _flag(return_dict, self.config.return_dict):
            out = (logits,) + ((stages,) if stages is not None else ())
            return ((loss,) + out) if loss is not None else out
        return SequenceClassifierOutput(loss=loss, logits=logits, hidden_states=stages)

    def compute_loss(self, logits: Tensor, labels: Tensor) -> Tensor:
        """transformers' sequence-classification loss (``self.loss_function``: MSE, cross-entropy or
        BCE-with-logits per ``config.problem_type``, inferred like transformers) on checked labels."""
        return self.loss_function(self._loss_labels(logits, labels), logits, self.config)

    def _loss_labels(self, logits: Tensor, labels: Tensor) -> Tensor:
        """Labels on the logits' device; class ids range-checked (single label), targets cast to the
        logits' dtype and shape (regression, multi label) so integer or float64 targets work too."""
        labels = labels.to(logits.device)
        pt = self.config.problem_type
        if pt is not None and pt not in ("regression", "single_label_classification", "multi_label_classification"):
            raise ValueError(f"LegNet: unknown problem_type {pt!r}")
        integer_ids = labels.dtype in (torch.long, torch.int)
        if pt == "single_label_classification" or (pt is None and self.num_labels > 1 and integer_ids):
            flat = labels.reshape(-1)
            if not torch.compiler.is_compiling() and flat.numel():
                lo, hi = int(flat.min()), int(flat.max())
                if lo < 0 or hi >= self.num_labels:
                    raise ValueError(f"LegNet: labels must lie in [0, {self.num_labels}), got values in [{lo}, {hi}]")
            return flat.long()
        target = labels.to(logits.dtype)
        return target.reshape(logits.shape) if target.numel() == logits.numel() else target
