"""kan-genomics-hf: Kolmogorov-Arnold Networks for genomics on the Hugging Face stack.

Public names are imported lazily so that `import kan_genomics_hf` stays cheap; importing the
package registers the LegNet classes with transformers' Auto classes (see `_register`).
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module (relative to this package) that defines it
_EXPORTS: dict[str, str] = {
    "KANLinear": ".modeling.kan_layers",
    "KANConv1d": ".modeling.kan_layers",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kan_genomics_hf' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


__all__ = sorted(_EXPORTS)
