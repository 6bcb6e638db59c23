"""Shared by the commands: config dataclasses turned into flags, the data/runtime options, small helpers.

`add_dataclass_arguments(parser, SomeConfig)` adds one flag per field (`--field-name`, type from the
annotation, default and help from `training.config.option`), so a config's settings are stated once;
`dataclass_from_args(SomeConfig, args)` builds the config back from the parsed namespace.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import types
import typing
from dataclasses import dataclass
from typing import Any, Union

from ..training.config import option

# NB: keep torch / transformers / datasets imports inside functions: `kan-genomics --help` must stay fast.


def _scalar_type(annotation: Any) -> tuple[Any, bool]:
    """(element type, is-a-list) of an annotation such as `int | None`, `list[str]`, `Optional[float]`."""
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _scalar_type(args[0]) if len(args) == 1 else (str, False)
    if origin in (list, tuple):
        return typing.get_args(annotation)[0], True
    return annotation, False


def _with_default(help_text: str, default: Any) -> str:
    if default is None or default is False or default == [] or "default" in help_text:
        return help_text
    shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
    return f"{help_text} (default: {shown})"


def _field_kwargs(f: dataclasses.Field, annotation: Any) -> dict[str, Any]:
    """add_argument keywords for one dataclass field (see the module doc of training.config)."""
    meta = f.metadata
    default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
    required = default is dataclasses.MISSING
    kind, is_list = _scalar_type(annotation)
    kw: dict[str, Any] = {"dest": f.name, "help": meta["help"]}
    if required:
        kw["required"] = True
    else:
        kw["default"] = default
        kw["help"] = _with_default(meta["help"], None if kind is bool else default)
    if kind is bool and "argparse" not in meta:
        kw["action"] = "store_false" if default is True else "store_true"
    elif "parse" in meta:
        kw["type"] = _argparse_type(meta["parse"])
    else:
        kw["type"] = kind
        if is_list and "action" not in meta.get("argparse", {}):
            kw["nargs"] = "+"
    for key in ("choices", "metavar"):
        if key in meta:
            kw[key] = meta[key]
    kw.update(meta.get("argparse", {}))
    return kw


def _argparse_type(parse: Any) -> Any:
    """A parse function whose ValueError becomes argparse's one-line 'invalid value' error."""
    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    convert.__name__ = getattr(parse, "__name__", "value")
    return convert


def add_dataclass_arguments(parser: Any, dtype: type, title: str | None = None) -> None:
    """One flag per field of dataclass `dtype` (fields with cli=False, or whose flag the parser already has,
    are skipped); `title` puts them in an argument group."""
    hints = typing.get_type_hints(dtype)
    target = parser.add_argument_group(title) if title else parser
    taken = {s for action in parser._actions for s in action.option_strings}
    for f in dataclasses.fields(dtype):
        if not f.init or f.metadata.get("cli", True) is False:
            continue
        if "help" not in f.metadata:
            raise TypeError(f"{dtype.__name__}.{f.name} has no help text: declare it with option(..., help=...)")
        dashed = f.name.replace("_", "-")
        flag = f.metadata.get("flag", f"--{'no-' if hints[f.name] is bool and f.default is True else ''}{dashed}")
        if flag in taken:
            continue
        target.add_argument(flag, *f.metadata.get("aliases", []), **_field_kwargs(f, hints[f.name]))


def _all_actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The actions of `parser` and of every subcommand parser below it."""
    out: list[argparse.Action] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in {id(p): p for p in action.choices.values()}.values():
                out.extend(_all_actions(sub))
        else:
            out.append(action)
    return out


def parse_with_given_flags(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """``parser.parse_args(argv)`` plus ``given_flags``: the destinations of the flags the user wrote, so that a
    --preset fills only the others, also where a written value equals the flag's default (`training.presets`).
    Found by parsing `argv` a second time with every default suppressed."""
    args = parser.parse_args(argv)
    actions = _all_actions(parser)
    saved = [action.default for action in actions]
    try:
        for action in actions:
            action.default = argparse.SUPPRESS
        args.given_flags = set(vars(parser.parse_args(argv)))
    finally:
        for action, default in zip(actions, saved):
            action.default = default
    return args


def dataclass_from_args(dtype: type, args: argparse.Namespace, **overrides: Any) -> Any:
    """An instance of `dtype` from the parsed flags (plus `overrides`); its __post_init__ validates it."""
    names = {f.name for f in dataclasses.fields(dtype) if f.init}
    values = {k: v for k, v in vars(args).items() if k in names}
    return dtype(**{**values, **overrides})


@dataclass
class DatasetOptions:
    """Which dataset to load (train / evaluate)."""

    dataset: str = option("synthetic", help="dataset name (synthetic, gb/<name>, gue/<task>, gue_plus/<task>, "
                                            "dnadiffusion) or a path (folder with train/dev/test CSV/TSV/parquet, "
                                            "CSV with a split column, FASTA)")
    data_dir: str | None = option(None, help="root for gue/gue_plus tasks (else $KAN_GENOMICS_GUE_ROOT), "
                                             "or the DNA-Diffusion CSV")
    dataset_option: list[str] = option(default_factory=list, metavar="KEY=VALUE", argparse={"action": "append"},
                                       help="extra loader option (repeatable): label_column=<col> / "
                                            "sequence_column=<col> name a table's columns, label_map={...} fixes "
                                            "class ids; difficulty=0.3 or n_train=5000 for 'synthetic'")
    max_train: int | None = option(None, help="subsample the training split to at most N rows")
    max_eval: int | None = option(None, help="subsample validation/test to at most N rows")


@dataclass
class RuntimeOptions:
    """Process settings of any command."""

    threads: int | None = option(None, help="torch CPU threads (unset: torch's choice; 1 is fastest on a busy machine)")
    cpu: bool = option(False, help="force CPU even when a GPU is present")


def add_dataset_args(p: argparse.ArgumentParser) -> None:
    """--dataset/--data-dir/--dataset-option/--max-train/--max-eval options."""
    add_dataclass_arguments(p, DatasetOptions, "data")


def add_runtime_args(p: argparse.ArgumentParser) -> None:
    """--threads/--cpu options."""
    add_dataclass_arguments(p, RuntimeOptions)


def parse_kv(items: list[str]) -> dict[str, Any]:
    """KEY=VALUE strings -> dict, values parsed as JSON when possible (numbers, lists, booleans)."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise SystemExit(f"error: expected KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


def setup_runtime(args: argparse.Namespace) -> None:
    """Apply --threads and quiet noisy library progress bars (never transformers' warnings)."""
    import torch

    if getattr(args, "threads", None):
        torch.set_num_threads(args.threads)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        import datasets

        datasets.disable_progress_bars()
    except ImportError:
        pass
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # the verbosity stays: transformers' load report must show
    except ImportError:
        pass


def load_dataset_from_args(args: argparse.Namespace, print_summary: bool = True,
                           full_rows: dict[str, int] | None = None):
    """Load (and optionally summarise) the dataset named by the data arguments; `full_rows`, when given, is
    filled with the rows per split before --max-train / --max-eval subsampling (for the model card)."""
    from ..data.loading import load_genomic_dataset
    from ..data.protocols import subsample
    from ..data.summary import format_summary, summarize_dataset

    dd = load_genomic_dataset(args.dataset, data_dir=args.data_dir, **parse_kv(args.dataset_option))
    if full_rows is not None:
        full_rows.update({split: len(ds) for split, ds in dd.items()})
    dd = subsample(dd, args.max_train, args.max_eval, seed=getattr(args, "seed", 0))
    if print_summary:
        print(format_summary(summarize_dataset(dd), args.dataset))
    return dd


def fail(message: str) -> int:
    """Print a one-line error and return exit code 1."""
    print(f"error: {message}", file=sys.stderr)
    return 1
