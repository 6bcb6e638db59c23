"""Shared fixture of the classifier tests: run each test with one torch thread.

On a small shared machine, torch's default intra-op threads oversubscribe the cores and make tiny
models ~50x slower; the previous thread count is restored after every test.
"""
from __future__ import annotations

from typing import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Set torch to one intra-op thread for the test, then restore the previous setting."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
