"""The diffusion training loop: KANUNet1DModel on one-hot DNA with Accelerate, EMA and atomic checkpoints.

Noise-prediction objective with DNA-Diffusion's linear beta schedule (1e-4 -> 0.2, T configurable),
`mse` or `huber` loss, classifier-free-guidance label dropout (labels replaced by the null class with
probability `p_uncond`), diffusers' `EMAModel`, atomic checkpoints (`training/checkpointing.py`) with
resume, a deterministic validation loss every epoch, periodic DDIM sampling scored with
`evaluate_generation`, and a final `DNADiffusionPipeline` export (EMA weights) with a model card.
"""
from __future__ import annotations

import dataclasses
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from ..modeling.dna_encoding import encode_batch, one_hot


@dataclass
class DiffusionTrainingConfig:
    """Everything a diffusion run needs; mirrored 1:1 by `kan-genomics train-diffusion` options."""

    data: str
    output_dir: str
    sequence_column: str = "sequence"
    class_column: Optional[str] = "cell_type"
    val_fraction: float = 0.05
    val_chromosomes: Optional[Sequence[str]] = None
    exclude_chromosomes: Optional[Sequence[str]] = None
    chromosome_column: str = "chr"
    max_train_samples: Optional[int] = None
    variant: str = "baseline"
    block_out_channels: Sequence[int] = (32, 64, 128)
    layers_per_block: int = 1
    attention_levels: Optional[Sequence[int]] = None
    kan_grid_size: int = 5
    kan_spline_order: int = 3
    num_train_timesteps: int = 50
    beta_start: float = 1e-4
    beta_end: float = 0.2
    loss: str = "huber"
    p_uncond: float = 0.1
    batch_size: int = 64
    learning_rate: float = 1e-4
    weight_decay: float = 0.0
    epochs: int = 1
    max_steps: Optional[int] = None
    max_time_s: Optional[float] = None
    ema_decay: Optional[float] = 0.995
    seed: int = 0
    checkpoint_every: int = 500
    keep_last: int = 2
    resume: bool = False
    log_every: int = 50
    sample_every_epochs: int = 1
    sample_num_per_class: int = 32
    sample_steps: int = 50
    sample_motifs: bool = True
    push_to_hub: Optional[str] = None
    hub_token: Optional[str] = None
    mixed_precision: str = "no"
    cpu: bool = False
    extra: dict = field(default_factory=dict)

    def validate(self) -> None:
        """Reject bad settings with a message naming the field."""
        if self.loss not in ("mse", "huber"):
            raise ValueError(f"loss must be 'mse' or 'huber', got {self.loss!r}")
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
        if self.batch_size < 1 or self.epochs < 1:
            raise ValueError("batch_size and epochs must be >= 1")
        if self.ema_decay is not None and not 0 < self.ema_decay < 1:
            raise ValueError(f"ema_decay must be in (0, 1) or None, got {self.ema_decay}")


def load_dna_table(path: str, sequence_column: str = "sequence", class_column: Optional[str] = None,
                   max_samples: Optional[int] = None, seed: int = 0, group_column: Optional[str] = None):
    """Read a CSV/TSV/parquet of sequences (+ class column) -> (x in [-1,1] (N,4,L), labels (N,), class names,
    groups (N,) from `group_column`, e.g. chromosomes, or None)."""
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"training data not found: {p}")
    if p.suffix == ".parquet":
        df = pd.read_parquet(p)
    else:
        df = pd.read_csv(p, sep="\t" if p.suffix == ".tsv" else ",")
    for col in (sequence_column, class_column, group_column):
        if col is not None and col not in df.columns:
            raise ValueError(f"{p}: no column {col!r}; columns are {list(df.columns)}")
    if max_samples is not None and len(df) > max_samples:
        df = df.sample(n=max_samples, random_state=seed).reset_index(drop=True)
    seqs = df[sequence_column].astype(str).tolist()
    lengths = np.array([len(s) for s in seqs])
    if len(set(lengths.tolist())) != 1:
        bad = int(np.flatnonzero(lengths != lengths[0])[0])
        raise ValueError(f"{p}: all sequences must have one length for diffusion training; sequence 0 has "
                         f"{lengths[0]} bp but sequence {bad} has {lengths[bad]} bp")
    codes = np.stack(encode_batch(seqs))
    x = (one_hot(codes) * 2.0 - 1.0).astype(np.float32)
    groups = df[group_column].astype(str).to_numpy() if group_column is not None else None
    if class_column is None:
        return x, np.zeros(len(seqs), np.int64), None, groups
    names = sorted(df[class_column].astype(str).unique().tolist())
    labels = df[class_column].astype(str).map({n: i for i, n in enumerate(names)}).to_numpy(np.int64)
    return x, labels, names, groups


def split_indices(n: int, cfg: "DiffusionTrainingConfig", groups: Optional[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
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


def diffusion_loss(pred, target, kind: str):
    """Noise-prediction loss: mean squared error or Huber (smooth-L1, as DNA-Diffusion)."""
    import torch.nn.functional as F

    return F.mse_loss(pred, target) if kind == "mse" else F.smooth_l1_loss(pred, target)


def _build_unet(cfg: DiffusionTrainingConfig, length: int, class_names: Optional[list[str]]):
    from ..modeling.unet_kan_1d import KANUNet1DModel

    return KANUNet1DModel(
        variant=cfg.variant, sample_size=length, block_out_channels=tuple(cfg.block_out_channels),
        layers_per_block=cfg.layers_per_block, attention_levels=cfg.attention_levels,
        num_class_embeds=len(class_names) if class_names else None, class_names=class_names,
        kan_grid_size=cfg.kan_grid_size, kan_spline_order=cfg.kan_spline_order,
        num_train_timesteps=cfg.num_train_timesteps,
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
            per = ((pred - noise) ** 2 if cfg.loss == "mse" else
                   torch.nn.functional.smooth_l1_loss(pred, noise, reduction="none")).mean(dim=(1, 2))
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
    for cid, name in groups:
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


def train_diffusion(cfg: DiffusionTrainingConfig) -> dict[str, Any]:
    """Train a KANUNet1DModel; write checkpoints, logs, the final pipeline and results.json into output_dir."""
    import torch
    from accelerate import Accelerator
    from accelerate.utils import DataLoaderConfiguration, ProjectConfiguration, set_seed
    from diffusers import DDPMScheduler
    from diffusers.training_utils import EMAModel
    from torch.utils.data import DataLoader, TensorDataset
    from tqdm.auto import tqdm

    from ..pipelines.dna_diffusion import DNADiffusionPipeline, make_scheduler
    from .checkpointing import atomic_directory, latest_checkpoint, load_checkpoint, save_checkpoint, write_json_atomic
    from .tracking import MetricLogger

    cfg.validate()
    out_dir = Path(cfg.output_dir)
    accelerator = Accelerator(
        mixed_precision=cfg.mixed_precision, cpu=cfg.cpu,
        project_config=ProjectConfiguration(project_dir=str(out_dir)),
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True),
    )
    set_seed(cfg.seed)
    use_groups = bool(cfg.val_chromosomes or cfg.exclude_chromosomes)
    x, y, class_names, groups = load_dna_table(cfg.data, cfg.sequence_column, cfg.class_column, cfg.max_train_samples,
                                               cfg.seed, cfg.chromosome_column if use_groups else None)
    tr_idx, val_idx = split_indices(len(x), cfg, groups)
    length = x.shape[-1]
    train_ds = TensorDataset(torch.from_numpy(x[tr_idx]), torch.from_numpy(y[tr_idx]))
    val_ds = TensorDataset(torch.from_numpy(x[val_idx]), torch.from_numpy(y[val_idx]))
    train_loader = DataLoader(train_ds, batch_size=cfg.batch_size, shuffle=True, drop_last=len(train_ds) > cfg.batch_size)
    val_loader = DataLoader(val_ds, batch_size=max(cfg.batch_size, 128), shuffle=False)

    model = _build_unet(cfg, length, class_names)
    n_params = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    noise_sched = DDPMScheduler(num_train_timesteps=cfg.num_train_timesteps, beta_start=cfg.beta_start,
                                beta_end=cfg.beta_end, beta_schedule="linear")
    model, optimizer, train_loader, val_loader = accelerator.prepare(model, optimizer, train_loader, val_loader)
    ema = None
    if cfg.ema_decay is not None:
        unwrapped = accelerator.unwrap_model(model)
        ema = EMAModel(unwrapped.parameters(), decay=cfg.ema_decay, use_ema_warmup=True,
                       model_cls=type(unwrapped), model_config=unwrapped.config)
        ema.to(accelerator.device)
        accelerator.register_for_checkpointing(ema)

    state = {"global_step": 0, "epoch": 0, "step_in_epoch": 0, "train_seconds": 0.0}
    ckpt_root = out_dir / "checkpoints"
    if cfg.resume:
        ckpt = latest_checkpoint(ckpt_root)
        if ckpt is None:
            accelerator.print(f"--resume: no checkpoint under {ckpt_root}; starting from scratch")
        else:
            state.update(load_checkpoint(accelerator, ckpt))
            accelerator.print(f"resumed from {ckpt} (step {state['global_step']}, epoch {state['epoch']})")

    steps_per_epoch = len(train_loader)
    max_steps = cfg.max_steps or cfg.epochs * steps_per_epoch
    null_id = len(class_names) if class_names else None
    logger = MetricLogger(out_dir / "train_log.jsonl", enabled=accelerator.is_main_process)
    history: list[dict[str, Any]] = []
    t_start = time.time() - float(state.get("train_seconds", 0.0))
    step = int(state["global_step"])
    done = step >= max_steps
    bar = tqdm(total=max_steps, initial=step, disable=not accelerator.is_local_main_process, desc=f"train {cfg.variant}")
    running = []

    # timesteps, noise and label dropout come from a generator re-seeded from (seed, step, rank) at every
    # checkpoint, so a resumed run draws exactly what the uninterrupted run drew (no RNG state to restore)
    noise_gen = torch.Generator()

    def reseed() -> None:
        noise_gen.manual_seed(cfg.seed * 1_000_003 + step * 7_919 + accelerator.process_index)

    def checkpoint(epoch: int, step_in_epoch: int) -> None:
        save_checkpoint(accelerator, ckpt_root, step, {
            "global_step": step, "epoch": epoch, "step_in_epoch": step_in_epoch,
            "train_seconds": time.time() - t_start, "config": dataclasses.asdict(cfg)}, keep_last=cfg.keep_last)
        reseed()

    reseed()

    def unwrapped_with_ema():
        """A standalone copy of the UNet carrying the EMA weights (or the online weights without EMA)."""
        net = accelerator.unwrap_model(model)
        copy = type(net).from_config(net.config)
        copy.load_state_dict(net.state_dict())
        if ema is not None:
            ema.copy_to(copy.parameters())
        return copy.eval()

    epoch = int(state["epoch"])
    while not done:
        model.train()
        if hasattr(train_loader, "set_epoch"):
            train_loader.set_epoch(epoch)
        skip = int(state.get("step_in_epoch", 0)) if epoch == int(state["epoch"]) else 0
        loader = accelerator.skip_first_batches(train_loader, skip) if skip else train_loader
        step_in_epoch = skip
        for x0, labels in loader:
            t = torch.randint(0, cfg.num_train_timesteps, (x0.shape[0],), generator=noise_gen).to(x0.device)
            noise = torch.randn(x0.shape, generator=noise_gen).to(x0.device, x0.dtype)
            xt = noise_sched.add_noise(x0, noise, t)
            if null_id is not None:
                drop = (torch.rand(labels.shape[0], generator=noise_gen) < cfg.p_uncond).to(labels.device)
                labels = torch.where(drop, torch.full_like(labels, null_id), labels)
            else:
                labels = None
            loss = diffusion_loss(model(xt, t, labels).sample, noise, cfg.loss)
            optimizer.zero_grad(set_to_none=True)
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            if ema is not None:
                ema.step(accelerator.unwrap_model(model).parameters())
            step += 1
            step_in_epoch += 1
            running.append(float(loss.detach()))
            bar.update(1)
            if step % cfg.log_every == 0:
                rec = {"loss": float(np.mean(running)), "epoch": epoch, "elapsed_s": time.time() - t_start}
                logger.log(rec, step=step, split="train")
                history.append({"step": step, "split": "train", **rec})
                bar.set_postfix(loss=f"{rec['loss']:.4f}")
                running = []
            out_of_time = cfg.max_time_s is not None and time.time() - t_start >= cfg.max_time_s
            if step >= max_steps or out_of_time:
                done = True
            if cfg.checkpoint_every and step % cfg.checkpoint_every == 0 and not done:
                checkpoint(epoch, step_in_epoch)
            if done:
                break
        epoch_finished = step_in_epoch >= steps_per_epoch
        val = _validation_loss(model, val_loader, noise_sched, cfg, accelerator)
        rec = {"val_loss": val, "epoch": epoch, "elapsed_s": time.time() - t_start}
        if ema is not None:
            net = accelerator.unwrap_model(model)
            ema.store(net.parameters())
            ema.copy_to(net.parameters())
            rec["val_loss_ema"] = _validation_loss(model, val_loader, noise_sched, cfg, accelerator)
            ema.restore(net.parameters())
        want_samples = cfg.sample_every_epochs and ((epoch + 1) % cfg.sample_every_epochs == 0 or done)
        if want_samples and accelerator.is_main_process:
            pipe = DNADiffusionPipeline(unwrapped_with_ema(), make_scheduler("ddim", cfg.num_train_timesteps,
                                                                             cfg.beta_start, cfg.beta_end))
            rec.update({f"sample_{k}": v for k, v in
                        sample_and_score(pipe, class_names, x[val_idx], y[val_idx], cfg).items()})
        logger.log(rec, step=step, split="val")
        history.append({"step": step, "split": "val", **rec})
        accelerator.print(f"epoch {epoch} step {step}: " + ", ".join(
            f"{k}={v:.4g}" for k, v in rec.items() if isinstance(v, float)))
        if epoch_finished:
            epoch += 1
            step_in_epoch = 0
        checkpoint(epoch, step_in_epoch)
        if epoch >= cfg.epochs and cfg.max_steps is None:
            done = True
    bar.close()
    if running:  # steps since the last log record
        rec = {"loss": float(np.mean(running)), "epoch": epoch, "elapsed_s": time.time() - t_start}
        logger.log(rec, step=step, split="train")
        history.append({"step": step, "split": "train", **rec})
    train_seconds = time.time() - t_start

    results: dict[str, Any] = {
        "variant": cfg.variant, "parameters": n_params, "global_step": step, "epochs_completed": epoch,
        "train_seconds": train_seconds, "final_train_loss": history and next(
            (h["loss"] for h in reversed(history) if "loss" in h), None),
        "history": history, "class_names": class_names, "config": dataclasses.asdict(cfg),
    }
    vals = [h for h in history if h["split"] == "val"]
    if vals:
        results["final_val_loss"] = vals[-1]["val_loss"]
        results["final_val_loss_ema"] = vals[-1].get("val_loss_ema")
    if accelerator.is_main_process:
        pipe = DNADiffusionPipeline(unwrapped_with_ema(), make_scheduler("ddim", cfg.num_train_timesteps,
                                                                         cfg.beta_start, cfg.beta_end))
        model_dir = out_dir / "model"
        with atomic_directory(model_dir) as tmp:
            pipe.save_pretrained(tmp)
            _write_card(tmp, cfg, results, class_names)
        results["model_dir"] = str(model_dir)
        write_json_atomic(out_dir / "results.json", results)
        if cfg.push_to_hub:
            from ..hub.push import push_folder

            results["hub_url"] = push_folder(model_dir, cfg.push_to_hub, token=cfg.hub_token)
            write_json_atomic(out_dir / "results.json", results)
    logger.close()
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return results


def _write_card(folder: Path, cfg: DiffusionTrainingConfig, results: dict[str, Any], class_names) -> None:
    """Model card for the exported pipeline (diffusers library, usage snippet, training summary)."""
    from ..hub.model_card import write_model_card

    scores = {k: v for k, v in {"val_loss": results.get("final_val_loss"),
                                "val_loss_ema": results.get("final_val_loss_ema")}.items() if v is not None}
    classes = ", ".join(class_names) if class_names else "(unconditional)"
    write_model_card(
        folder,
        model_name=f"kan-unet1d-{cfg.variant}",
        summary=f"A {cfg.variant} KAN UNet1D diffusion model generating {classes} DNA sequences.",
        library_name="diffusers",
        task_type="dna-generation",
        dataset_name=Path(cfg.data).stem,
        dataset_split="validation",
        results=scores,
        details={"variant": cfg.variant, "parameters": results["parameters"], "classes": classes,
                 "block_out_channels": list(cfg.block_out_channels), "layers_per_block": cfg.layers_per_block},
        training={"steps": results["global_step"], "loss": cfg.loss, "T": cfg.num_train_timesteps,
                  "betas": f"linear {cfg.beta_start} -> {cfg.beta_end}", "p_uncond": cfg.p_uncond,
                  "ema_decay": cfg.ema_decay, "lr": cfg.learning_rate, "batch_size": cfg.batch_size,
                  "train_seconds": round(results["train_seconds"], 1)},
        usage=("import kan_genomics_hf\nfrom kan_genomics_hf import DNADiffusionPipeline\n"
               "pipe = DNADiffusionPipeline.from_pretrained('<this folder or repo>')\n"
               f"out = pipe(num_sequences=8, class_labels={class_names[0]!r}, num_inference_steps=50)\n"
               "print(out.sequences)") if class_names else
              ("from kan_genomics_hf import DNADiffusionPipeline\n"
               "pipe = DNADiffusionPipeline.from_pretrained('<this folder or repo>')\nprint(pipe(8).sequences)"),
        limitations="Generated sequences are statistical samples; validate them with an oracle and motif "
                    "analysis before any experimental use.",
        tags=["diffusion", "dna-generation", cfg.variant],
    )
