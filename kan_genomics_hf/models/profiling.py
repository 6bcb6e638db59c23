"""FLOPs, timing and memory measurements of classifiers, for benchmarks and model tables.

FLOPs are counted with ``torch.utils.flop_counter`` (matmul / convolution FLOPs, 2 per multiply-add;
element-wise work such as B-spline bases is not counted). Memory on CPU is measured as the bytes of
activations saved for backward (deduplicated storages) plus parameter / gradient / AdamW state bytes;
on CUDA the allocator's peak is used.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn


def _random_ids(batch: int, length: int, device: torch.device | str = "cpu", seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 4, (batch, length), generator=g).to(device)


@contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def count_flops_per_sequence(model: nn.Module, length: int) -> int:
    """Forward FLOPs (matmul/conv, 2 per MAC) of ``model`` on one sequence of ``length`` bases."""
    from torch.utils.flop_counter import FlopCounterMode

    if length < 1:
        raise ValueError(f"count_flops_per_sequence: length must be >= 1, got {length}")
    device = next(model.parameters()).device
    ids = _random_ids(1, length, device)
    with _eval_mode(model), torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(input_ids=ids)
    return int(counter.get_total_flops())


def saved_activation_bytes(loss_fn: Callable[[], torch.Tensor]) -> int:
    """Bytes of distinct tensors autograd saves for backward while ``loss_fn()`` runs (then backward)."""
    seen: dict[tuple[int, int], int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        try:
            key = (t.untyped_storage().data_ptr(), t.untyped_storage().nbytes())
            seen[key] = t.untyped_storage().nbytes()
        except (RuntimeError, NotImplementedError):  # tensors without storage (e.g. functional wrappers)
            seen[(id(t), 0)] = t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = loss_fn()
    loss.backward()
    return int(sum(seen.values()))


def training_memory_bytes(model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, int]:
    """Memory of one training step: saved activations, and params + grads + AdamW moments (4 copies)."""
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    model.train()
    model.zero_grad(set_to_none=True)
    if next(model.parameters()).is_cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        model(**batch).loss.backward()
        torch.cuda.synchronize()
        act = torch.cuda.max_memory_allocated() - base
    else:
        act = saved_activation_bytes(lambda: model(**batch).loss)
    model.zero_grad(set_to_none=True)
    return {"activations": act, "params_grads_adam": 4 * params, "total": act + 4 * params}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def train_step_seconds(model: nn.Module, optimizer: torch.optim.Optimizer, batch: dict[str, torch.Tensor]) -> float:
    """Seconds of one forward + backward + optimizer step (device-synchronised)."""
    device = next(model.parameters()).device
    model.train()
    _sync(device)
    t0 = time.perf_counter()
    optimizer.zero_grad(set_to_none=True)
    model(**batch).loss.backward()
    optimizer.step()
    _sync(device)
    return time.perf_counter() - t0


def inference_seconds(model: nn.Module, batch: dict[str, torch.Tensor]) -> float:
    """Seconds of one eval-mode, no-grad forward on ``batch`` without its labels (device-synchronised)."""
    device = next(model.parameters()).device
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    with _eval_mode(model), torch.inference_mode():
        _sync(device)
        t0 = time.perf_counter()
        model(**inputs)
        _sync(device)
    return time.perf_counter() - t0


def median_seconds(measure: Callable[[], float], repeats: int = 5, warmup: int = 1, max_seconds: float = 60.0) -> float:
    """Median of ``repeats`` calls of ``measure`` after ``warmup`` calls (stops early after ``max_seconds``)."""
    times: list[float] = []
    start = time.perf_counter()
    for i in range(warmup + repeats):
        t = measure()
        if i >= warmup:
            times.append(t)
        if times and time.perf_counter() - start > max_seconds:
            break
    times.sort()
    return times[len(times) // 2]


def time_training_step(
    model: nn.Module, batch: dict[str, torch.Tensor], repeats: int = 5, warmup: int = 1, max_seconds: float = 60.0
) -> float:
    """Median seconds of forward + backward + AdamW step on ``batch``."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    return median_seconds(lambda: train_step_seconds(model, opt, batch), repeats, warmup, max_seconds)


def time_inference(
    model: nn.Module, batch: dict[str, torch.Tensor], repeats: int = 5, warmup: int = 1, max_seconds: float = 60.0
) -> float:
    """Median seconds of one no-grad eval forward on ``batch``."""
    return median_seconds(lambda: inference_seconds(model, batch), repeats, warmup, max_seconds)


def make_batch(batch_size: int, length: int, num_labels: int, device: Any = "cpu", seed: int = 0) -> dict[str, torch.Tensor]:
    """Random one-hot-able DNA batch with single-label targets (regression target when num_labels == 1)."""
    ids = _random_ids(batch_size, length, device, seed)
    g = torch.Generator().manual_seed(seed + 1)
    if num_labels == 1:
        labels = torch.randn(batch_size, generator=g)
    else:
        labels = torch.randint(0, num_labels, (batch_size,), generator=g)
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels.to(device)}
