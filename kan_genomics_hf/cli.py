"""`kan-genomics` command line: one subcommand per module in `kan_genomics_hf.commands`.

Each command module defines `register(subparsers)`, which adds its parser and sets
`func=run` (a callable taking the parsed namespace and returning an exit code). Command
modules import heavy libraries inside `run`, so `kan-genomics --help` stays fast.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# Order shown in --help. Each entry is a module in kan_genomics_hf/commands/.
COMMAND_MODULES: tuple[str, ...] = (
    "demo", "train", "evaluate", "predict", "benchmark", "train_diffusion", "generate", "evaluate_generation",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kan-genomics",
        description="Kolmogorov-Arnold Networks for genomics: train, evaluate, benchmark and generate DNA.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"kan_genomics_hf.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
