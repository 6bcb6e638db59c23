"""`kan-genomics` command line: one subcommand per module in `kan_genomics_hf.commands`.

Each command module defines `register(subparsers)`, which adds its parser and sets
`func=run` (a callable taking the parsed namespace and returning an exit code). Command
modules import heavy libraries (torch, transformers, diffusers, datasets) inside `run`, and
`import kan_genomics_hf` imports none of them, so `kan-genomics --help` and `kan-genomics
train --help` start in about 0.3 s (`tests/test_cli_startup.py` checks that no heavy library
is imported; see the README for the measurement).
"""
from __future__ import annotations

import argparse
import importlib
import sys

# Order shown in --help. Each entry is a module in kan_genomics_hf/commands/.
COMMAND_MODULES: tuple[str, ...] = (
    "demo", "train", "evaluate", "predict", "scan", "variant_effect", "benchmark", "train_diffusion", "generate",
    "evaluate_generation",
)


def _version() -> str:
    """The package's ``__version__`` (the package is imported before any of its modules, also under ``-m``)."""
    return sys.modules["kan_genomics_hf"].__version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kan-genomics",
        description="Kolmogorov-Arnold Networks for genomics: train, evaluate, benchmark and generate DNA.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"kan_genomics_hf.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .commands._common import parse_with_given_flags

    parser = build_parser()
    args = parse_with_given_flags(parser, argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
