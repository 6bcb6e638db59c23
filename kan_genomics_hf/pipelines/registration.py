"""Make `diffusers.DiffusionPipeline.from_pretrained(folder)` find DNADiffusionPipeline once the package is imported.

diffusers resolves a saved pipeline's `_class_name` as an attribute of the `diffusers` module. `install()`
(called by `import kan_genomics_hf`) registers our pipeline there: at once when diffusers is already imported,
otherwise right after diffusers finishes importing (a one-shot import hook), so import order does not matter
and `import kan_genomics_hf` stays cheap when diffusers is never used.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from typing import Any

_PIPELINE_MODULE = "kan_genomics_hf.pipelines.dna_diffusion"


def _register() -> None:
    importlib.import_module(_PIPELINE_MODULE)  # its import registers the class on the diffusers module


class _DiffusersImportHook(importlib.abc.MetaPathFinder):
    """One-shot finder: wraps the diffusers loader so registration runs after diffusers is initialised."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != "diffusers":
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec("diffusers")
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original = loader.exec_module

        def exec_module(module: Any) -> None:
            original(module)
            try:
                _register()
            except Exception:  # never break `import diffusers` because of us
                pass

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def install() -> None:
    """Register now if diffusers is loaded, else once it is (idempotent)."""
    if "diffusers" in sys.modules:
        try:
            _register()
        except Exception:
            pass
        return
    if not any(isinstance(f, _DiffusersImportHook) for f in sys.meta_path):
        sys.meta_path.insert(0, _DiffusersImportHook())
