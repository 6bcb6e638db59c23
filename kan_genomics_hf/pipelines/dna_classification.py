"""The "dna-classification" pipeline: batched DNA classification, RC averaging, FASTA input, window scanning.

Inputs: a sequence, a list of sequences, a FASTA path (plain or .gz), or records ((id, sequence) pairs,
{"id", "sequence"} dicts, or objects with ``.id`` and ``.seq`` such as Biopython records).
Without ``window`` each sequence gets one prediction; with ``window`` (and ``stride``, default window//2)
each sequence is scanned and every window gets scores with its 0-based [start, end) coordinates, the
way one scans a chromosome for G-quadruplexes or Z-DNA.
"""
from __future__ import annotations

import numbers
import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from transformers import Pipeline

from ..data.input_checks import out_of_distribution_warning, training_length_of
from ..io.fasta import is_fasta_path, read_fasta
from ..models.loading import WEIGHTS_INDEX_NAME, WEIGHTS_NAME, check_classifier, weight_file_keys
from ..models.predict import is_multi_label, logits_to_probs, predict_logits

TASK = "dna-classification"


def _is_fasta_path(value: Any) -> bool:
    return isinstance(value, os.PathLike) or (isinstance(value, str) and is_fasta_path(value))


def _positive_int(name: str, value: Any) -> int:
    """`value` as an int >= 1; floats such as 2.7, bools and strings are refused (never truncated)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"dna-classification: {name} must be >= 1 and a whole number, got {value!r}")
    return int(value)


def _weights_folder(model: Any) -> Path | None:
    """The local folder (or Hub cache snapshot) the model's weights were read from, when there is one."""
    name = str(getattr(model, "name_or_path", "") or "")
    if not name:
        return None
    folder = Path(name)
    if not folder.is_dir() and name.count("/") == 1:
        from huggingface_hub import snapshot_download

        try:
            folder = Path(snapshot_download(name, local_files_only=True))
        except Exception:  # noqa: BLE001 - not in the cache: nothing to compare against
            return None
    has_weights = (folder / WEIGHTS_NAME).is_file() or (folder / WEIGHTS_INDEX_NAME).is_file()
    return folder if has_weights else None


def read_records(inputs: Any) -> tuple[list[tuple[str, str]], bool]:
    """Normalise pipeline inputs to (id, sequence) records; also say whether a single sequence was given."""
    if _is_fasta_path(inputs):
        path = Path(inputs)
        if not path.is_file():
            raise FileNotFoundError(f"FASTA file {path} does not exist")
        return [(r.id, r.sequence) for r in read_fasta(path)], False
    if isinstance(inputs, str):
        return [("seq0", inputs)], True
    if isinstance(inputs, dict):
        inputs = [inputs]
    if not isinstance(inputs, Iterable):
        raise TypeError(f"dna-classification: unsupported input of type {type(inputs).__name__}")
    records = []
    for i, item in enumerate(inputs):
        if isinstance(item, str):
            records.append((f"seq{i}", item))
        elif isinstance(item, dict):
            if "sequence" not in item:
                raise ValueError(f"dna-classification: record {i} is a dict without a 'sequence' key")
            records.append((str(item.get("id", f"seq{i}")), item["sequence"]))
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            records.append((str(item[0]), item[1]))
        elif hasattr(item, "seq"):
            records.append((str(getattr(item, "id", f"seq{i}")), str(item.seq)))
        else:
            raise TypeError(
                f"dna-classification: record {i} of type {type(item).__name__} is not a sequence, "
                "(id, sequence) pair, dict with 'sequence', or record with .seq"
            )
        if not isinstance(records[-1][1], str):
            raise TypeError(f"dna-classification: record {i} sequence is {type(records[-1][1]).__name__}, not str")
    return records, False


def window_starts(length: int, window: int, stride: int) -> list[int]:
    """Start positions of windows covering [0, length): every ``stride``, plus one flush with the end."""
    if length <= window:
        return [0]
    starts = list(range(0, length - window + 1, stride))
    if starts[-1] + window < length:
        starts.append(length - window)
    return starts


class DNAClassificationPipeline(Pipeline):
    """Classify DNA sequences (or sliding windows of them) with a LegNet classifier."""

    _load_processor = False
    _load_image_processor = False
    _load_feature_extractor = False
    _load_tokenizer = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """As transformers' Pipeline; then the model is checked (`models.loading.check_classifier`): another
        model_type, tensors missing from or unknown to its weight file, or NaN/inf weights are refused."""
        super().__init__(*args, **kwargs)
        folder = _weights_folder(self.model)
        where = f"dna-classification model {getattr(self.model, 'name_or_path', '') or type(self.model).__name__}"
        check_classifier(self.model, where, weight_file_keys(folder) if folder is not None else None)
        self._warned_out_of_distribution = False  # the out-of-distribution warning is given once per pipeline

    def _sanitize_parameters(
        self,
        rc_averaging: bool | None = None,
        window: int | None = None,
        stride: int | None = None,
        function_to_apply: str | None = None,
        inference_batch_size: int | None = None,
        **kwargs: Any,
    ) -> tuple[dict, dict, dict]:
        if kwargs:
            raise TypeError(f"dna-classification: unknown arguments {sorted(kwargs)}")
        pre: dict[str, Any] = {}
        fwd: dict[str, Any] = {}
        post: dict[str, Any] = {}
        if window is not None:
            pre["window"] = _positive_int("window", window)
        if stride is not None:
            pre["stride"] = _positive_int("stride", stride)
        if rc_averaging is not None:
            fwd["rc_averaging"] = bool(rc_averaging)
        if inference_batch_size is not None:
            fwd["inference_batch_size"] = _positive_int("batch_size", inference_batch_size)
        if function_to_apply is not None:
            if function_to_apply not in ("softmax", "sigmoid", "none"):
                raise ValueError(f"function_to_apply must be 'softmax', 'sigmoid' or 'none', got {function_to_apply!r}")
            post["function_to_apply"] = function_to_apply
        return pre, fwd, post

    def __call__(self, inputs: Any, batch_size: int | None = None, **kwargs: Any) -> Any:
        """Classify ``inputs``; ``batch_size`` windows/sequences go through the model at once (default 64)."""
        if batch_size is not None:
            kwargs["inference_batch_size"] = batch_size
        pre, fwd, post = self._sanitize_parameters(**kwargs)
        pre = {**self._preprocess_params, **pre}
        fwd = {**self._forward_params, **fwd}
        post = {**self._postprocess_params, **post}
        records, single = read_records(inputs)
        # one "item" is the whole list of records, so windows of many records share model batches
        results = self.postprocess(self._forward(self.preprocess(records, **pre), **fwd), **post)
        return results[0] if single else results

    def preprocess(self, records: list[tuple[str, str]], window: int | None = None, stride: int | None = None) -> dict:
        """Cut records into windows (or keep them whole) and validate the lengths."""
        max_len = getattr(self.model.config, "max_sequence_length", None)
        if stride is not None and window is None:
            raise ValueError(f"dna-classification: stride={stride} only applies to window scanning; pass window "
                             "too (or drop stride)")
        if stride is not None and window is not None and stride > window:
            warnings.warn(f"dna-classification: stride={stride} > window={window} leaves {stride - window} bp "
                          "between windows unscored", stacklevel=3)
        pieces, meta = [], []
        for idx, (name, seq) in enumerate(records):
            if not seq:
                raise ValueError(f"sequence {idx} ({name}): empty sequence")
            if window is None:
                if max_len is not None and len(seq) > max_len:
                    raise ValueError(
                        f"sequence {idx} ({name}) has {len(seq)} bases, more than the model's "
                        f"max_sequence_length={max_len}; pass window={max_len} (and stride) to scan it"
                    )
                pieces.append(seq)
                meta.append((idx, name, 0, len(seq)))
                continue
            if max_len is not None and window > max_len:
                raise ValueError(f"window={window} exceeds the model's max_sequence_length={max_len}")
            step = stride or max(1, window // 2)
            for s in window_starts(len(seq), window, step):
                pieces.append(seq[s : s + window])
                meta.append((idx, name, s, min(len(seq), s + window)))
        self._warn_out_of_distribution(pieces, meta, window is not None)
        return {"pieces": pieces, "meta": meta, "n_records": len(records), "windowed": window is not None}

    def _warn_out_of_distribution(self, pieces: list[str], meta: list[tuple], windowed: bool) -> None:
        """Warn (once per pipeline) when what the model scores is unlike its training data: far from
        `config.training_length` (set by the trainer) or mostly N (`data.input_checks`)."""
        if getattr(self, "_warned_out_of_distribution", False):
            return
        ids = [f"{name}:{start}-{end}" if windowed else name for _, name, start, end in meta]
        message = out_of_distribution_warning(pieces, ids, training_length_of(self.model.config))
        if message is not None:
            self._warned_out_of_distribution = True
            warnings.warn(f"dna-classification: {message}", stacklevel=4)

    def _forward(self, model_inputs: dict, rc_averaging: bool | None = None, inference_batch_size: int = 64) -> dict:
        logits = predict_logits(self.model, self.tokenizer, model_inputs["pieces"], inference_batch_size, rc_averaging)
        return {**model_inputs, "logits": logits}

    def postprocess(self, model_outputs: dict, function_to_apply: str | None = None) -> list:
        """Scores per sequence (or per window, grouped by sequence) with labels from config.id2label."""
        config = self.model.config
        logits = model_outputs["logits"]
        if function_to_apply is None:
            probs = logits_to_probs(logits, is_multi_label(config))
        else:
            probs = {"softmax": lambda t: t.softmax(-1), "sigmoid": torch.sigmoid,
                     "none": lambda t: t}[function_to_apply](logits)
        names = [config.id2label.get(i, f"LABEL_{i}") for i in range(probs.shape[1])]

        def entry(row: torch.Tensor) -> dict:
            best = int(row.argmax())
            d = {"label": names[best], "score": float(row[best])}
            d["scores"] = {n: float(v) for n, v in zip(names, row.tolist())}
            return d

        results: list[Any] = [None] * model_outputs["n_records"]
        for (idx, name, start, end), row in zip(model_outputs["meta"], probs):
            if model_outputs["windowed"]:
                if results[idx] is None:
                    results[idx] = {"id": name, "windows": []}
                results[idx]["windows"].append({"start": start, "end": end, **entry(row)})
            else:
                results[idx] = {"id": name, **entry(row)}
        return results
