"""`load_genomic_dataset`: one entry point for every dataset the package knows, returning a
`datasets.DatasetDict` with splits train / validation / test and columns `sequence`, `label` (+ metadata).

Names: "synthetic" (built-in, offline), "gb/<name>" (Genomic Benchmarks from the Hub), "gue/<task>",
"gue_plus/<task>" (local root in the authors' layout), "dnadiffusion" (the DNA-Diffusion table); or a
path: a folder of train/dev|validation/test CSV/TSV/parquet files, a CSV/TSV/parquet file with a `split`
column (the authors' flipon format), the DNA-Diffusion CSV, or FASTA (labels in headers, or a folder /
mapping with one FASTA per class).
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..io.fasta import is_fasta_path, read_fasta
from ..io.files import base_suffix
from ..io.tables import TABLE_SUFFIXES, read_dataframe

GB_DATASETS = (
    "demo_coding_vs_intergenomic_seqs", "demo_human_or_worm", "drosophila_enhancers_stark",
    "dummy_mouse_enhancers_ensembl", "human_enhancers_cohn", "human_enhancers_ensembl",
    "human_ensembl_regulatory", "human_nontata_promoters", "human_ocr_ensembl",
)
GB_REPO = "katarinagresova/Genomic_Benchmarks_{name}"

# short name -> path in the authors' GUE layout (<root>/<group>/<task>)
GUE_TASKS: dict[str, str] = {
    **{f"tf_{i}": f"tf/{i}" for i in range(5)},
    **{f"mouse_{i}": f"mouse/{i}" for i in range(5)},
    **{n: f"prom/{n}" for n in ("prom_core_all", "prom_core_notata", "prom_core_tata",
                                "prom_300_all", "prom_300_notata", "prom_300_tata")},
    "splice": "splice/reconstructed",
    "covid": "virus/covid",
    **{n: f"EMP/{n}" for n in ("H3", "H3K14ac", "H3K36me3", "H3K4me1", "H3K4me2", "H3K4me3",
                               "H3K79me3", "H3K9ac", "H4", "H4ac")},
}
GUE_PLUS_TASKS: dict[str, str] = {
    **{f"epi_{c.lower()}": f"EPI/{c}" for c in ("GM12878", "HeLa-S3", "HUVEC", "IMR90", "K562", "NHEK")},
    "fungi": "fungi", "virus": "virus",
}
GUE_ENV = "KAN_GENOMICS_GUE_ROOT"
GUE_PLUS_ENV = "KAN_GENOMICS_GUE_PLUS_ROOT"
DNADIFFUSION_ENV = "KAN_GENOMICS_DNADIFFUSION_CSV"

SEQUENCE_COLUMNS = ("sequence", "seq", "Sequence", "sequences", "text", "dna")
LABEL_COLUMNS = ("label", "labels", "Label", "target", "class", "y")
SPLIT_ALIASES = {"train": "train", "training": "train", "dev": "validation", "val": "validation",
                 "valid": "validation", "validation": "validation", "test": "test", "testing": "test"}


def valid_dataset_names() -> list[str]:
    """Every short name `load_genomic_dataset` accepts (paths are accepted too)."""
    return (["synthetic", "dnadiffusion"] + [f"gb/{n}" for n in GB_DATASETS]
            + [f"gue/{n}" for n in GUE_TASKS] + [f"gue_plus/{n}" for n in GUE_PLUS_TASKS])


class UnknownDatasetError(ValueError):
    """Raised for a name that is neither a known dataset nor an existing path."""


# --------------------------------------------------------------------------------------------
def load_genomic_dataset(name_or_path: str | os.PathLike, data_dir: str | os.PathLike | None = None,
                         **options: Any):
    """Load a dataset by short name or path as a DatasetDict(train/validation/test) with sequence/label.

    Options: `seed` (validation split seed, default 42), `validation_fraction` (0.1), `sequence_column`,
    `label_column`, `label_map` ({name: id} or a list of names: the declared classes), `problem_type`
    ('regression' keeps numeric targets; otherwise labels must be integer ids 0..K-1 or strings, the same
    classes in every split); "synthetic" takes the arguments of `load_synthetic`; "dnadiffusion" takes
    `validation_chromosomes` / `test_chromosomes`."""
    name = str(name_or_path)
    if name == "synthetic" or name.startswith("synthetic:"):
        from .synthetic import load_synthetic
        return load_synthetic(**options)
    if name.startswith("gb/"):
        return _load_genomic_benchmark(name[3:], data_dir=data_dir, **options)
    if name.startswith(("gue/", "gue_plus/")):
        group, task = name.split("/", 1)
        return _load_gue(group, task, data_dir=data_dir, **options)
    if name == "dnadiffusion":
        path = data_dir or os.environ.get(DNADIFFUSION_ENV)
        if path is None:
            raise FileNotFoundError(f"'dnadiffusion' needs the table: pass data_dir=<csv or folder> or set {DNADIFFUSION_ENV}")
        path = Path(path)
        if path.is_dir():
            hits = sorted(path.glob("*.csv"))
            if not hits:
                raise FileNotFoundError(f"no CSV file in {path} for 'dnadiffusion'")
            path = hits[0]
        return load_dnadiffusion_table(path, **options)
    path = Path(name) if data_dir is None or Path(name).is_absolute() else Path(data_dir) / name
    if not path.exists() and Path(name).exists():
        path = Path(name)
    if path.exists():
        return _load_path(path, **options)
    raise UnknownDatasetError(
        f"unknown dataset {name!r}: not a known name and no such path. Valid names: "
        + ", ".join(valid_dataset_names())
        + ". Or pass a folder with train/dev/test CSV/TSV/parquet files, a CSV with a 'split' column, or FASTA.")


# --------------------------------------------------------------------------------------------
def _standardise(ds, sequence_column: str | None = None, label_column: str | None = None, where: str = ""):
    """Rename the sequence/label columns of a Dataset to `sequence`/`label`, with a clear error if absent."""
    cols = ds.column_names
    seq_col = sequence_column or next((c for c in SEQUENCE_COLUMNS if c in cols), None)
    lab_col = label_column or next((c for c in LABEL_COLUMNS if c in cols), None)
    if seq_col is None or seq_col not in cols:
        raise ValueError(f"{where}: no sequence column (looked for {', '.join(SEQUENCE_COLUMNS)}); columns are {cols}; "
                         "name it with sequence_column=<column> (CLI: --dataset-option sequence_column=<column>)")
    if lab_col is None or lab_col not in cols:
        raise ValueError(f"{where}: no label column (looked for {', '.join(LABEL_COLUMNS)}); columns are {cols}; "
                         "name it with label_column=<column> (CLI: --dataset-option label_column=<column>)")
    if seq_col != "sequence":
        if "sequence" in cols:
            ds = ds.remove_columns("sequence")
        ds = ds.rename_column(seq_col, "sequence")
    if lab_col != "label":
        if "label" in ds.column_names:
            ds = ds.remove_columns("label")
        ds = ds.rename_column(lab_col, "label")
    empty = [i for i, seq in enumerate(ds["sequence"]) if not isinstance(seq, str) or not seq.strip()]
    if empty:
        raise ValueError(f"{where}: row {empty[0]} has no sequence (an empty or NaN '{seq_col}' cell; {len(empty)} "
                         "rows in all); fill or drop those rows")
    return ds


LABEL_HELP = ("declare labels with label_column=<column> (a table), label_map={'neg': 0, 'pos': 1} "
              "(names -> ids 0..K-1, the same in every split) or, in FASTA, '>id label=X' headers or one file per class")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _label_kind(values: list[Any], split: str, where: str) -> str:
    """'int', 'float' (some value not integral) or 'str' for one split's labels; mixed kinds are an error."""
    missing = [i for i, v in enumerate(values) if v is None or (_is_number(v) and np.isnan(v))]
    if missing:
        raise ValueError(f"{where} [{split}]: row {missing[0]} has no label ({len(missing)} rows in all); fill or "
                         "drop those rows")
    numbers = [v for v in values if _is_number(v)]
    if numbers and len(numbers) < len(values):
        text = next(v for v in values if not _is_number(v))
        raise ValueError(f"{where} [{split}]: labels mix numbers ({numbers[0]!r}) and text ({text!r}); {LABEL_HELP}")
    if not numbers:
        return "str"
    odd = next((v for v in numbers if not float(v).is_integer()), None)
    if odd is not None:
        raise ValueError(f"{where} [{split}]: label {odd!r} is not an integer class id; class labels are integers "
                         f"0..K-1 or strings ({LABEL_HELP}); for a continuous target pass problem_type='regression'")
    return "int"


def _label_key(v: Any) -> str:
    return str(int(v)) if _is_number(v) else str(v)


def _declared_names(label_map: Any, where: str) -> list[str]:
    """Class names by id from label_map: {name: id} with ids 0..K-1, or a list of names."""
    if isinstance(label_map, (list, tuple)):
        names = [str(n) for n in label_map]
    elif isinstance(label_map, Mapping):
        ids = sorted(label_map.values()) if all(_is_number(i) for i in label_map.values()) else None
        if ids != list(range(len(label_map))):
            raise ValueError(f"{where}: label_map ids must be 0..{len(label_map) - 1}, got {label_map}")
        names = [str(n) for n, _ in sorted(label_map.items(), key=lambda kv: kv[1])]
    else:
        raise ValueError(f"{where}: label_map must be a {{name: id}} mapping or a list of names, got {label_map!r}")
    if len(set(names)) != len(names) or len(names) < 2:
        raise ValueError(f"{where}: label_map needs at least two distinct names, got {names}")
    return names


def _inferred_names(values: dict[str, list[Any]], where: str) -> list[str]:
    """Class names by id from the train labels: integer ids 0..K-1 or the sorted set of string labels."""
    kinds = {split: _label_kind(v, split, where) for split, v in values.items()}
    if len(set(kinds.values())) > 1:
        shown = ", ".join(f"{k} in {split}" for split, k in kinds.items())
        raise ValueError(f"{where}: label kinds differ between splits ({shown.replace('int', 'integers').replace('str', 'strings')}); "
                         f"use one kind in every split, or {LABEL_HELP}")
    train = values["train"]
    if kinds["train"] == "str":
        return sorted({str(v) for v in train})
    ids = sorted({int(v) for v in train})
    if ids[0] < 0:
        raise ValueError(f"{where} [train]: class ids must be >= 0, found {ids[0]}; {LABEL_HELP}")
    empty = sorted(set(range(ids[-1] + 1)) - set(ids))
    if empty:
        raise ValueError(f"{where} [train]: class ids must be 0..K-1 but {empty} have no rows (found {ids[:10]}); "
                         f"relabel them, or {LABEL_HELP}")
    return [str(i) for i in ids]


def _check_classes(names: list[str], values: dict[str, list[str]], where: str) -> None:
    """Every class has train rows; validation/test hold no class unknown to train."""
    empty = sorted(set(names) - set(values["train"]))
    if empty:
        raise ValueError(f"{where} [train]: class(es) {empty} have no rows; drop them from the labels or {LABEL_HELP}")
    for split, vals in values.items():
        unknown = sorted(set(vals) - set(names))
        if unknown:
            where_from = "label_map" if split == "train" else "train"
            raise ValueError(f"{where} [{split}]: label(s) {unknown[:10]} are not in {where_from} (classes: "
                             f"{names[:10]}); fix those rows or {LABEL_HELP}")


def _regression_labels(dd, where: str):
    import datasets

    out = {}
    for split, ds in dd.items():
        vals = list(ds["label"])
        bad = next((i for i, v in enumerate(vals) if not _is_number(v) or not np.isfinite(v)), None)
        if bad is not None:
            raise ValueError(f"{where} [{split}]: regression target in row {bad} is {vals[bad]!r}, not a finite number")
        features = ds.features.copy()
        features["label"] = datasets.Value("float32")
        out[split] = ds.cast(features)
    return datasets.DatasetDict(out)


def _encode_labels(dd, where: str, label_map: Any = None, problem_type: str | None = None):
    """Class labels as one ClassLabel (ids 0..K-1, the same mapping in every split), validated (see
    `_inferred_names` / `_check_classes`); regression targets as float32 only for problem_type='regression'."""
    import datasets

    if problem_type == "regression":
        return _regression_labels(dd, where)
    if problem_type not in (None, "single_label_classification"):
        raise ValueError(f"{where}: problem_type must be 'single_label_classification' or 'regression', got {problem_type!r}")
    feature = next(iter(dd.values())).features["label"]
    if isinstance(feature, datasets.ClassLabel) and label_map is None:
        names = list(feature.names)
        values = {k: [names[i] if 0 <= i < len(names) else str(i) for i in v["label"]] for k, v in dd.items()}
        _check_classes(names, values, where)
        return dd
    raw = {k: list(v["label"]) for k, v in dd.items()}
    if label_map is not None:
        for split, vals in raw.items():
            _label_kind(vals, split, where)  # missing labels
        names = _declared_names(label_map, where)
    else:
        names = _inferred_names(raw, where)
    keys = {k: [_label_key(v) for v in vals] for k, vals in raw.items()}
    _check_classes(names, keys, where)
    index = {n: i for i, n in enumerate(names)}
    out = {}
    for split, ds in dd.items():
        features = ds.features.copy()
        features["label"] = datasets.ClassLabel(names=names)
        out[split] = ds.remove_columns("label").add_column("label", [index[k] for k in keys[split]]).cast(features)
    return datasets.DatasetDict(out)


def dataset_fingerprint(dd) -> dict[str, Any]:
    """Label names and per split the row count and a SHA-256 (16 hex digits) of its sequences and labels,
    so a resume can tell another dataset (or another subsample of it) from the one a checkpoint saw."""
    import hashlib

    splits = {}
    for split, ds in dd.items():
        h = hashlib.sha256()
        for seq, label in zip(ds["sequence"], ds["label"]):
            h.update(f"{seq}\t{label}\n".encode())
        splits[split] = {"rows": len(ds), "sha256": h.hexdigest()[:16]}
    feature = next(iter(dd.values())).features.get("label")
    return {"labels": list(getattr(feature, "names", []) or []), "splits": splits}


def _finalise(splits: Mapping[str, Any], where: str, seed: int = 42, validation_fraction: float = 0.1,
              sequence_column: str | None = None, label_column: str | None = None, label_map: Any = None,
              problem_type: str | None = None):
    """Standardise columns, validate the labels (`_encode_labels`), add seeded stratified validation/test
    splits if missing."""
    import datasets

    splits = {SPLIT_ALIASES.get(str(k).lower(), str(k).lower()): v for k, v in splits.items()}
    unknown = set(splits) - {"train", "validation", "test"}
    if unknown:
        raise ValueError(f"{where}: unknown split name(s) {sorted(unknown)}; use train, dev/validation, test")
    if "train" not in splits:
        raise ValueError(f"{where}: no train split found (have {sorted(splits)})")
    dd = datasets.DatasetDict({k: _standardise(v, sequence_column, label_column, f"{where} [{k}]")
                               for k, v in splits.items()})
    dd = _encode_labels(dd, where, label_map, problem_type)
    if "validation" not in dd:
        dd = _split_off(dd, "train", "validation", validation_fraction, seed)
    if "test" not in dd:
        dd = _split_off(dd, "train", "test", validation_fraction, seed + 1)
    return datasets.DatasetDict({k: dd[k] for k in ("train", "validation", "test")})


def _split_off(dd, source: str, target: str, fraction: float, seed: int):
    import datasets

    ds = dd[source]
    try:
        parts = ds.train_test_split(test_size=fraction, seed=seed, stratify_by_column="label")
    except ValueError:  # e.g. a class with a single example
        parts = ds.train_test_split(test_size=fraction, seed=seed)
    out = dict(dd)
    out[source], out[target] = parts["train"], parts["test"]
    return datasets.DatasetDict(out)


# --------------------------------------------------------------------------------------------
def _load_genomic_benchmark(name: str, data_dir=None, seed: int = 42, validation_fraction: float = 0.1,
                            **kwargs: Any):
    """Genomic Benchmarks from the Hub (parquet), with a seeded 90/10 train/validation split."""
    import datasets

    if name not in GB_DATASETS:
        raise UnknownDatasetError(f"unknown Genomic Benchmarks dataset {name!r}; valid: "
                                  + ", ".join(f"gb/{n}" for n in GB_DATASETS))
    repo = GB_REPO.format(name=name)
    try:
        raw = datasets.load_dataset(repo, data_dir=str(data_dir) if data_dir else None)
    except Exception as err:  # noqa: BLE001 - network/offline/cache errors become one message
        raise ConnectionError(f"could not load {repo} from the Hub ({type(err).__name__}: {err}). "
                              "It needs the network once (then the HF cache), or HF_HUB_OFFLINE unset.") from err
    return _finalise(dict(raw), f"gb/{name}", seed=seed, validation_fraction=validation_fraction, **kwargs)


def _resolve_gue_dir(group: str, task: str, data_dir=None) -> Path:
    tasks, env = (GUE_TASKS, GUE_ENV) if group == "gue" else (GUE_PLUS_TASKS, GUE_PLUS_ENV)
    if task not in tasks:
        raise UnknownDatasetError(f"unknown {group} task {task!r}; valid: " + ", ".join(f"{group}/{t}" for t in tasks))
    root = data_dir or os.environ.get(env)
    if root is None:
        raise FileNotFoundError(f"{group}/{task} is read from a local copy: pass data_dir=<root> "
                                f"(or --data-dir) or set {env}. Layout: <root>/{tasks[task]}/train.csv or <root>/{task}/train.csv")
    root = Path(root)
    rel = tasks[task]
    candidates = [root / rel, root / task, root / rel.split("/")[-1], root / group.upper() / rel]
    for cand in candidates:
        if (cand / "train.csv").is_file():
            return cand
    raise FileNotFoundError(f"{group}/{task}: no train.csv under any of " + ", ".join(str(c) for c in candidates))


def _load_gue(group: str, task: str, data_dir=None, **kwargs: Any):
    """GUE / GUE+ task from `<root>/<group>/<task>/{train,dev,test}.csv` (or `<root>/<task>/`)."""
    folder = _resolve_gue_dir(group, task, data_dir)
    dd = _load_split_folder(folder, **kwargs)
    return dd


def _read_table(path: Path):
    """Read one CSV/TSV/parquet file into a Dataset (sequences kept as strings)."""
    import datasets

    df = read_dataframe(path, dtype={c: str for c in SEQUENCE_COLUMNS})
    if len(df) == 0:
        raise ValueError(f"{path} has no rows")
    return datasets.Dataset.from_pandas(df, preserve_index=False)


def _load_split_folder(folder: Path, **kwargs: Any):
    splits = {}
    for file in sorted(folder.iterdir()):
        stem = file.name.split(".")[0].lower()
        if base_suffix(file) in TABLE_SUFFIXES and stem in SPLIT_ALIASES:
            split = SPLIT_ALIASES[stem]
            if split in splits:
                raise ValueError(f"{folder}: two files for split {split!r}")
            splits[split] = _read_table(file)
    if not splits:
        raise FileNotFoundError(f"{folder}: no train/dev/validation/test .csv/.tsv/.parquet files")
    return _finalise(splits, str(folder), **kwargs)


def _load_path(path: Path, **kwargs: Any):
    if path.is_dir():
        if any(is_fasta_path(f) for f in path.iterdir()) and not any(
                base_suffix(f) in TABLE_SUFFIXES for f in path.iterdir()):
            return load_fasta_per_class(path, **kwargs)
        return _load_split_folder(path, **kwargs)
    if is_fasta_path(path):
        return load_fasta(path, **kwargs)
    table = _read_table(path)
    cols = set(table.column_names)
    if {"cell_type", "chr", "sequence"} <= cols:
        return load_dnadiffusion_table(path, **kwargs)
    if "split" in cols:
        splits = {}
        names = np.array([SPLIT_ALIASES.get(str(s).lower(), str(s)) for s in table["split"]])
        for split in np.unique(names):
            splits[split] = table.select(np.flatnonzero(names == split).tolist()).remove_columns("split")
        return _finalise(splits, str(path), **kwargs)
    return _finalise({"train": table}, str(path), **kwargs)


# --------------------------------------------------------------------------------------------
def load_dnadiffusion_table(path: str | os.PathLike, validation_chromosomes=("chr2",), test_chromosomes=("chr1",),
                            fallback_validation=("chr9",), fallback_test=("chr8",), **kwargs: Any):
    """DNA-Diffusion DHS table: cell types become labels; chromosome split (upstream chr1 test / chr2 val).

    The published training split already excludes chr1/chr2; then `fallback_*` chromosomes are held out
    (and the DatasetDict's `info.description` says so)."""
    import datasets

    table = _read_table(Path(path))
    missing = {"sequence", "cell_type", "chr"} - set(table.column_names)
    if missing:
        raise ValueError(f"{path}: DNA-Diffusion table needs columns sequence, cell_type, chr; missing {sorted(missing)}")
    chroms = np.array(table["chr"])
    val_c, test_c = tuple(validation_chromosomes), tuple(test_chromosomes)
    note = ""
    if not np.isin(chroms, val_c + test_c).any():
        val_c, test_c = tuple(fallback_validation), tuple(fallback_test)
        note = f"chromosome split fell back to validation={val_c}, test={test_c} (upstream chr1/chr2 absent)"
    cell = sorted(set(table["cell_type"]))
    labels = [cell.index(c) for c in table["cell_type"]]
    drop = [c for c in ("split", "label") if c in table.column_names]
    table = table.remove_columns(drop).add_column("label", labels)
    features = table.features.copy()
    features["label"] = datasets.ClassLabel(names=[c.split("_")[0] for c in cell])
    table = table.cast(features)
    idx = {"validation": np.flatnonzero(np.isin(chroms, val_c)), "test": np.flatnonzero(np.isin(chroms, test_c))}
    idx["train"] = np.flatnonzero(~np.isin(chroms, val_c + test_c))
    dd = datasets.DatasetDict({k: table.select(idx[k].tolist()) for k in ("train", "validation", "test")})
    for split in dd.values():
        split.info.description = note
    return dd


def _label_from_header(header: str, path: Path, number: int) -> str:
    """The label of one FASTA header: '>id label=X' (or class=X), '>id|X', or '>id X' (exactly two words)."""
    words = header.split()
    for token in words:
        if token.lower().startswith(("label=", "class=")) and token.split("=", 1)[1]:
            return token.split("=", 1)[1]
    if words and "|" in words[0] and words[0].rsplit("|", 1)[1]:
        return words[0].rsplit("|", 1)[1]
    if len(words) == 2:
        return words[1]
    raise ValueError(f"{path}: record {number} header {header!r} carries no label ('>id label=X', '>id|X' or "
                     "'>id X'); free-text descriptions are not read as labels. Write the label that way, use one "
                     "FASTA file per class, or a table with label_column")


def _check_header_labels(labels: list[str], path: Path) -> None:
    """Header labels where nearly every record has its own value are descriptions, not classes."""
    distinct = len(set(labels))
    if distinct > max(10, len(labels) // 2):
        raise ValueError(f"{path}: the header labels look like free text ({distinct} distinct values for "
                         f"{len(labels)} records, e.g. {labels[0]!r}); {LABEL_HELP}")


def load_fasta(path: str | os.PathLike, **kwargs: Any):
    """FASTA with the label in each header ('>id label=X', '>id|X' or '>id X'); seeded train/val/test split."""
    import datasets

    path = Path(path)
    recs = read_fasta(path)
    labels = [_label_from_header(r.description, path, n) for n, r in enumerate(recs, 1)]
    _check_header_labels(labels, path)
    ds = datasets.Dataset.from_dict({"id": [r.id.split("|")[0] for r in recs],
                                     "sequence": [r.sequence for r in recs], "label": labels})
    return _finalise({"train": ds}, str(path), **kwargs)


def load_fasta_per_class(source: str | os.PathLike | Mapping[str, str | os.PathLike], **kwargs: Any):
    """One FASTA per class: a folder of `<class>.fa` files or a {class: path} mapping."""
    import datasets

    if isinstance(source, Mapping):
        files = {str(k): Path(v) for k, v in source.items()}
        where = "FASTA per class"
    else:
        folder = Path(source)
        files = {f.name.split(".")[0]: f for f in sorted(folder.iterdir()) if is_fasta_path(f)}
        where = str(folder)
    if len(files) < 2:
        raise ValueError(f"{where}: need at least two class FASTA files, found {sorted(files)}")
    ids, seqs, labels = [], [], []
    for cls, file in files.items():
        for rec in read_fasta(file):
            ids.append(rec.id)
            seqs.append(rec.sequence)
            labels.append(cls)
    ds = datasets.Dataset.from_dict({"id": ids, "sequence": seqs, "label": labels})
    return _finalise({"train": ds}, where, **kwargs)
