"""Reading one CSV / TSV / TXT (tab-separated) / parquet table into a pandas DataFrame."""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .files import base_suffix

TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".txt")


def read_dataframe(path: str | os.PathLike, dtype: Mapping[str, Any] | None = None):
    """A DataFrame from .parquet, .tsv/.txt (tab) or else comma-separated text (also .gz); errors name the file."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"table not found: {path}; check the path")
    suffix = base_suffix(path)
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, sep="\t" if suffix in (".tsv", ".txt") else ",", dtype=dtype, encoding="utf-8-sig")
    except Exception as err:  # noqa: BLE001 - pandas/pyarrow raise many types; one message names the file
        raise ValueError(f"could not read {path}: {type(err).__name__}: {err}") from err
