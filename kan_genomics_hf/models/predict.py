"""The one batched prediction path: logits -> probabilities, sequences -> probabilities, and a prepared
dataloader -> (probabilities, labels) for training and evaluation (accelerate optional)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

MODEL_INPUTS = ("input_ids", "attention_mask")


def logits_to_probs(logits, multi_label: bool = False):
    """Softmax over classes, or an element-wise sigmoid for one output column or multi-label models."""
    import torch

    logits = logits.float()
    return torch.sigmoid(logits) if multi_label or logits.shape[-1] == 1 else torch.softmax(logits, dim=-1)


def is_multi_label(config: Any) -> bool:
    """True when a model's outputs are independent sigmoids (multi-label, or a single output)."""
    return getattr(config, "problem_type", None) == "multi_label_classification" or config.num_labels == 1


def predict_logits(model, tokenizer, seqs: Sequence[str], batch_size: int = 128,
                   rc_averaging: bool | None = None):
    """(n, C) float logits on the CPU for `seqs`, in input order; similar lengths share a batch (less padding)."""
    import torch

    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    model.eval()
    order = np.argsort([len(s) for s in seqs], kind="stable")
    kw = {} if rc_averaging is None else {"rc_averaging": rc_averaging}
    out = []
    with torch.inference_mode():
        for s in range(0, len(seqs), batch_size):
            enc = tokenizer([seqs[i] for i in order[s: s + batch_size]], padding=True, return_tensors="pt")
            enc = {k: v.to(model.device) for k, v in enc.items() if k in MODEL_INPUTS}
            out.append(model(**enc, **kw).logits.float().cpu())
    logits = torch.cat(out) if out else torch.zeros(0, model.config.num_labels)
    restored = torch.empty_like(logits)
    restored[torch.as_tensor(order, dtype=torch.long)] = logits
    return restored


def predict_proba(model, tokenizer, seqs: Sequence[str], batch_size: int = 128,
                  rc_averaging: bool | None = None) -> np.ndarray:
    """(n, C) class probabilities for DNA strings; an invalid character raises a ValueError naming the
    sequence, the position and the character."""
    from ..modeling.dna_encoding import encode_batch

    seqs = list(seqs)
    if not seqs:
        raise ValueError("no sequences to predict; pass at least one")
    encode_batch(seqs)  # validates before any model work
    logits = predict_logits(model, tokenizer, seqs, batch_size, rc_averaging)
    return logits_to_probs(logits, is_multi_label(model.config)).numpy()


def predict_scores(model, dataloader, accelerator=None, progress: bool = False,
                   desc: str = "eval") -> tuple[np.ndarray, np.ndarray | None]:
    """Class probabilities (n, C) and labels (or None) over a (prepared) dataloader, gathered across
    processes when an `accelerator` is given. The model's train/eval mode is restored afterwards."""
    import torch
    from tqdm.auto import tqdm

    main = accelerator is None or accelerator.is_local_main_process
    was_training = model.training
    model.eval()
    probs, labels = [], []
    with torch.no_grad():
        for batch in tqdm(dataloader, desc=desc, disable=not (progress and main), leave=False):
            y = batch.pop("labels", None)
            p = logits_to_probs(model(**batch).logits)
            if accelerator is not None and y is not None:
                p, y = accelerator.gather_for_metrics((p, y))
            elif accelerator is not None:
                p = accelerator.gather_for_metrics(p)
            if y is not None:
                labels.append(y.cpu().numpy())
            probs.append(p.cpu().numpy())
    model.train(was_training)
    return np.concatenate(probs), (np.concatenate(labels) if labels else None)


STRANDS = ("+", "-")


def codes_to_one_hot(codes, dtype=None):
    """(B, L) integer base codes (A,C,G,T,N = 0..4, a torch tensor) -> (B, 4, L) one-hot on the same device;
    N gives an all-zero column (as the tokenizer's ids do in the model)."""
    import torch

    channels = torch.arange(4, device=codes.device, dtype=codes.dtype)
    return (codes.unsqueeze(1) == channels[None, :, None]).to(dtype or torch.float32)


def window_logits(model, codes: np.ndarray, strands: Sequence[str] = STRANDS, batch_size: int = 128):
    """(n, len(strands), C) float logits on the CPU of equal-length windows given as uint8 base codes (n, L).

    The fast path for genome scans and variant effects: no tokenizer and no padding; each batch is one host
    to device copy of uint8 codes, one-hot on the device, and one forward pass of ``batch_size`` windows per
    strand ('-' is the reverse complement of the window; one forward of both strands together was ~15 % slower
    on CPU, cache effects), with the model's own rc_averaging off (the caller averages)."""
    import torch

    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    unknown = [s for s in strands if s not in STRANDS]
    if unknown or not strands:
        raise ValueError(f"strands must be a non-empty subset of {STRANDS}, got {list(strands)}")
    codes = np.ascontiguousarray(codes, dtype=np.uint8)
    if codes.ndim != 2:
        raise ValueError(f"window_logits expects (n, length) codes, got shape {codes.shape}")
    dtype = next(model.parameters()).dtype
    device = next(model.parameters()).device
    out = torch.empty(codes.shape[0], len(strands), model.config.num_labels)
    with torch.inference_mode():
        for s in range(0, codes.shape[0], batch_size):
            x = codes_to_one_hot(torch.from_numpy(codes[s: s + batch_size]).to(device, non_blocking=True), dtype)
            for k, strand in enumerate(strands):
                logits = model(inputs_embeds=x if strand == "+" else x.flip((1, 2)), rc_averaging=False).logits
                out[s: s + x.shape[0], k] = logits.float().cpu()
    return out


def positive_logit(logits, target: int, multi_label: bool):
    """Log-odds of output ``target``: the logit itself for sigmoid outputs, else logit_t - logsumexp(other logits)
    (for two classes: l1 - l0). Works on any leading shape (..., C)."""
    import torch

    logits = logits.float()
    if multi_label or logits.shape[-1] == 1:
        return logits[..., target]
    others = torch.cat([logits[..., :target], logits[..., target + 1:]], dim=-1)
    return logits[..., target] - torch.logsumexp(others, dim=-1)
