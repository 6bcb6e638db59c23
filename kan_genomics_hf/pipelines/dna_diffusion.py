"""DNADiffusionPipeline: sample (cell-type-conditioned) DNA from a KANUNet1DModel with DDIM or DDPM.

Guidance convention (documented once, used everywhere)::

    eps = eps(x, null) + w * (eps(x, c) - eps(x, null))

so ``guidance_scale`` w = 0 is unconditional sampling, w = 1 plain conditional sampling and w > 1
classifier-free guidance. The DNA-Diffusion / paper formula eps = (1 + w')·eps(x, c) - w'·eps(x, null)
is the same thing with w = 1 + w'.
"""
from __future__ import annotations

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


def make_scheduler(kind: str = "ddim", num_train_timesteps: int = 50, beta_start: float = 1e-4, beta_end: float = 0.2):
    """A DDIM or DDPM scheduler with DNA-Diffusion's linear beta schedule (1e-4 -> 0.2) and clipping to [-1, 1]."""
    common = dict(
        num_train_timesteps=num_train_timesteps, beta_start=beta_start, beta_end=beta_end,
        beta_schedule="linear", clip_sample=True, clip_sample_range=1.0, prediction_type="epsilon",
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
    """Generated sequences (ACGT strings), their one-hot array (N, 4, L) and the class label of each."""

    sequences: list
    onehot: np.ndarray
    class_labels: list

    def fasta_names(self) -> list[str]:
        """FASTA headers: gen<i> plus the class (name or id) when conditioned."""
        return [f"gen{i}" + ("" if c is None else f" class={c}") for i, c in enumerate(self.class_labels)]

    def to_fasta(self, path: str | os.PathLike, width: int = 0) -> Path:
        """Write the sequences as FASTA with the class in each header."""
        return write_fasta(path, self.sequences, self.fasta_names(), width=width)


class DNADiffusionPipeline(DiffusionPipeline):
    """Sample DNA from a KANUNet1DModel; DDIMScheduler by default, DDPMScheduler accepted."""

    model_cpu_offload_seq = "unet"
    # listed so that from_pretrained loads the saved scheduler although the argument has a default
    _optional_components = ["scheduler"]

    def __init__(self, unet: KANUNet1DModel, scheduler: DDIMScheduler | DDPMScheduler | None = None):
        super().__init__()
        if scheduler is None:
            scheduler = make_scheduler("ddim", getattr(unet.config, "num_train_timesteps", 50))
        if not isinstance(scheduler, (DDIMScheduler, DDPMScheduler)):
            raise TypeError(f"scheduler must be a DDIMScheduler or DDPMScheduler, got {type(scheduler).__name__}")
        self.register_modules(unet=unet, scheduler=scheduler)

    @property
    def class_names(self) -> list[str]:
        """Class names stored in the UNet config (index = class id)."""
        return list(self.unet.config.class_names or [])

    def _resolve_labels(self, class_labels, num_sequences: int) -> list[int | None]:
        if class_labels is None:
            return [None] * num_sequences
        if not self.unet.config.num_class_embeds:
            raise ValueError("this model is unconditional (no class embedding); pass class_labels=None")
        if isinstance(class_labels, (str, int, np.integer)):
            class_labels = [class_labels]
        class_labels = list(class_labels)
        if len(class_labels) == 1:
            class_labels = class_labels * num_sequences
        if len(class_labels) != num_sequences:
            raise ValueError(f"got {len(class_labels)} class labels for {num_sequences} sequences (give 1 or {num_sequences})")
        return [self.unet.class_id(c) for c in class_labels]

    def _check_length(self, sequence_length: int | None) -> int:
        if sequence_length is None:
            sequence_length = int(self.unet.config.sample_size)
        if isinstance(sequence_length, bool) or not isinstance(sequence_length, (int, np.integer)) or sequence_length < 1:
            raise ValueError(f"sequence_length must be a positive int, got {sequence_length!r}")
        return int(sequence_length)

    @torch.no_grad()
    def __call__(
        self,
        num_sequences: int = 1,
        sequence_length: int | None = None,
        class_labels: Label | Iterable[Label] | None = None,
        guidance_scale: float = 1.0,
        num_inference_steps: int = 50,
        eta: float = 0.0,
        generator: torch.Generator | None = None,
        batch_size: int = 256,
        output_type: str = "str",
        return_dict: bool = True,
    ) -> DNADiffusionPipelineOutput | tuple:
        """Generate `num_sequences` DNA sequences; class_labels are ids or names (one for all, or one each).

        guidance_scale w: eps = eps_null + w (eps_c - eps_null); w=0 unconditional, 1 conditional, >1 guided.
        output_type "str" returns (sequences,) when return_dict=False, "onehot" returns (onehot,); the
        returned output object always carries both.
        """
        if isinstance(num_sequences, bool) or not isinstance(num_sequences, (int, np.integer)) or num_sequences < 1:
            raise ValueError(f"num_sequences must be a positive int, got {num_sequences!r}")
        if output_type not in ("str", "onehot"):
            raise ValueError(f"output_type must be 'str' or 'onehot', got {output_type!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        n_train = int(self.scheduler.config.num_train_timesteps)
        if not 1 <= int(num_inference_steps) <= n_train:
            raise ValueError(
                f"num_inference_steps={num_inference_steps} must be between 1 and the {n_train} training steps "
                f"of the scheduler"
            )
        length = self._check_length(sequence_length)
        labels = self._resolve_labels(class_labels, int(num_sequences))
        null = self.unet.null_class_id
        device, dtype = self._execution_device, self.unet.dtype
        is_ddim = isinstance(self.scheduler, DDIMScheduler)

        chunks = []
        for start in range(0, num_sequences, batch_size):
            lab = labels[start:start + batch_size]
            b = len(lab)
            x = randn_tensor((b, self.unet.config.in_channels, length), generator=generator, device=device, dtype=dtype)
            x = x * self.scheduler.init_noise_sigma
            cond = None if lab[0] is None else torch.tensor(lab, device=device, dtype=torch.long)
            self.scheduler.set_timesteps(int(num_inference_steps), device=device)
            for t in self.progress_bar(self.scheduler.timesteps):
                model_in = self.scheduler.scale_model_input(x, t)
                if cond is None or guidance_scale == 0:
                    eps = self.unet(model_in, t, None).sample  # unconditional (null class)
                elif guidance_scale == 1:
                    eps = self.unet(model_in, t, cond).sample
                else:
                    both = self.unet(torch.cat([model_in, model_in]), t,
                                     torch.cat([cond, torch.full_like(cond, null)])).sample
                    eps = guided_noise(*both.chunk(2), guidance_scale)
                kwargs = {"eta": eta} if is_ddim else {}
                x = self.scheduler.step(eps, t, x, generator=generator, **kwargs).prev_sample
            chunks.append(x.float().cpu())
        x = torch.cat(chunks).numpy()
        sequences = decode_one_hot(x)
        onehot = np.eye(4, dtype=np.float32)[x.argmax(axis=1)].transpose(0, 2, 1).copy()
        names = self.class_names
        shown = [None if c is None else (names[c] if names else c) for c in labels]
        if not return_dict:
            return (sequences,) if output_type == "str" else (onehot,)
        return DNADiffusionPipelineOutput(sequences=sequences, onehot=onehot, class_labels=shown)
