"""The training configs (shared `TrainingSetup`, classifier, diffusion), and `option()`, the one way to declare a config field.

A config dataclass is also the command line: `commands/_common.py::add_dataclass_arguments` turns each
field into a flag (`--field-name`), with its type, default and the `help` stated here once. Optional
`option()` keywords shape the flag: `flag` (another flag name), `aliases` (extra spellings), `parse`
(a str -> value function, e.g. comma-separated integers), `choices`, `metavar`, `argparse` (raw
`add_argument` keywords) and `cli=False` (a library-only field without a flag).

This module is deliberately light (no torch / accelerate) so the CLI can build its parsers fast.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..modeling.variants import VARIANTS

MIXED_PRECISION = ("no", "fp16", "bf16")
SCHEDULERS = ("constant", "onecycle")
LENGTH_MODES = ("pad", "fixed", "median")
DIFFUSION_LOSSES = ("mse", "huber")
BETA_SCHEDULES = ("linear", "squaredcos_cap_v2")  # diffusers names; squaredcos_cap_v2 = the cosine schedule
PREDICTION_TYPES = ("epsilon", "v_prediction", "sample")  # what the UNet predicts: noise, velocity or x0
LR_SCHEDULES = ("constant", "cosine")
LOG_FILE = "train_log.jsonl"  # JSONL metrics log inside output_dir
CHECKPOINT_DIR = "checkpoints"


def option(default: Any = dataclasses.MISSING, *, help: str, default_factory: Any = dataclasses.MISSING,
           **cli: Any) -> Any:
    """A dataclass field with its CLI help (and optional flag shaping, see module doc)."""
    return dataclasses.field(default=default, default_factory=default_factory, metadata={"help": help, **cli})


def override(base: type, name: str, default: Any) -> Any:
    """Redeclare field `name` of dataclass `base` with another default, keeping its help and flag."""
    return dataclasses.field(default=default, metadata=base.__dataclass_fields__[name].metadata)


def comma_ints(text: str) -> tuple[int, ...]:
    """'32,64,128' -> (32, 64, 128) (for list-valued flags)."""
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ValueError(f"expected comma-separated integers such as 32,64, got {text!r}") from None


def comma_strs(text: str) -> tuple[str, ...]:
    """'chr8, chr9' -> ('chr8', 'chr9')."""
    return tuple(v.strip() for v in text.split(",") if v.strip())


def none_word(parse: Callable[[str], Any] = str) -> Callable[[str], Any]:
    """A flag parser where the word 'none' means None (e.g. --class-column none)."""
    return lambda text: None if text.strip().lower() == "none" else parse(text)


def check_learning_rate(value: float) -> None:
    """A learning rate must be a finite number > 0 (nan, inf, 0 and negatives are refused)."""
    if not (value > 0 and value != float("inf")):
        raise ValueError(f"learning_rate must be a finite number > 0, got {value}; pass e.g. --learning-rate 5e-4")


def parse_grid_update_steps(spec: str | Sequence[int] | None, updates_per_epoch: int) -> set[int]:
    """Optimizer steps after which to refit KAN grids. `spec`: None/"" (never), a list of steps, or a
    string "epochs:1,2" (after those epochs) / "steps:50,200" / "every:N" (every N steps, first epoch only)."""
    if not spec:
        return set()
    if not isinstance(spec, str):
        return {int(s) for s in spec}
    kind, _, values = spec.partition(":")
    try:
        nums = [int(v) for v in values.split(",") if v.strip()]
    except ValueError:
        nums = []
    if kind not in ("epochs", "steps", "every") or not nums or min(nums) < 1:
        raise ValueError(f"grid update schedule {spec!r}: use 'epochs:1,2', 'steps:50,200' or 'every:N' (N >= 1)")
    if kind == "epochs":
        return {e * updates_per_epoch for e in nums}
    if kind == "steps":
        return set(nums)
    return set(range(nums[0], updates_per_epoch + 1, nums[0]))


@dataclass(kw_only=True)
class TrainingSetup:
    """What every training run shares: where it writes, precision/device, seed, resume, checkpoints, logs, Hub."""

    output_dir: str = option(help="run folder: checkpoints/, train_log.jsonl, results.json and the final model")
    seed: int = option(0, help="random seed (model initialisation, data order, noise)")
    mixed_precision: str = option("no", help="mixed precision", choices=MIXED_PRECISION)
    cpu: bool = option(False, help="force CPU even when a GPU is present")
    max_steps: int | None = option(None, help="stop after this many optimizer updates in total")
    resume: bool = option(False, help="continue from the newest checkpoint in the output folder")
    allow_changed_args: bool = option(False, help="with --resume, accept training arguments (learning rate, batch "
                                                  "size, ...) that differ from the checkpoint's; the dataset and "
                                                  "model must still match")
    overwrite_output_dir: bool = option(False, help="replace the earlier run found in --output-dir (its "
                                                    "checkpoints, best/, logs and results)")
    save_steps: int | None = option(None, help="also checkpoint every N optimizer updates (0 or unset = off)",
                                    aliases=["--checkpoint-every"])
    keep_checkpoints: int = option(2, help="how many of the newest checkpoints to keep", aliases=["--keep-last"])
    log_every: int = option(20, help="log the mean training loss every N optimizer updates")
    tensorboard: bool = option(False, help="also log to <output-dir>/tensorboard (accelerate's TensorBoard tracker)")
    progress: bool = option(True, help="tqdm progress bars (--no-progress to hide them)")
    push_to_hub: bool = option(False, metavar="REPO_ID", argparse={"nargs": "?", "const": True, "type": str},
                               help="push the final model to the Hugging Face Hub (token: the HF_TOKEN "
                                    "environment variable); a value is shorthand for --hub-model-id")
    hub_model_id: str | None = option(None, help="Hub repository 'user/name' for --push-to-hub")
    hub_private: bool = option(False, help="create the Hub repository as private")

    def __post_init__(self) -> None:
        if isinstance(self.push_to_hub, str):  # push_to_hub="user/name" is shorthand for the two fields
            self.hub_model_id = self.hub_model_id or self.push_to_hub
            self.push_to_hub = True
        if not self.output_dir:
            raise ValueError("output_dir is required: pass the run folder (--output-dir DIR)")
        if self.mixed_precision not in MIXED_PRECISION:
            raise ValueError(f"mixed_precision must be one of {MIXED_PRECISION}, got {self.mixed_precision!r}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"max_steps must be >= 1 (or unset), got {self.max_steps}")
        for name in ("save_steps", "keep_checkpoints"):
            if getattr(self, name) is not None and getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.log_every < 1:
            raise ValueError(f"log_every must be >= 1, got {self.log_every}")
        if self.push_to_hub and not self.hub_model_id:
            raise ValueError("push_to_hub needs hub_model_id: pass --hub-model-id user/name")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(kw_only=True)
class ClassifierTrainingConfig(TrainingSetup):
    """Settings of `train_classifier`; also the training flags of `kan-genomics train`."""

    epochs: int = option(10, help="training epochs")
    batch_size: int = option(64, help="training batch size (per process)")
    eval_batch_size: int = option(256, help="validation/test batch size")
    learning_rate: float = option(5e-4, help="AdamW learning rate (OneCycle's maximum)", aliases=["--lr"])
    weight_decay: float = option(0.005, help="AdamW weight decay of weight matrices (biases/norms: none)")
    scheduler: str = option("constant", choices=SCHEDULERS,
                            help="constant AdamW (the paper's notebooks) or LegNet's OneCycle (max LR = --learning-rate)")
    gradient_accumulation_steps: int = option(1, help="batches per optimizer update")
    max_grad_norm: float | None = option(1.0, help="gradient-norm clip (0 = off)")
    early_stopping_patience: int | None = option(3, flag="--patience",
                                                 help="early-stopping patience in epochs without validation-MCC "
                                                      "improvement (0 = off)")
    length_mode: str = option("pad", choices=LENGTH_MODES,
                              help="pad (mask-aware), fixed (centred crop/pad to --fixed-length), median (authors' recipe)")
    fixed_length: int | None = option(None, help="sequence length for --length-mode fixed")
    max_length: int | None = option(None, help="crop longer sequences to this length")
    rc_augment: float = option(0.0, help="probability of reverse-complementing a training row")
    shift_augment: int = option(0, help="max random shift (bp) of training rows")
    dataloader_workers: int = option(0, help="DataLoader worker processes for the training split")
    # the recipe (training/recipe.py, training/kan_monitor.py; bench_results/gue_recipe_search): all off by
    # default except the KAN input monitor
    label_smoothing: float = option(0.0, help="label-smoothed cross-entropy (single-label classification)")
    ema_decay: float | None = option(None, help="evaluate/select/save an EMA of the weights (e.g. 0.999)")
    rc_eval: bool = option(False, help="average forward and reverse-complement logits at evaluation (kept in "
                                       "the saved config)")
    grid_update: str | None = option(None, metavar="SCHEDULE",
                                     help="refit KANLinear grids on training inputs: 'epochs:1,2', 'steps:50,200' "
                                          "or 'every:N'")
    spline_lr_scale: float = option(1.0, help="learning-rate multiplier of KAN spline weights")
    spline_weight_decay: float | None = option(None, help="weight decay of KAN spline weights (unset: "
                                                          "--weight-decay)")
    kan_monitor: bool = option(True, help="log per-epoch KAN input-vs-grid statistics to train_log.jsonl "
                                          "(split 'kan'; --no-kan-monitor to skip)")
    model_card: dict[str, Any] = option(default_factory=dict, cli=False, help="extra write_model_card kwargs")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.scheduler not in SCHEDULERS:
            raise ValueError(f"scheduler must be one of {SCHEDULERS}, got {self.scheduler!r}")
        if self.length_mode not in LENGTH_MODES:
            raise ValueError(f"length_mode must be one of {LENGTH_MODES}, got {self.length_mode!r}")
        for name in ("epochs", "batch_size", "eval_batch_size", "gradient_accumulation_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        check_learning_rate(self.learning_rate)
        if not 0 <= self.rc_augment <= 1:
            raise ValueError(f"rc_augment must be a probability in [0, 1], got {self.rc_augment}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if self.ema_decay is not None and not 0.0 < self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in (0, 1) (e.g. 0.999) or unset, got {self.ema_decay}")
        if not self.spline_lr_scale > 0:
            raise ValueError(f"spline_lr_scale must be > 0, got {self.spline_lr_scale}")
        if self.spline_weight_decay is not None and not self.spline_weight_decay >= 0:
            raise ValueError(f"spline_weight_decay must be >= 0, got {self.spline_weight_decay}")
        parse_grid_update_steps(self.grid_update, 1)
        self.early_stopping_patience = self.early_stopping_patience or None  # 0 = off
        self.max_grad_norm = self.max_grad_norm or None


@dataclass(kw_only=True)
class DiffusionTrainingConfig(TrainingSetup):
    """Everything a diffusion run needs; also the flags of `kan-genomics train-diffusion`."""

    data: str = option(help="CSV/TSV/parquet with a sequence column (+ class column)")
    sequence_column: str = option("sequence", help="column holding the DNA sequences")
    class_column: str | None = option("cell_type", parse=none_word(),
                                         help="column of class names; 'none' = unconditional")
    val_fraction: float = option(0.05, help="random validation fraction (without --val-chromosomes)")
    val_chromosomes: Sequence[str] | None = option(None, parse=comma_strs,
                                                      help="e.g. chr9: hold these out for validation")
    exclude_chromosomes: Sequence[str] | None = option(None, parse=comma_strs,
                                                          help="e.g. chr8: never train on these (test)")
    chromosome_column: str = option("chr", help="column of chromosome names")
    max_train_samples: int | None = option(None, help="random subset of the table (seeded)")
    variant: str = option("baseline", choices=VARIANTS, help="UNet variant")
    block_out_channels: Sequence[int] = option((32, 64, 128), parse=comma_ints,
                                               help="channels per UNet level, comma-separated")
    layers_per_block: int = option(1, help="resnet layers per UNet block")
    attention_levels: Sequence[int] | None = option(None, parse=comma_ints,
                                                       help="levels with attention (unset: the deepest)")
    kan_grid_size: int = option(5, help="KAN spline grid size")
    kan_spline_order: int = option(3, help="KAN spline order")
    num_train_timesteps: int = option(50, help="diffusion steps T of the noise schedule")
    beta_start: float = option(1e-4, help="first beta of the linear schedule")
    beta_end: float = option(0.2, help="last beta of the linear schedule")
    beta_schedule: str = option("linear", choices=BETA_SCHEDULES,
                                help="noise schedule: linear betas (--beta-start -> --beta-end, DNA-Diffusion) or "
                                     "squaredcos_cap_v2 (the cosine schedule; the betas flags are then unused)")
    prediction_type: str = option("epsilon", choices=PREDICTION_TYPES,
                                  help="UNet target: epsilon (noise), v_prediction (velocity) or sample (x0); kept "
                                       "in the exported scheduler config")
    loss: str = option("huber", choices=DIFFUSION_LOSSES, help="loss between prediction and target")
    snr_gamma: float | None = option(None, help="min-SNR-gamma loss weighting (e.g. 5; unset or 0 = equal weights)")
    p_uncond: float = option(0.1, help="classifier-free-guidance label dropout")
    batch_size: int = option(64, help="training batch size")
    learning_rate: float = option(1e-4, help="AdamW learning rate (the peak with --lr-schedule cosine)")
    lr_schedule: str = option("constant", choices=LR_SCHEDULES,
                              help="learning rate after the warm-up: constant, or cosine decay to 0 at --max-steps "
                                   "(or the end of --epochs)")
    lr_warmup_steps: int = option(0, help="linear learning-rate warm-up over this many optimizer updates")
    weight_decay: float = option(0.0, help="AdamW weight decay")
    epochs: int = option(1, help="training epochs (ignored when --max-steps is set)")
    max_time_s: float | None = option(None, help="stop after this many seconds of training")
    ema_decay: float | None = option(0.995, help="EMA decay of the weights, reached after a warm-up (update n "
                                                 "uses min(decay, 1 - (1 + n)^(-2/3))); 0 disables EMA")
    sample_every_epochs: int = option(1, help="sample and score every N epochs; 0 disables periodic sampling")
    sample_num_per_class: int = option(32, help="sequences generated per class when sampling")
    sample_steps: int = option(50, help="DDIM steps when sampling")
    sample_motifs: bool = option(True, help="JASPAR motif scan during periodic sampling (--no-sample-motifs to skip)")
    save_steps: int | None = override(TrainingSetup, "save_steps", 500)
    log_every: int = override(TrainingSetup, "log_every", 50)
    extra: dict = option(default_factory=dict, cli=False, help="free-form notes kept in results.json")

    def __post_init__(self) -> None:
        super().__post_init__()
        self.ema_decay = self.ema_decay or None  # 0 = off
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {self.variant!r}")
        if self.loss not in DIFFUSION_LOSSES:
            raise ValueError(f"loss must be 'mse' or 'huber', got {self.loss!r}")
        for name, allowed in (("beta_schedule", BETA_SCHEDULES), ("prediction_type", PREDICTION_TYPES),
                              ("lr_schedule", LR_SCHEDULES)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if self.lr_warmup_steps < 0:
            raise ValueError(f"lr_warmup_steps must be >= 0, got {self.lr_warmup_steps}")
        self.snr_gamma = self.snr_gamma or None  # 0 = off
        if self.snr_gamma is not None and not self.snr_gamma > 0:
            raise ValueError(f"snr_gamma must be > 0 (or 0/unset = off), got {self.snr_gamma}")
        if not 0 <= self.p_uncond < 1:
            raise ValueError(f"p_uncond must be in [0, 1), got {self.p_uncond}")
        if not 0 < self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in (0, 1), got {self.val_fraction}")
        if self.num_train_timesteps < 1:
            raise ValueError(f"num_train_timesteps must be >= 1, got {self.num_train_timesteps}")
        if not 0 < self.beta_start < self.beta_end < 1:
            raise ValueError(f"need 0 < beta_start < beta_end < 1, got {self.beta_start}, {self.beta_end}")
        if self.sample_steps > self.num_train_timesteps:
            raise ValueError(f"sample_steps={self.sample_steps} exceeds num_train_timesteps={self.num_train_timesteps}")
        check_learning_rate(self.learning_rate)
        if self.batch_size < 1 or self.epochs < 1:
            raise ValueError(f"batch_size and epochs must be >= 1, got {self.batch_size} and {self.epochs}")
        if self.ema_decay is not None and not 0 < self.ema_decay < 1:
            raise ValueError(f"ema_decay must be in (0, 1), or 0/None for no EMA, got {self.ema_decay}")
