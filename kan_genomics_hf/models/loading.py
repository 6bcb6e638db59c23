"""Save and load a LegNet classifier together with its tokenizer as one self-contained folder.

``save_classifier`` writes config.json, model.safetensors, the tokenizer files and the flat remote-code
files (with an ``auto_map`` for AutoConfig, AutoModel, AutoModelForSequenceClassification and
AutoTokenizer) atomically: into a temporary sibling folder first, then renamed into place.
``load_classifier`` checks the folder first so a missing or corrupted file gives an error naming it.
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
    from ..modeling.modeling_legnet import write_remote_code
    from ..io.atomic import atomic_directory

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


def load_classifier(
    directory: str | os.PathLike, device: str | None = None, **kwargs: Any
) -> tuple[Any, Any]:
    """Load (model, tokenizer) from a folder written by ``save_classifier``; errors name missing/bad files/keys."""
    from ..modeling.modeling_legnet import LegNetForSequenceClassification
    from ..modeling.tokenization_dna import DNATokenizer

    check_checkpoint_folder(directory)
    model, info = LegNetForSequenceClassification.from_pretrained(directory, output_loading_info=True, **kwargs)
    problems = {k: sorted(v) for k, v in info.items() if k in ("missing_keys", "mismatched_keys") and v}
    if problems:
        raise ValueError(f"checkpoint {directory} does not match its config: {problems}")
    tokenizer = DNATokenizer.from_pretrained(directory) if (Path(directory) / "vocab.json").is_file() else DNATokenizer()
    if device is not None:
        model = model.to(device)
    model.eval()
    return model, tokenizer
