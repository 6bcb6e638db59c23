"""The diffusion training loop: KANUNet1DModel on one-hot DNA with Accelerate, EMA and atomic checkpoints.

Noise-prediction objective with DNA-Diffusion's linear beta schedule (1e-4 -> 0.2, T configurable) or the
cosine schedule, noise / velocity / x0 targets (optionally min-SNR weighted), `mse` or `huber` loss, a
learning-rate warm-up and cosine decay, classifier-free-guidance label dropout (labels replaced by the null class with
probability `p_uncond`), diffusers' `EMAModel`, atomic checkpoints with resume, a deterministic
validation loss every epoch, periodic DDIM sampling scored with `evaluate_generation`, and a final
`DNADiffusionPipeline` export (EMA weights) with a model card. The shared skeleton (Accelerator, resume,
checkpoints, trackers, export, push) is `skeleton.TrainingRun`.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data.tables import load_dna_table
from .cards import diffusion_card
from .config import DiffusionTrainingConfig
from .skeleton import TrainingRun

PipelineFactory = Callable[[Any, DiffusionTrainingConfig], Any]  # (unet, cfg) -> DNADiffusionPipeline

def split_indices(n: int, cfg: DiffusionTrainingConfig, groups: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) row indices: held-out chromosomes when `val_chromosomes` is set, else a seeded
    random `val_fraction`; rows on `exclude_chromosomes` (a test set) are never used."""
    keep = np.ones(n, bool)
    if cfg.exclude_chromosomes:
        keep &= ~np.isin(groups, list(cfg.exclude_chromosomes))
    if cfg.val_chromosomes:
        is_val = np.isin(groups, list(cfg.val_chromosomes))
        val_idx, tr_idx = np.flatnonzero(is_val & keep), np.flatnonzero(~is_val & keep)
        if len(val_idx) == 0:
            raise ValueError(f"{cfg.data}: no rows on validation chromosomes {list(cfg.val_chromosomes)}")
    else:
        perm = np.random.default_rng(cfg.seed).permutation(np.flatnonzero(keep))
        n_val = max(1, int(round(cfg.val_fraction * len(perm))))
        val_idx, tr_idx = np.sort(perm[:n_val]), perm[n_val:]
    if len(tr_idx) == 0:
        raise ValueError(f"{cfg.data}: no training rows left after the validation/test split")
    return tr_idx, val_idx


def diffusion_loss(pred, target, kind: str, weights=None):
    """Loss of the UNet output: mean squared error or Huber (smooth-L1, as DNA-Diffusion); with `weights`
    (one per sample, e.g. min-SNR) the weighted mean of the per-sample losses."""
    import torch.nn.functional as F

    if weights is None:
        return F.mse_loss(pred, target) if kind == "mse" else F.smooth_l1_loss(pred, target)
    per = (F.mse_loss if kind == "mse" else F.smooth_l1_loss)(pred, target, reduction="none").mean(dim=(1, 2))
    return (per * weights).mean()


def make_noise_scheduler(cfg: DiffusionTrainingConfig):
    """The training-side DDPMScheduler (forward noising, v targets) of the config's noise schedule."""
    from diffusers import DDPMScheduler

    return DDPMScheduler(num_train_timesteps=cfg.num_train_timesteps, beta_start=cfg.beta_start,
                         beta_end=cfg.beta_end, beta_schedule=cfg.beta_schedule, prediction_type=cfg.prediction_type)


def diffusion_target(noise_sched, x0, noise, t, prediction_type: str):
    """What the UNet learns to output: the noise, the velocity alpha_t * noise - sigma_t * x0, or x0."""
    if prediction_type == "epsilon":
        return noise
    if prediction_type == "v_prediction":
        return noise_sched.get_velocity(x0, noise, t)
    return x0


def snr_weights(noise_sched, t, gamma: float | None, prediction_type: str):
    """Min-SNR-gamma weights (Hang et al. 2023) per sample, expressed for the chosen target (None without gamma):
    min(SNR, gamma) / SNR for epsilon, / (SNR + 1) for v, min(SNR, gamma) for x0."""
    if gamma is None:
        return None
    from diffusers.training_utils import compute_snr

    snr = compute_snr(noise_sched, t)
    clipped = snr.clamp(max=gamma)
    if prediction_type == "epsilon":
        return clipped / snr
    if prediction_type == "v_prediction":
        return clipped / (snr + 1)
    return clipped


def _build_unet(cfg: DiffusionTrainingConfig, length: int, class_names: list[str] | None):
    from ..modeling.unet_kan_1d import KANUNet1DModel

    return KANUNet1DModel(
        variant=cfg.variant, sample_size=length, block_out_channels=tuple(cfg.block_out_channels),
        layers_per_block=cfg.layers_per_block, attention_levels=cfg.attention_levels,
        num_class_embeds=len(class_names) if class_names else None, class_names=class_names,
        kan_grid_size=cfg.kan_grid_size, kan_spline_order=cfg.kan_spline_order,
    )


def _validation_loss(model, loader, noise_sched, cfg, accelerator, seed: int = 1234) -> float:
    """Loss on the validation set with fixed timesteps/noise (same draws every epoch, so epochs compare)."""
    import torch

    model.eval()
    gen = torch.Generator().manual_seed(seed + accelerator.process_index)
    total, count = 0.0, 0
    with torch.no_grad():
        for x0, y in loader:
            t = torch.randint(0, cfg.num_train_timesteps, (x0.shape[0],), generator=gen).to(x0.device)
            noise = torch.randn(x0.shape, generator=gen).to(x0.device)
            xt = noise_sched.add_noise(x0, noise, t)
            labels = y if model_has_classes(model) else None
            pred = model(xt, t, labels).sample
            target = diffusion_target(noise_sched, x0, noise, t, cfg.prediction_type)
            per = ((pred - target) ** 2 if cfg.loss == "mse" else
                   torch.nn.functional.smooth_l1_loss(pred, target, reduction="none")).mean(dim=(1, 2))
            per = accelerator.gather_for_metrics(per)
            total += float(per.sum())
            count += per.numel()
    model.train()
    return total / max(count, 1)


def model_has_classes(model) -> bool:
    """True when the (possibly wrapped) UNet has a class embedding."""
    return bool(getattr(model, "module", model).config.num_class_embeds)


def sample_and_score(pipeline, class_names, val_x, val_y, cfg, seed: int = 0) -> dict[str, float]:
    """Generate `sample_num_per_class` per class with DDIM and score them against validation sequences."""
    import torch

    from ..evaluation.generation import evaluate_generation
    from ..modeling.dna_encoding import decode_one_hot

    pipeline.set_progress_bar_config(disable=True)
    out: dict[str, float] = {}
    groups = list(enumerate(class_names)) if class_names else [(None, "all")]
    per_class = []
    t0 = time.time()
    n_total = 0
    for cid, _name in groups:
        ref_idx = np.flatnonzero(val_y == cid) if cid is not None else np.arange(len(val_y))
        if len(ref_idx) < 2:
            continue
        gen = pipeline(num_sequences=cfg.sample_num_per_class, class_labels=cid, num_inference_steps=cfg.sample_steps,
                       generator=torch.Generator().manual_seed(seed), batch_size=256).sequences
        n_total += len(gen)
        ref = decode_one_hot(val_x[ref_idx])
        per_class.append(evaluate_generation(gen, ref, motifs=cfg.sample_motifs, paper_metrics=False))
    out["seconds"] = time.time() - t0
    out["sequences"] = float(n_total)
    for key in per_class[0] if per_class else []:
        out[key] = float(np.mean([m[key] for m in per_class]))
    return out


@dataclass
class DiffusionData:
    """The table split into training and validation arrays (x in [-1, 1], shape (N, 4, L))."""

    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    class_names: list[str] | None

    @classmethod
    def load(cls, cfg: DiffusionTrainingConfig) -> DiffusionData:
        use_groups = bool(cfg.val_chromosomes or cfg.exclude_chromosomes)
        x, y, names, groups = load_dna_table(cfg.data, cfg.sequence_column, cfg.class_column, cfg.max_train_samples,
                                             cfg.seed, cfg.chromosome_column if use_groups else None)
        tr, va = split_indices(len(x), cfg, groups)
        return cls(x[tr], y[tr], x[va], y[va], names)


def _lr_scheduler(optimizer, cfg: DiffusionTrainingConfig, total_steps: int):
    """Linear warm-up over `lr_warmup_steps`, then constant or cosine decay to 0 at `total_steps` (a LambdaLR,
    so accelerate checkpoints and restores it with the optimizer)."""
    import math

    from torch.optim.lr_scheduler import LambdaLR

    warmup, cosine = cfg.lr_warmup_steps, cfg.lr_schedule == "cosine"

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if not cosine:
            return 1.0
        progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    return LambdaLR(optimizer, factor)


class DiffusionLoop:
    """Optimizer steps, per-epoch validation/sampling and the final export over prepared objects."""

    def __init__(self, run: TrainingRun, data: DiffusionData, make_pipeline: PipelineFactory) -> None:
        import torch
        from torch.utils.data import DataLoader, TensorDataset

        self.run, self.acc, self.cfg, self.data = run, run.accelerator, run.setup, data
        self.make_pipeline = make_pipeline
        cfg = self.cfg
        train_ds = TensorDataset(torch.from_numpy(data.train_x), torch.from_numpy(data.train_y))
        val_ds = TensorDataset(torch.from_numpy(data.val_x), torch.from_numpy(data.val_y))
        train_loader = DataLoader(train_ds, batch_size=cfg.batch_size, shuffle=True,
                                  drop_last=len(train_ds) > cfg.batch_size)
        val_loader = DataLoader(val_ds, batch_size=max(cfg.batch_size, 128), shuffle=False)
        model = _build_unet(cfg, data.train_x.shape[-1], data.class_names)
        self.n_params = sum(p.numel() for p in model.parameters())
        optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
        self.noise_sched = make_noise_scheduler(cfg)
        self.model, self.optimizer, self.train_loader, self.val_loader = self.acc.prepare(
            model, optimizer, train_loader, val_loader)
        # no scheduler object at a constant rate without warm-up (checkpoints then hold what they always held)
        scheduled = cfg.lr_schedule != "constant" or cfg.lr_warmup_steps > 0
        total_steps = cfg.max_steps or cfg.epochs * len(self.train_loader)
        self.lr_sched = self.acc.prepare(_lr_scheduler(optimizer, cfg, total_steps)) if scheduled else None
        self.ema = self._make_ema()
        self.null_id = len(data.class_names) if data.class_names else None
        self.history: list[dict[str, Any]] = []
        self.running: list[float] = []
        self.state = run.restore({"global_step": 0, "epoch": 0, "step_in_epoch": 0, "train_seconds": 0.0})
        self.last_lr = float(self.optimizer.param_groups[0]["lr"])
        if self.lr_sched is not None:  # a resume (maybe with another --max-steps) continues on this run's schedule
            inner = self.lr_sched.scheduler
            for group, base, lam in zip(self.optimizer.param_groups, inner.base_lrs, inner.lr_lambdas):
                group["lr"] = base * lam(inner.last_epoch)
        self.max_steps = cfg.max_steps or cfg.epochs * len(self.train_loader)
        # timesteps, noise and label dropout come from a generator re-seeded from (seed, step, rank) at every
        # checkpoint, so a resumed run draws exactly what the uninterrupted run drew (no RNG state to restore)
        self.noise_gen = torch.Generator()
        self.reseed()

    def _make_ema(self):
        from diffusers.training_utils import EMAModel

        if self.cfg.ema_decay is None:
            return None
        net = self.acc.unwrap_model(self.model)
        ema = EMAModel(net.parameters(), decay=self.cfg.ema_decay, use_ema_warmup=True, model_cls=type(net),
                       model_config=net.config)
        ema.to(self.acc.device)
        self.acc.register_for_checkpointing(ema)
        return ema

    def reseed(self) -> None:
        step = int(self.state["global_step"])
        self.noise_gen.manual_seed(self.cfg.seed * 1_000_003 + step * 7_919 + self.acc.process_index)

    def checkpoint(self) -> None:
        st = self.state
        self.run.checkpoint(st["global_step"], {**st, "config": dataclasses.asdict(self.cfg)})
        self.reseed()

    def log(self, rec: dict[str, Any], split: str) -> None:
        self.run.log(rec, self.state["global_step"], split=split)
        self.history.append({"step": self.state["global_step"], "split": split, **rec})

    def log_train_loss(self) -> None:
        """One train record with the mean loss since the last one."""
        if self.running:
            self.log({"loss": float(np.mean(self.running)), "epoch": self.state["epoch"],
                      "lr": self.last_lr, "elapsed_s": self.run.elapsed()}, "train")
            self.running = []

    def train_step(self, x0, labels) -> float:
        """One noise-prediction update (+ EMA step)."""
        import torch

        cfg, gen = self.cfg, self.noise_gen
        t = torch.randint(0, cfg.num_train_timesteps, (x0.shape[0],), generator=gen).to(x0.device)
        noise = torch.randn(x0.shape, generator=gen).to(x0.device, x0.dtype)
        xt = self.noise_sched.add_noise(x0, noise, t)
        if self.null_id is not None:
            drop = (torch.rand(labels.shape[0], generator=gen) < cfg.p_uncond).to(labels.device)
            labels = torch.where(drop, torch.full_like(labels, self.null_id), labels)
        else:
            labels = None
        target = diffusion_target(self.noise_sched, x0, noise, t, cfg.prediction_type)
        weights = snr_weights(self.noise_sched, t, cfg.snr_gamma, cfg.prediction_type)
        loss = diffusion_loss(self.model(xt, t, labels).sample, target, cfg.loss, weights)
        self.optimizer.zero_grad(set_to_none=True)
        self.acc.backward(loss)
        self.acc.clip_grad_norm_(self.model.parameters(), 1.0)
        self.last_lr = float(self.optimizer.param_groups[0]["lr"])  # the rate of this update (logged)
        self.optimizer.step()
        if self.lr_sched is not None:
            self.lr_sched.step()
        if self.ema is not None:
            self.ema.step(self.acc.unwrap_model(self.model).parameters())
        return float(loss.detach())

    def train_epoch(self, bar, skip: int) -> bool:
        """Steps of the current epoch from batch `skip`; True when max_steps / max_time_s end the run."""
        st, cfg = self.state, self.cfg
        self.model.train()
        if hasattr(self.train_loader, "set_epoch"):
            self.train_loader.set_epoch(st["epoch"])
        loader = self.acc.skip_first_batches(self.train_loader, skip) if skip else self.train_loader
        st["step_in_epoch"] = skip
        for x0, labels in loader:
            self.running.append(self.train_step(x0, labels))
            st["global_step"] += 1
            st["step_in_epoch"] += 1
            bar.update(1)
            if st["global_step"] % cfg.log_every == 0:
                bar.set_postfix(loss=f"{np.mean(self.running):.4f}")
                self.log_train_loss()
            out_of_time = cfg.max_time_s is not None and self.run.elapsed() >= cfg.max_time_s
            if st["global_step"] >= self.max_steps or out_of_time:
                return True
            if self.run.wants_checkpoint(st["global_step"]):
                self.checkpoint()
        return False

    def ema_unet(self):
        """A standalone copy of the UNet carrying the EMA weights (or the online weights without EMA)."""
        net = self.acc.unwrap_model(self.model)
        copy = type(net).from_config(net.config)
        copy.load_state_dict(net.state_dict())
        if self.ema is not None:
            self.ema.copy_to(copy.parameters())
        return copy.eval()

    def pipeline(self):
        """The sampling/export pipeline around the EMA UNet (built by the caller's `make_pipeline`)."""
        return self.make_pipeline(self.ema_unet(), self.cfg)

    def validate(self, last: bool) -> dict[str, Any]:
        """Validation loss (online and EMA weights) and, when due, sampled-sequence metrics."""
        cfg, st = self.cfg, self.state
        rec = {"val_loss": _validation_loss(self.model, self.val_loader, self.noise_sched, cfg, self.acc),
               "epoch": st["epoch"], "elapsed_s": self.run.elapsed()}
        if self.ema is not None:
            net = self.acc.unwrap_model(self.model)
            self.ema.store(net.parameters())
            self.ema.copy_to(net.parameters())
            rec["val_loss_ema"] = _validation_loss(self.model, self.val_loader, self.noise_sched, cfg, self.acc)
            self.ema.restore(net.parameters())
        due = cfg.sample_every_epochs and ((st["epoch"] + 1) % cfg.sample_every_epochs == 0 or last)
        if due and self.acc.is_main_process:
            scores = sample_and_score(self.pipeline(), self.data.class_names, self.data.val_x, self.data.val_y, cfg)
            rec.update({f"sample_{k}": v for k, v in scores.items()})
        return rec

    def fit(self) -> None:
        """Epochs (or steps) until max_steps / epochs / max_time_s, validating and checkpointing each epoch."""
        from tqdm.auto import tqdm

        st, cfg = self.state, self.cfg
        done = st["global_step"] >= self.max_steps
        bar = tqdm(total=self.max_steps, initial=st["global_step"], desc=f"train {cfg.variant}",
                   disable=not (cfg.progress and self.acc.is_local_main_process))
        skip = int(st["step_in_epoch"])  # only the epoch a resume lands in starts mid-way
        while not done:
            done = self.train_epoch(bar, skip)
            skip = 0
            rec = self.validate(done)
            self.log(rec, "val")
            self.acc.print(f"epoch {st['epoch']} step {st['global_step']}: " + ", ".join(
                f"{k}={v:.4g}" for k, v in rec.items() if isinstance(v, float)))
            if st["step_in_epoch"] >= len(self.train_loader):
                st.update(epoch=st["epoch"] + 1, step_in_epoch=0)
            self.checkpoint()
            done = done or (st["epoch"] >= cfg.epochs and cfg.max_steps is None)
        bar.close()
        self.log_train_loss()  # steps since the last train record

    def results(self) -> dict[str, Any]:
        st, cfg = self.state, self.cfg
        results: dict[str, Any] = {
            "variant": cfg.variant, "parameters": self.n_params, "global_step": st["global_step"],
            "epochs_completed": st["epoch"], "train_seconds": self.run.elapsed(),
            "final_train_loss": next((h["loss"] for h in reversed(self.history) if "loss" in h), None),
            "history": self.history, "class_names": self.data.class_names, "config": dataclasses.asdict(cfg)}
        vals = [h for h in self.history if h["split"] == "val"]
        if vals:
            results["final_val_loss"] = vals[-1]["val_loss"]
            results["final_val_loss_ema"] = vals[-1].get("val_loss_ema")
        return results


def train_diffusion(cfg: DiffusionTrainingConfig, make_pipeline: PipelineFactory) -> dict[str, Any]:
    """Train a KANUNet1DModel; write checkpoints, logs, the final pipeline and results.json into output_dir.

    `make_pipeline(unet, cfg)` wraps the UNet in the pipeline used for periodic sampling and the export
    (pipelines sit above training, so the caller passes it; usually
    `kan_genomics_hf.commands.train_diffusion.build_pipeline`)."""
    from accelerate.utils import DataLoaderConfiguration

    run = TrainingRun(cfg, dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True))
    loop = DiffusionLoop(run, DiffusionData.load(cfg), make_pipeline)
    try:
        loop.fit()
    finally:
        run.close()
    results = loop.results()
    if run.is_main:
        model_dir = run.out / "model"
        card = diffusion_card(cfg, results, loop.data.class_names)
        run.export(model_dir, loop.pipeline().save_pretrained, card)
        results["model_dir"] = str(model_dir)
        run.finish(results, model_dir)
    run.accelerator.wait_for_everyone()
    return results
