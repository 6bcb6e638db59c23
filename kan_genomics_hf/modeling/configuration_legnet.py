"""Configuration of the LegNet DNA classifiers (baseline MLP / linear KAN / convolutional KAN).

The defaults reproduce the authors' LegNet ``SeqNN`` (block sizes 256,256,128,128,64,64,32,32, kernel 5,
resize factor 4, two filters per group, SE reduction 4, one-hot input with 4 channels). With
``num_labels=1`` and ``se_type="simple"`` the parameter counts equal the authors' code exactly:
baseline 2,649,313; LKAN grid 5: 4,990,177; LKAN grid 20: 8,891,617.
"""
from __future__ import annotations

import re
from typing import Any, ClassVar

from transformers import PretrainedConfig

from .variants import VARIANTS

SE_TYPES = ("simple", "bilinear")
KAN_INPUT_NORMS = ("none", "layernorm", "batchnorm", "tanh")
KAN_CONV_INPUT_NORMS = ("none", "tanh")
STAGE_CONVS = ("expand", "depthwise", "project", "resize")
_STAGE_CONV_RE = re.compile(r"^blocks\.(\d+)\.(expand|depthwise|project|resize)$")

# Token ids shared with the tokenizer: A, C, G, T, N = 0..4 (as in dna_encoding), then special tokens.
DNA_VOCAB: tuple[str, ...] = ("A", "C", "G", "T", "N", "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
PAD_TOKEN_ID = 5


class LegNetConfig(PretrainedConfig):
    """Hyper-parameters of a LegNet classifier; ``variant`` picks baseline, LKAN (KAN SE) or CKAN (KAN convs).

    Fields:
        variant: "baseline" (MLP squeeze-excitation), "lkan" (KANLinear SE in ``kan_blocks``) or
            "ckan" (KANConv1d for the convolutions named in ``ckan_layers``).
        in_channels: one-hot channels (4: A, C, G, T; N is an all-zero column).
        block_sizes: stem width then one output width per stage (len(block_sizes) - 1 stages).
        kernel_size, resize_factor, filter_per_group, se_reduction: as in LegNet.
        se_type: "simple" (two bias-free linear layers, the authors' code) or "bilinear" (the LegNet paper's SE
            with a CP-factorised bilinear layer of rank ``bilinear_rank``, default h*h//10).
        kan_grid_size, kan_spline_order, kan_grid_range: KAN spline settings.
        kan_blocks: stage indices whose SE uses KANLinear (LKAN only); None = all stages.
        ckan_layers: convolutions that become KANConv1d (CKAN only): "stem", "head", "blocks.<i>.<conv>" with
            <conv> in expand/depthwise/project/resize, or "all"; default ("stem", "head").
        kan_input_norm: normalisation of the input of every SE KANLinear (LKAN), parameter-free so counts are
            unchanged: "none" (the paper), "layernorm" / "batchnorm" (no affine; the KAN is per-feature
            already) or "tanh" (bounded squashing scaled to kan_grid_range: mid + half * tanh((x - mid) / half)).
        kan_conv_input_norm: the same for the input of every KANConv1d (CKAN): "none" (the paper) or "tanh"
            (the squashing above, applied before the padding is zeroed). The CKAN head otherwise takes SiLU
            outputs with about 5 % of them beyond the extended grid, where the spline is 0 and gets no gradient.
        kan_scale_noise: amplitude of the noise the spline coefficients are fitted to at initialisation
            (efficient-kan's scale_noise, 0.1; larger = a larger initial spline branch).
        kan_scale_spline: spline_scaler init (efficient-kan's scale_spline, 1.0; a larger value gives a
            SMALLER kaiming-uniform init, as for scale_base).
        kan_grid_eps: mix of uniform (1) and quantile (0) knots used by ``update_grid`` (0.02 as efficient-kan).
        rc_averaging: average logits of the sequence and its reverse complement at inference.
        max_sequence_length: longest input accepted (None = any length; LegNet is fully convolutional).
    """

    model_type = "kan_legnet"
    attribute_map: ClassVar[dict[str, str]] = {}

    variant: str = "baseline"
    in_channels: int = 4
    block_sizes: list[int] | tuple[int, ...] = (256, 256, 128, 128, 64, 64, 32, 32)
    kernel_size: int = 5
    resize_factor: int = 4
    filter_per_group: int = 2
    se_reduction: int = 4
    se_type: str = "simple"
    bilinear_rank: int | None = None
    kan_grid_size: int = 5
    kan_spline_order: int = 3
    kan_grid_range: list[float] | tuple[float, float] = (-1.0, 1.0)
    kan_blocks: list[int] | None = None
    ckan_layers: list[str] | tuple[str, ...] = ("stem", "head")
    kan_input_norm: str = "none"
    kan_conv_input_norm: str = "none"
    kan_scale_noise: float = 0.1
    kan_scale_spline: float = 1.0
    kan_grid_eps: float = 0.02
    rc_averaging: bool = False
    max_sequence_length: int | None = None
    vocab_size: int = len(DNA_VOCAB)
    pad_token_id: int | None = PAD_TOKEN_ID
    initializer_std_linear: float = 0.001

    def __post_init__(self, **kwargs: Any) -> None:
        self.block_sizes = [int(b) for b in self.block_sizes]
        self.kan_grid_range = [float(v) for v in self.kan_grid_range]
        self.ckan_layers = list(self.ckan_layers) if self.ckan_layers is not None else []
        if self.kan_blocks is not None:
            self.kan_blocks = [int(i) for i in self.kan_blocks]
        super().__post_init__(**kwargs)
        self._check()

    @property
    def num_stages(self) -> int:
        """Number of LegNet stages (one per consecutive pair of block sizes)."""
        return len(self.block_sizes) - 1

    def _check(self) -> None:
        """Validate field values with errors that name the field."""
        if self.variant not in VARIANTS:
            raise ValueError(f"LegNetConfig.variant must be one of {VARIANTS}, got {self.variant!r}")
        if self.se_type not in SE_TYPES:
            raise ValueError(f"LegNetConfig.se_type must be one of {SE_TYPES}, got {self.se_type!r}")
        if self.kan_input_norm not in KAN_INPUT_NORMS:
            raise ValueError(f"LegNetConfig.kan_input_norm must be one of {KAN_INPUT_NORMS}, got {self.kan_input_norm!r}")
        if self.kan_conv_input_norm not in KAN_CONV_INPUT_NORMS:
            raise ValueError(f"LegNetConfig.kan_conv_input_norm must be one of {KAN_CONV_INPUT_NORMS}, "
                             f"got {self.kan_conv_input_norm!r}")
        if not float(self.kan_scale_noise) >= 0:
            raise ValueError(f"LegNetConfig.kan_scale_noise must be >= 0, got {self.kan_scale_noise}")
        if not float(self.kan_scale_spline) > 0:
            raise ValueError(f"LegNetConfig.kan_scale_spline must be > 0, got {self.kan_scale_spline}")
        if not 0.0 <= float(self.kan_grid_eps) <= 1.0:
            raise ValueError(f"LegNetConfig.kan_grid_eps must be in [0, 1], got {self.kan_grid_eps}")
        if len(self.block_sizes) < 2 or any(b < 1 for b in self.block_sizes):
            raise ValueError(
                f"LegNetConfig.block_sizes needs >= 2 positive widths (stem + stages), got {self.block_sizes}"
            )
        for name in ("in_channels", "kernel_size", "resize_factor", "filter_per_group", "se_reduction"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"LegNetConfig.{name} must be >= 1, got {getattr(self, name)}")
        for i, (prev, nxt) in enumerate(zip(self.block_sizes[:-1], self.block_sizes[1:])):
            inner = nxt * self.resize_factor
            if inner % self.filter_per_group:
                raise ValueError(
                    f"LegNetConfig: stage {i} inner width {inner} (= {nxt} x resize_factor) is not divisible by "
                    f"filter_per_group={self.filter_per_group}"
                )
            if prev // self.se_reduction < 1:
                raise ValueError(
                    f"LegNetConfig: stage {i} SE hidden width {prev}//se_reduction={self.se_reduction} is 0"
                )
        lo, hi = (self.kan_grid_range + [0.0, 0.0])[:2]
        if len(self.kan_grid_range) != 2 or not lo < hi:
            raise ValueError(f"LegNetConfig.kan_grid_range must be [low, high] with low < high, got {self.kan_grid_range}")
        if self.kan_grid_size < 1 or self.kan_spline_order < 1:
            raise ValueError("LegNetConfig.kan_grid_size and kan_spline_order must be >= 1")
        if self.kan_blocks is not None:
            bad = [i for i in self.kan_blocks if not 0 <= i < self.num_stages]
            if bad:
                raise ValueError(
                    f"LegNetConfig.kan_blocks has stage indices {bad} outside 0..{self.num_stages - 1}"
                )
        for name in self.ckan_layers:
            m = _STAGE_CONV_RE.match(name)
            if name in ("stem", "head", "all"):
                continue
            if m is None:
                raise ValueError(
                    f"LegNetConfig.ckan_layers entry {name!r} is not 'stem', 'head', 'all' or "
                    f"'blocks.<i>.<{'|'.join(STAGE_CONVS)}>'"
                )
            if not 0 <= int(m.group(1)) < self.num_stages:
                raise ValueError(f"LegNetConfig.ckan_layers entry {name!r}: stage outside 0..{self.num_stages - 1}")
        if self.bilinear_rank is not None and self.bilinear_rank < 1:
            raise ValueError(f"LegNetConfig.bilinear_rank must be >= 1, got {self.bilinear_rank}")
        if self.max_sequence_length is not None and self.max_sequence_length < 1:
            raise ValueError(f"LegNetConfig.max_sequence_length must be >= 1, got {self.max_sequence_length}")

    def uses_kan_se(self, stage: int) -> bool:
        """True when stage ``stage`` gets a KANLinear squeeze-excitation (LKAN variant)."""
        return self.variant == "lkan" and (self.kan_blocks is None or stage in self.kan_blocks)

    def uses_kan_conv(self, name: str) -> bool:
        """True when the convolution ``name`` ("stem", "head", "blocks.<i>.<conv>") is a KANConv1d (CKAN)."""
        return self.variant == "ckan" and ("all" in self.ckan_layers or name in self.ckan_layers)
