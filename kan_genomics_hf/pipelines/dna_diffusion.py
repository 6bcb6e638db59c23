"""DNADiffusionPipeline: sample (cell-type-conditioned) DNA from a KANUNet1DModel with DDIM or DDPM.

Guidance convention (documented once, used everywhere)::

    eps = eps(x, null) + w * (eps(x, c) - eps(x, null))

so ``guidance_scale`` w = 0 is unconditional sampling, w = 1 plain conditional sampling and w > 1
classifier-free guidance. The DNA-Diffusion / paper formula eps = (1 + w')·eps(x, c) - w'·eps(x, null)
is the same thing with w = 1 + w'.
"""
from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from diffusers import DDIMScheduler, DDPMScheduler, DiffusionPipeline
from diffusers.utils import BaseOutput
from diffusers.utils.torch_utils import randn_tensor

from ..io.fasta import write_fasta
from ..modeling.dna_encoding import decode_one_hot
from ..modeling.unet_kan_1d import KANUNet1DModel

Label = int | str


def make_scheduler(kind: str = "ddim", num_train_timesteps: int = 50, beta_start: float = 1e-4, beta_end: float = 0.2,
                   beta_schedule: str = "linear", prediction_type: str = "epsilon"):
    """A DDIM or DDPM scheduler with clipping of the predicted x0 to [-1, 1]; by default DNA-Diffusion's linear
    beta schedule (1e-4 -> 0.2) and noise prediction. ``beta_schedule="squaredcos_cap_v2"`` is the cosine
    schedule (betas unused), ``prediction_type`` "epsilon", "v_prediction" or "sample" (x0)."""
    common = dict(
        num_train_timesteps=num_train_timesteps, beta_start=beta_start, beta_end=beta_end,
        beta_schedule=beta_schedule, clip_sample=True, clip_sample_range=1.0, prediction_type=prediction_type,
    )
    if kind == "ddim":
        return DDIMScheduler(**common)
    if kind == "ddpm":
        return DDPMScheduler(**common, variance_type="fixed_small")
    raise ValueError(f"scheduler kind must be 'ddim' or 'ddpm', got {kind!r}")


def guided_noise(eps_cond: torch.Tensor, eps_uncond: torch.Tensor, guidance_scale: float) -> torch.Tensor:
    """Classifier-free guidance: eps_uncond + w * (eps_cond - eps_uncond) (w=0 unconditional, w=1 conditional)."""
    return eps_uncond + guidance_scale * (eps_cond - eps_uncond)


@dataclass
class DNADiffusionPipelineOutput(BaseOutput):
    """The one-hot array (N, 4, L) of the generated DNA (first, as diffusers' ``images``), the same sequences as
    ACGT strings, and the class label of each; ``return_dict=False`` returns this tuple in this order."""

    onehot: np.ndarray | torch.Tensor
    sequences: list
    class_labels: list

    def fasta_names(self) -> list[str]:
        """FASTA headers: gen<i> plus the class (name or id) when conditioned."""
        return [f"gen{i}" + ("" if c is None else f" class={c}") for i, c in enumerate(self.class_labels)]

    def to_fasta(self, path: str | os.PathLike, width: int = 0) -> Path:
        """Write the sequences as FASTA with the class in each header."""
        return write_fasta(path, self.sequences, self.fasta_names(), width=width)


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _finite(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _label_list(class_labels) -> list | None:
    """None, one label or a list of labels -> None or a list (a single label becomes a list of one)."""
    if class_labels is None:
        return None
    if isinstance(class_labels, torch.Tensor):
        class_labels = class_labels.reshape(-1).tolist()
    if isinstance(class_labels, (str, int, np.integer)):
        return [class_labels]
    return list(class_labels)


class DNADiffusionPipeline(DiffusionPipeline):
    """Sample DNA from a KANUNet1DModel with a DDIMScheduler or DDPMScheduler (both required components)."""

    model_cpu_offload_seq = "unet"

    def __init__(self, unet: KANUNet1DModel, scheduler: DDIMScheduler | DDPMScheduler):
        super().__init__()
        if not isinstance(scheduler, (DDIMScheduler, DDPMScheduler)):
            raise TypeError(
                f"scheduler must be a DDIMScheduler or DDPMScheduler (e.g. make_scheduler('ddim', T)), "
                f"got {type(scheduler).__name__}"
            )
        self.register_modules(unet=unet, scheduler=scheduler)

    @property
    def class_names(self) -> list[str]:
        """Class names stored in the UNet config (index = class id)."""
        return list(self.unet.config.class_names or [])

    def _resolve_labels(self, class_labels, num_sequences: int | None, per_label: int) -> list[int | None]:
        """One class id (or None) per output sequence: a single label is repeated `num_sequences` times, a list
        gives one sequence per entry (its length is the batch size), each repeated `per_label` times."""
        labels = _label_list(class_labels)
        if labels is None or len(labels) == 1:
            count = 1 if num_sequences is None else _positive_int(num_sequences, "num_sequences")
            labels = (labels or [None]) * count
        elif num_sequences is not None and num_sequences != len(labels):
            raise ValueError(f"got {len(labels)} class labels for {num_sequences} sequences "
                             f"(give 1 label, or leave num_sequences unset to get one sequence per label)")
        if not labels:
            raise ValueError("class_labels is empty; give at least one label or None")
        if any(c is not None for c in labels) and not self.unet.config.num_class_embeds:
            raise ValueError("this model is unconditional (no class embedding); pass class_labels=None")
        ids = [None if c is None else self.unet.class_id(c) for c in labels]
        return [c for c in ids for _ in range(per_label)]

    def _check_length(self, sequence_length: int | None) -> int:
        if sequence_length is None:
            sequence_length = int(self.unet.config.sample_size)
        return _positive_int(sequence_length, "sequence_length")

    def _check_steps(self, num_inference_steps: int) -> int:
        n_train = int(self.scheduler.config.num_train_timesteps)
        if isinstance(num_inference_steps, bool) or not 1 <= int(num_inference_steps) <= n_train:
            raise ValueError(
                f"num_inference_steps={num_inference_steps} must be between 1 and the {n_train} training steps "
                f"of the scheduler"
            )
        return int(num_inference_steps)

    @staticmethod
    def _generators(generator, total: int) -> list | torch.Generator | None:
        if isinstance(generator, (list, tuple)):
            if len(generator) != total:
                raise ValueError(f"got {len(generator)} generators for {total} sequences (give one, or one per sequence)")
            return list(generator)
        return generator

    def _noise(self, x, t, cond, guidance_scale: float):
        """The (guided) noise prediction at step t; w=0 or no labels: null class; w=1: conditional."""
        if cond is None or guidance_scale == 0:
            return self.unet(x, t, None).sample
        if guidance_scale == 1:
            return self.unet(x, t, cond).sample
        null = torch.full_like(cond, self.unet.null_class_id)
        both = self.unet(torch.cat([x, x]), t, torch.cat([cond, null])).sample
        return guided_noise(*both.chunk(2), guidance_scale)

    def _check_latents(self, latents, total: int, sequence_length: int | None) -> torch.Tensor | None:
        """User-given starting noise (diffusers' ``latents``): a tensor (num_sequences, in_channels, length)."""
        if latents is None:
            return None
        want = (total, self.unet.config.in_channels, sequence_length or (latents.shape[-1] if latents.ndim else 0))
        if not isinstance(latents, torch.Tensor) or not latents.is_floating_point() or tuple(latents.shape) != want:
            got = tuple(latents.shape) if isinstance(latents, torch.Tensor) else type(latents).__name__
            raise ValueError(f"latents must be a float tensor of shape {want} (sequences, channels, length), got {got}")
        return latents

    def _sample_chunk(self, labels: list, length: int, steps: int, guidance_scale: float, eta: float, generator,
                      latents: torch.Tensor | None = None, use_clipped_model_output: bool | None = None):
        device, dtype = self._execution_device, self.unet.dtype
        shape = (len(labels), self.unet.config.in_channels, length)
        if latents is None:
            latents = randn_tensor(shape, generator=generator, device=device, dtype=dtype)
        x = latents.to(device=device, dtype=dtype) * self.scheduler.init_noise_sigma
        null = self.unet.null_class_id
        ids = [null if c is None else c for c in labels]
        cond = None if all(c is None for c in labels) else torch.tensor(ids, device=device, dtype=torch.long)
        kwargs = {"eta": eta} if isinstance(self.scheduler, DDIMScheduler) else {}
        if kwargs and use_clipped_model_output is not None:
            kwargs["use_clipped_model_output"] = use_clipped_model_output
        self.scheduler.set_timesteps(steps, device=device)
        for t in self.progress_bar(self.scheduler.timesteps):
            eps = self._noise(self.scheduler.scale_model_input(x, t), t, cond, guidance_scale)
            x = self.scheduler.step(eps, t, x, generator=generator, **kwargs).prev_sample
        return x.float().cpu()

    @torch.no_grad()
    def __call__(
        self,
        num_sequences: int | None = None,
        sequence_length: int | None = None,
        class_labels: Label | Iterable[Label] | None = None,
        guidance_scale: float = 1.0,
        num_inference_steps: int = 50,
        eta: float = 0.0,
        generator: torch.Generator | list[torch.Generator] | None = None,
        batch_size: int = 256,
        num_sequences_per_label: int = 1,
        output_type: str = "np",
        return_dict: bool = True,
        latents: torch.Tensor | None = None,
        use_clipped_model_output: bool | None = None,
    ) -> DNADiffusionPipelineOutput | tuple:
        """Generate DNA; class_labels are ids or names (exact, unique prefix or the part before the first "_").

        Batch size: a list of labels gives one sequence per label (``num_sequences`` may be left unset); a single
        label or None gives ``num_sequences`` (default 1); every label is repeated ``num_sequences_per_label``
        times (like diffusers' ``num_images_per_prompt``). ``generator`` is one generator or one per sequence.
        ``latents`` (optional, as in diffusers): the starting noise (N, 4, L) instead of drawing it from ``generator``
        (which then only drives the sampler's own noise); L defaults to its length.
        guidance_scale w: eps = eps_null + w (eps_c - eps_null); w=0 unconditional, 1 conditional, >1 guided.
        ``use_clipped_model_output`` (DDIM only, as in diffusers' DDIMPipeline; None = the scheduler's default,
        False): re-derive the noise from the clipped x0 prediction, so that the update is consistent with the
        clipped x0; with it, DDIM at eta 1 over all training steps is DDPM.
        output_type "np" gives the one-hot array as numpy, "pt" as a torch tensor; the strings are always
        in ``.sequences``. ``return_dict=False`` returns ``(onehot, sequences, class_labels)``.
        """
        if output_type not in ("np", "pt"):
            raise ValueError(f"output_type must be 'np' or 'pt' (the strings are always in .sequences), "
                             f"got {output_type!r}")
        per_label = _positive_int(num_sequences_per_label, "num_sequences_per_label")
        labels = self._resolve_labels(class_labels, num_sequences, per_label)
        batch_size = _positive_int(batch_size, "batch_size")
        guidance_scale, eta = _finite(guidance_scale, "guidance_scale"), _finite(eta, "eta")
        steps = self._check_steps(num_inference_steps)
        latents = self._check_latents(latents, len(labels), sequence_length)
        length = self._check_length(latents.shape[-1] if latents is not None else sequence_length)
        generators = self._generators(generator, len(labels))
        chunks = []
        for start in range(0, len(labels), batch_size):
            gen = generators[start:start + batch_size] if isinstance(generators, list) else generators
            start_noise = latents[start:start + batch_size] if latents is not None else None
            chunks.append(self._sample_chunk(labels[start:start + batch_size], length, steps, guidance_scale,
                                             eta, gen, start_noise, use_clipped_model_output))
        x = torch.cat(chunks).numpy()
        sequences = decode_one_hot(x)
        onehot = np.eye(4, dtype=np.float32)[x.argmax(axis=1)].transpose(0, 2, 1).copy()
        names = self.class_names
        shown = [None if c is None else (names[c] if names else c) for c in labels]
        out = DNADiffusionPipelineOutput(onehot=torch.from_numpy(onehot) if output_type == "pt" else onehot,
                                         sequences=sequences, class_labels=shown)
        return out if return_dict else (out.onehot, out.sequences, out.class_labels)
