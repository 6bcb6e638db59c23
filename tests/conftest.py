"""Shared test set-up: one torch thread per test, and tiny models / tokenizer built the same way everywhere.

The model fixtures are session-scoped *factories* (plain functions returned by a fixture), so module-scoped
fixtures can use them and each test states only what it changes::

    def test_x(tiny_legnet, dna_tokenizer):
        model = tiny_legnet("ckan", num_labels=3)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch

from kan_genomics_hf import DNATokenizer, KANUNet1DModel, LegNetConfig, LegNetForSequenceClassification

VARIANTS = ("baseline", "lkan", "ckan")
TINY_BLOCKS = [16, 16, 8]
TINY_UNET: dict[str, Any] = dict(sample_size=24, block_out_channels=(8, 16), layers_per_block=1, norm_num_groups=4)


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Run each test with one intra-op torch thread (many threads on a small shared machine make tiny models
    ~50x slower), then restore the previous setting."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def forced_kan_kernels(monkeypatch) -> None:
    """Treat every linear KAN call as large: the eager layer runs its compiled kernels, and under torch.compile
    the layer becomes the ``kan_linear`` custom op (tiny layers here stand for large ones)."""
    from kan_genomics_hf.modeling import kan_autograd

    monkeypatch.setattr(kan_autograd, "_KERNEL_MIN_ELEMENTS", 0)
    monkeypatch.setitem(kan_autograd._KERNELS_STATE, "enabled", True)


@pytest.fixture(scope="session")
def compile_graphs() -> Callable[..., list[Any]]:
    """``compile_graphs(module, *args, **kwargs)``: the FX graphs dynamo captures for
    ``torch.compile(module, fullgraph=True, dynamic=False)(*args, **kwargs)`` (dynamo's cache reset around it)."""

    def run(module: Callable[..., Any], *args: Any, **kwargs: Any) -> list[Any]:
        graphs: list[Any] = []

        def capture(gm, example_inputs):  # type: ignore[no-untyped-def]
            graphs.append(gm)
            return gm.forward

        torch._dynamo.reset()
        torch.compile(module, fullgraph=True, dynamic=False, backend=capture)(*args, **kwargs)
        torch._dynamo.reset()
        return graphs

    return run


@pytest.fixture(scope="session")
def tiny_legnet_config() -> Callable[..., LegNetConfig]:
    """``make(variant="lkan", **overrides)``: a LegNet config of three tiny blocks and two labels."""

    def make(variant: str = "lkan", **overrides: Any) -> LegNetConfig:
        return LegNetConfig(**{"variant": variant, "block_sizes": TINY_BLOCKS, "num_labels": 2, **overrides})

    return make


@pytest.fixture(scope="session")
def tiny_legnet(tiny_legnet_config) -> Callable[..., LegNetForSequenceClassification]:
    """``make(variant="lkan", seed=0, **overrides)``: a seeded tiny classifier in eval mode."""

    def make(variant: str = "lkan", seed: int = 0, **overrides: Any) -> LegNetForSequenceClassification:
        torch.manual_seed(seed)
        return LegNetForSequenceClassification(tiny_legnet_config(variant, **overrides)).eval()

    return make


@pytest.fixture(scope="session")
def tiny_unet() -> Callable[..., KANUNet1DModel]:
    """``make(variant="lkan", seed=0, **overrides)``: a seeded two-level UNet on 24-base windows."""

    def make(variant: str = "lkan", seed: int = 0, **overrides: Any) -> KANUNet1DModel:
        torch.manual_seed(seed)
        return KANUNet1DModel(**{"variant": variant, **TINY_UNET, **overrides})

    return make


@pytest.fixture(scope="session")
def dna_tokenizer() -> DNATokenizer:
    """The default DNA tokenizer (stateless, so one is shared)."""
    return DNATokenizer()
