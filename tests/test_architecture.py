"""The package's layers (ARCHITECTURE.md): imports point down only, and every subpackage imports on its own.

The static check parses every module with `ast` (function-local imports included, so none can hide a cycle) and
resolves relative imports; a module in layer N may import our modules of layer <= N only. `modeling/` ships as
Hub remote code, so its files may import only each other, with `from .x import y`.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

PACKAGE = "kan_genomics_hf"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE

# bottom -> top; a unit may import its own layer or lower ones
LAYERS: list[tuple[str, ...]] = [
    ("modeling",),
    ("testing",),  # reference implementations for tests and benchmarks (self-contained)
    ("io", "sequence"),
    ("data",),
    ("models",),
    ("evaluation",),
    ("interpret",),  # model analysis: may use models, data and the evaluation plots
    ("genome",),  # genome-scale prediction: scans, peaks, variant effects (uses models and interpret)
    ("hub",),
    ("training",),
    ("experiments",),
    ("pipelines",),
    ("commands",),
    ("cli", "__main__", "registration", "__init__"),  # the package root: CLI entry, registration, lazy exports
]
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


def _unit(module: str) -> str:
    """``kan_genomics_hf.data.loading`` -> ``data``; the package itself -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(source: str, package: str) -> list[tuple[int, str, int]]:
    """(line, imported module of ours, relative level) for every import in ``source`` of a module in ``package``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, 0) for a in node.names if a.name.split(".")[0] == PACKAGE]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == PACKAGE:
                # `from . import x` names submodules: count each as imported
                subs = [f"{target}.{a.name}" for a in node.names] if not node.module else [target]
                found += [(node.lineno, sub, node.level) for sub in subs]
    return found


def _modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "__pycache__" not in p.parts)


def _violations() -> list[str]:
    problems = []
    for path in _modules():
        name, where = _module_name(path), path.relative_to(ROOT.parent)
        unit = _unit(name) if path.parent != ROOT else path.stem
        if unit not in RANK:
            problems.append(f"{where}: unit {unit!r} is in no layer; add it to LAYERS and ARCHITECTURE.md")
            continue
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for line, target, level in _imports(path.read_text(encoding="utf-8"), package):
            other = _unit(target)
            if unit == "modeling" and (other != "modeling" or level != 1):
                problems.append(f"{where}:{line}: modeling must import only its own files (from .x import y), "
                                f"imports {target}")
            elif RANK.get(other, len(LAYERS)) > RANK[unit]:
                problems.append(f"{where}:{line}: {unit} (layer {RANK[unit]}) imports {target} "
                                f"({other}, layer {RANK.get(other, '?')})")
    return problems


def test_imports_point_down_the_layers():
    problems = _violations()
    assert not problems, "layer violations (see ARCHITECTURE.md):\n" + "\n".join(problems)


def test_the_checker_sees_relative_and_function_local_imports():
    source = ("import os\nfrom ..models.loading import load_classifier\nfrom . import fasta\n"
              "def f():\n    import kan_genomics_hf.training.trainer\n")
    assert sorted(_imports(source, f"{PACKAGE}.io")) == [
        (2, f"{PACKAGE}.models.loading", 2), (3, f"{PACKAGE}.io.fasta", 1), (5, f"{PACKAGE}.training.trainer", 0)]


def _subpackages() -> list[str]:
    return sorted(p.parent.name for p in ROOT.glob("*/__init__.py"))


def test_every_subpackage_imports_alone_in_a_fresh_interpreter():
    """One fresh interpreter per subpackage importing all its modules (run side by side: each pays torch's import)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    procs = {}
    for sub in _subpackages():
        modules = [_module_name(p) for p in _modules() if p.relative_to(ROOT).parts[0] == sub]
        code = f"import importlib\nfor m in {modules!r}:\n    importlib.import_module(m)\n"
        procs[sub] = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      text=True, env=env, cwd=ROOT.parent)
    failures = []
    for sub, proc in procs.items():
        _, err = proc.communicate(timeout=600)
        if proc.returncode:
            failures.append(f"kan_genomics_hf.{sub}:\n{err[-1500:]}")
    assert not failures, "subpackages that do not import alone:\n" + "\n".join(failures)
