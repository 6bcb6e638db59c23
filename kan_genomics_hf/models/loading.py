"""Save and load a LegNet classifier together with its tokenizer as one self-contained folder.

``save_classifier`` writes config.json, model.safetensors, the tokenizer files and the flat remote-code
files (with an ``auto_map`` for AutoConfig, AutoModel, AutoModelForSequenceClassification and
AutoTokenizer) atomically: into a temporary sibling folder first, then renamed into place.
``load_classifier`` checks the folder first so a missing or corrupted file gives an error naming it, and
refuses another ``model_type``, missing / unexpected tensors and NaN/inf weights (``check_classifier``,
which the pipelines use too). ``from_pretrained`` itself keeps transformers' behaviour.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

WEIGHTS_NAME = "model.safetensors"
WEIGHTS_INDEX_NAME = "model.safetensors.index.json"


def save_classifier(model: Any, tokenizer: Any, directory: str | os.PathLike, **save_kwargs: Any) -> Path:
    """Save model + tokenizer + remote code into ``directory`` atomically; returns the folder path."""
    from ..io.atomic import atomic_directory
    from ..modeling.modeling_legnet import write_remote_code

    with atomic_directory(directory) as tmp:
        if getattr(model.config, "max_sequence_length", None):
            tokenizer.model_max_length = int(model.config.max_sequence_length)
        model.save_pretrained(tmp, **save_kwargs)
        tokenizer.save_pretrained(tmp)
        write_remote_code(tmp)
    return Path(directory)


def check_checkpoint_folder(directory: str | os.PathLike) -> None:
    """Raise a clear error if a checkpoint folder lacks config.json / weights or a file is unreadable."""
    folder = Path(directory)
    if not folder.is_dir():
        raise FileNotFoundError(f"checkpoint folder {folder} does not exist")
    config = folder / "config.json"
    if not config.is_file():
        raise FileNotFoundError(f"checkpoint folder {folder} has no config.json")
    try:
        with open(config, encoding="utf-8") as f:
            json.load(f)
    except json.JSONDecodeError as err:
        raise ValueError(f"{config} is not valid JSON ({err}); the checkpoint is corrupted") from None
    shards: list[Path]
    if (folder / WEIGHTS_NAME).is_file():
        shards = [folder / WEIGHTS_NAME]
    elif (folder / WEIGHTS_INDEX_NAME).is_file():
        with open(folder / WEIGHTS_INDEX_NAME, encoding="utf-8") as f:
            index = json.load(f)
        shards = [folder / name for name in sorted(set(index.get("weight_map", {}).values()))]
        absent = [s.name for s in shards if not s.is_file()]
        if absent:
            raise FileNotFoundError(f"checkpoint folder {folder} is missing weight shards {absent}")
    else:
        pickles = sorted(p.name for p in folder.glob("*.bin")) + sorted(p.name for p in folder.glob("*.pt"))
        hint = f" (found {pickles}: pickled weights are not loaded, convert them to safetensors)" if pickles else ""
        raise FileNotFoundError(f"checkpoint folder {folder} has no {WEIGHTS_NAME}{hint}")
    from safetensors import safe_open

    for shard in shards:
        try:
            with safe_open(str(shard), framework="pt") as f:
                for key in f.keys():
                    f.get_slice(key)
        except Exception as err:  # safetensors raises its own error types for truncated/garbled files
            raise ValueError(f"weights file {shard} is corrupted or truncated: {err}") from None


def resolve_model_folder(name_or_path: str | os.PathLike) -> Path:
    """A local folder as is; a Hub id ('user/name') not present locally is downloaded (or taken from the cache)."""
    path = Path(name_or_path)
    name = str(name_or_path)
    looks_like_repo = name.count("/") == 1 and not name.startswith((".", "/", "~"))
    if path.exists() or not looks_like_repo:
        return path
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(name))
    except Exception as err:  # noqa: BLE001 - network, auth, offline and missing-repo errors become one message
        raise FileNotFoundError(f"checkpoint folder {name} does not exist locally and could not be fetched "
                                f"from the Hub ({type(err).__name__}: {str(err).splitlines()[0]})") from None


def _model_type(folder: Path) -> str | None:
    with open(folder / "config.json", encoding="utf-8") as f:
        return json.load(f).get("model_type")


def _names(keys: Any, limit: int = 5) -> str:
    keys = sorted(keys)
    return ", ".join(keys[:limit]) + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def check_model_type(model_type: str | None, where: Any) -> None:
    """Raise when `model_type` is not LegNet's: another architecture would be built with random weights."""
    from ..modeling.configuration_legnet import LegNetConfig

    if model_type != LegNetConfig.model_type:
        raise ValueError(f"{where}: model_type is {model_type!r}, not {LegNetConfig.model_type!r}, so it is not a "
                         "kan-genomics classifier; fix config.json or point to a folder written by save_classifier "
                         "or `kan-genomics train`")


def weight_file_keys(folder: str | os.PathLike) -> set[str]:
    """The tensor names stored in a folder's model.safetensors (or its shards)."""
    from safetensors import safe_open

    folder = Path(folder)
    if (folder / WEIGHTS_NAME).is_file():
        shards = [folder / WEIGHTS_NAME]
    else:
        with open(folder / WEIGHTS_INDEX_NAME, encoding="utf-8") as f:
            shards = [folder / n for n in sorted(set(json.load(f).get("weight_map", {}).values()))]
    keys: set[str] = set()
    for shard in shards:
        with safe_open(str(shard), framework="pt") as f:
            keys.update(f.keys())
    return keys


def check_classifier(model: Any, where: Any, file_keys: set[str] | None = None) -> None:
    """Raise a one-line ValueError naming the tensors when a loaded classifier is of another model_type,
    holds NaN/inf, or (given the weight file's tensor names) has tensors missing from / unknown to the file."""
    import torch

    check_model_type(getattr(model.config, "model_type", None), where)
    state = model.state_dict()
    if file_keys is not None:
        missing, unexpected = set(state) - file_keys, file_keys - set(state)
        for what, keys in (("missing", missing), ("unexpected", unexpected)):
            if keys:
                raise ValueError(f"{where}: {WEIGHTS_NAME} has {what} tensors {_names(keys)}, so the model would "
                                 "run with random or ignored weights; re-save it with save_classifier")
    bad = [k for k, t in state.items() if t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if bad:
        raise ValueError(f"{where}: the weights hold NaN/inf in {_names(bad)}; use an earlier checkpoint or retrain")


def load_classifier(
    directory: str | os.PathLike, device: str | None = None, **kwargs: Any
) -> tuple[Any, Any]:
    """Load (model, tokenizer) in eval mode from a folder written by ``save_classifier`` or a Hub id. The
    folder is checked first, so a missing or corrupted file, another ``model_type``, weights that do not
    match the config (missing, unexpected or mis-shaped tensors) or non-finite weights raise a one-line
    error naming them."""
    from ..modeling.modeling_legnet import LegNetForSequenceClassification
    from ..modeling.tokenization_dna import DNATokenizer

    folder = resolve_model_folder(directory)
    check_checkpoint_folder(folder)
    check_model_type(_model_type(folder), folder / "config.json")
    model, info = LegNetForSequenceClassification.from_pretrained(folder, output_loading_info=True, **kwargs)
    tokenizer = DNATokenizer.from_pretrained(folder) if (folder / "vocab.json").is_file() else DNATokenizer()
    problems = {k: sorted(v) for k, v in info.items()
                if k in ("missing_keys", "unexpected_keys", "mismatched_keys") and v}
    if problems:
        raise ValueError(f"checkpoint {directory} does not match its config: {problems}")
    check_classifier(model, directory)
    if device is not None:
        model = model.to(device)
    model.eval()
    return model, tokenizer
