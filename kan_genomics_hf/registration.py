"""Register our classes with transformers and diffusers, whatever the import order (called by `import kan_genomics_hf`).

Three registrations, all here and nowhere else (importing a pipeline module has no side effect):

* transformers' Auto classes know ``kan_legnet`` — once ``transformers.models.auto`` is imported (``from
  transformers import AutoModel`` or anything that loads models; so ``import kan_genomics_hf`` imports neither
  torch nor transformers and the CLI starts fast);
* the ``dna-classification`` pipeline task — once ``transformers.pipelines`` is imported;
* ``DiffusionPipeline.from_pretrained(folder)`` finds DNADiffusionPipeline — once ``diffusers`` is imported.

All three are *deferred steps*: a step runs once its trigger module has been imported; it imports the module of
ours that provides the classes. If a module of ours is half-imported at that moment (it is importing the trigger),
the step waits until that module finishes. One import hook (`_ImportHook`, removed when every step has run) sees
the triggers and our own modules finish loading.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

logger = logging.getLogger(__name__)

_PACKAGE = __name__.rpartition(".")[0]
DNA_CLASSIFICATION_MODULE = _PACKAGE + ".pipelines.dna_classification"
DNA_DIFFUSION_MODULE = _PACKAGE + ".pipelines.dna_diffusion"


class _ImportHook(importlib.abc.MetaPathFinder):
    """Finder that runs ``callback(name)`` right after a module accepted by ``match`` has been executed."""

    def __init__(self, match: Callable[[str], bool], callback: Callable[[str], None]) -> None:
        self.match, self.callback = match, callback

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if not self.match(fullname):
            return None
        spec = _find_spec_elsewhere(self, fullname, path, target)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        original, callback = spec.loader.exec_module, self.callback

        library = fullname.partition(".")[0]

        def exec_module(module: ModuleType) -> None:
            _busy[library] = _busy.get(library, 0) + 1
            try:
                original(module)
            finally:
                _busy[library] -= 1
            callback(fullname)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _find_spec_elsewhere(hook: _ImportHook, fullname: str, path: Any, target: Any) -> Any:
    """The spec the other finders on `sys.meta_path` give (what the import would have used without ``hook``)."""
    for finder in list(sys.meta_path):
        if finder is not hook and hasattr(finder, "find_spec"):
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                return spec
    return None


def _initializing(name: str) -> bool:
    module = sys.modules.get(name)
    return module is not None and bool(getattr(getattr(module, "__spec__", None), "_initializing", False))


def register_auto_classes(module: ModuleType | None = None) -> None:
    """AutoConfig / AutoModel / AutoModelForSequenceClassification / AutoTokenizer know "kan_legnet" (idempotent;
    ``module``, the step's provider, is unused)."""
    from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification, AutoTokenizer

    from .modeling.configuration_legnet import LegNetConfig
    from .modeling.modeling_legnet import LegNetForSequenceClassification, LegNetModel
    from .modeling.tokenization_dna import DNATokenizer

    AutoConfig.register(LegNetConfig.model_type, LegNetConfig, exist_ok=True)
    AutoModel.register(LegNetConfig, LegNetModel, exist_ok=True)
    AutoModelForSequenceClassification.register(LegNetConfig, LegNetForSequenceClassification, exist_ok=True)
    AutoTokenizer.register(LegNetConfig, slow_tokenizer_class=DNATokenizer, exist_ok=True)


def _register_pipeline_task(module: ModuleType) -> None:
    """Make pipeline("dna-classification", ...) available (idempotent)."""
    from transformers import AutoModelForSequenceClassification
    from transformers.pipelines import PIPELINE_REGISTRY

    if module.TASK in PIPELINE_REGISTRY.get_supported_tasks():
        return
    PIPELINE_REGISTRY.register_pipeline(
        module.TASK, pipeline_class=module.DNAClassificationPipeline,
        pt_model=AutoModelForSequenceClassification, type="text",
    )


def _register_diffusers_pipeline(module: ModuleType) -> None:
    """Let diffusers resolve our classes when loading a saved pipeline (local folder or Hub repo).

    `DiffusionPipeline.from_pretrained` looks the pipeline class up on the `diffusers` module, and a component
    saved from a non-diffusers library is recorded by its module path (``kan_genomics_hf.modeling.unet_kan_1d``),
    which the Hub download step accepts only if `diffusers.pipelines` has an attribute of that name.
    """
    import diffusers
    import diffusers.pipelines

    if getattr(diffusers, "DNADiffusionPipeline", None) is None:
        diffusers.DNADiffusionPipeline = module.DNADiffusionPipeline
    unet_module_name = module.KANUNet1DModel.__module__
    if getattr(diffusers.pipelines, unet_module_name, None) is None:
        setattr(diffusers.pipelines, unet_module_name, sys.modules[unet_module_name])


@dataclass(frozen=True)
class _Step:
    """Register from ``provider`` (a module of ours) once ``trigger`` (a third-party module) has been imported."""

    trigger: str
    provider: str
    register: Callable[[ModuleType], None]

    def due(self, just_loaded: str | None) -> bool:
        """Not done, the trigger imported, and no module of its library still executing (``transformers.models.auto``
        is first imported from inside ``transformers.modeling_utils``, which is then only half-initialised)."""
        return self not in _done and self.trigger in sys.modules and not _busy.get(self.library) and (
            self.trigger == just_loaded or not _initializing(self.trigger))

    @property
    def library(self) -> str:
        return self.trigger.partition(".")[0]


_done: set[_Step] = set()
_busy: dict[str, int] = {}  # library -> how many of its modules are executing now (seen by the hook)
_STEPS = (
    _Step("transformers.models.auto", _PACKAGE + ".modeling.modeling_legnet", register_auto_classes),
    _Step("transformers.pipelines", DNA_CLASSIFICATION_MODULE, _register_pipeline_task),
    _Step("diffusers", DNA_DIFFUSION_MODULE, _register_diffusers_pipeline),
)
_LIBRARIES = frozenset(step.library for step in _STEPS)


def _watched(name: str) -> bool:
    return name.partition(".")[0] in _LIBRARIES or name.startswith(_PACKAGE + ".")


def _run_due_steps(just_loaded: str | None = None) -> None:
    """Run the steps whose trigger is imported, unless a module of ours is half-imported (its import would fail:
    the hook then calls this again when that module finishes). ``just_loaded`` has executed but still reads as
    initialising."""
    if not any(step.due(just_loaded) for step in _STEPS):  # the common case, cheap: the hook sees every library module
        return
    ours = [name for name in list(sys.modules) if name.startswith(_PACKAGE + ".") and name != just_loaded]
    if any(_initializing(name) for name in ours):
        return
    for step in _STEPS:
        if not step.due(just_loaded):
            continue
        _done.add(step)  # once, even if it fails: a warning per import would be noise
        try:
            step.register(sys.modules.get(step.provider) or importlib.import_module(step.provider))
        except Exception:  # never break the user's import because of us; say what failed
            logger.warning("kan_genomics_hf: registering %s after importing %s failed", step.provider, step.trigger,
                           exc_info=True)
    if len(_done) == len(_STEPS):
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _ImportHook)]


def install() -> None:
    """Register the Auto classes, the pipeline task and the diffusers pipeline once their library is imported
    (at once for a library already imported)."""
    if not any(isinstance(f, _ImportHook) for f in sys.meta_path):
        sys.meta_path.insert(0, _ImportHook(_watched, _run_due_steps))
    _run_due_steps()
