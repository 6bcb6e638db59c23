"""Model cards (README.md with YAML metadata + model-index) for any saved model folder of this package.

Usage (classifier or diffusion model alike)::

    from kan_genomics_hf.hub.model_card import write_model_card
    write_model_card(
        "out/best", model_name="legnet-lkan-tf0", summary="LegNet with KAN squeeze-excitation...",
        library_name="transformers", pipeline_tag="text-classification",
        datasets=["gue/tf_0"], dataset_name="GUE tf_0",
        results={"mcc": 0.61, "accuracy": 0.80}, task_type="text-classification",
        details={"variant": "lkan", "parameters": 200000}, training={"epochs": 10, "lr": 5e-4},
    )

`results` become model-index entries (one `EvalResult` per metric) and a Markdown table; `details` and
`training` become bullet lists; `baselines` (name -> metrics dict) an extra comparison table. The template
is `templates/model_card_template.md` beside this module (package data; falls back to huggingface_hub's
default template if it is missing).
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..evaluation.report import format_markdown_table

PAPER_CITATION = """@article{cherednichenko2025kan,
  title   = {Kolmogorov-Arnold Networks for Genomic Tasks},
  author  = {Cherednichenko, Oleksandr and Poptsova, Maria},
  journal = {Briefings in Bioinformatics},
  year    = {2025},
  doi     = {10.1093/bib/bbaf129}
}"""

TEMPLATE_PATH = Path(__file__).resolve().parent / "templates" / "model_card_template.md"  # package data


def _fmt(value: Any) -> str:
    """Readable numbers: floats to 4 significant digits (36.2, 0.6134, 0.0005), large ones with thousands
    separators (1,234); ints of 10,000 or more with separators (2,668,260)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, int) and abs(value) >= 10_000:
        return f"{value:,}"
    return str(value)


def _bullets(items: Mapping[str, Any] | None) -> str:
    if not items:
        return ""
    return "\n".join(f"- **{k}:** {_fmt(v)}" for k, v in items.items())


def _table(rows: Mapping[str, Mapping[str, Any]]) -> str:
    """Markdown table: one row per name, one column per metric (union over rows)."""
    cols: list[str] = []
    for metrics in rows.values():
        cols += [c for c in metrics if c not in cols]
    return format_markdown_table(["model", *cols],
                                 [[name] + [_fmt(metrics.get(c, "")) for c in cols] for name, metrics in rows.items()])


def build_model_card(
    *,
    model_name: str,
    summary: str = "",
    description: str = "",
    library_name: str = "transformers",
    pipeline_tag: str | None = None,
    task_type: str | None = None,
    datasets: Sequence[str] | None = None,
    dataset_name: str | None = None,
    dataset_split: str = "test",
    results: Mapping[str, float] | None = None,
    results_note: str = "",
    baselines: Mapping[str, Mapping[str, Any]] | None = None,
    baselines_note: str = "Classical baselines on the same split:",
    details: Mapping[str, Any] | None = None,
    training: Mapping[str, Any] | None = None,
    training_data: str = "",
    usage: str = "",
    intended_use: str = "",
    limitations: str = "",
    tags: Sequence[str] | None = None,
    license: str = "mit",
    base_model: str | None = None,
    citation: str = PAPER_CITATION,
) -> Any:
    """Build a `huggingface_hub.ModelCard` (not written); see `write_model_card` for the arguments."""
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    eval_results = None
    if results:
        ds_type = (datasets[0] if datasets else None) or (dataset_name or "custom")
        eval_results = [
            EvalResult(
                task_type=task_type or pipeline_tag or "other",
                dataset_type=ds_type,
                dataset_name=dataset_name or ds_type,
                dataset_split=dataset_split,
                metric_type=name,
                metric_value=float(value),
            )
            for name, value in results.items()
            if value is not None
        ]
    card_data = ModelCardData(
        model_name=model_name if eval_results else None,
        library_name=library_name,
        pipeline_tag=pipeline_tag,
        license=license,
        tags=sorted(set(["genomics", "dna", "kan", *(tags or [])])),
        datasets=list(datasets) if datasets else None,
        metrics=sorted(results) if results else None,
        eval_results=eval_results,
        base_model=base_model,
    )
    kwargs = dict(
        model_id=model_name,
        model_summary=summary,
        model_description=description,
        model_details=_bullets(details),
        get_started_code=usage,
        direct_use=intended_use,
        training_data=training_data,
        training_procedure=_bullets(training),
        results=((results_note + "\n\n") if results_note else "") + _table({model_name: dict(results)})
        if results else "",
        baselines=(baselines_note + "\n\n" + _table(baselines)) if baselines else "",
        bias_risks_limitations=limitations,
        citation_bibtex=citation,
    )
    if TEMPLATE_PATH.is_file():
        return ModelCard.from_template(card_data, template_path=str(TEMPLATE_PATH), **kwargs)
    return ModelCard.from_template(card_data, **kwargs)


def write_model_card(directory: str | os.PathLike, **kwargs: Any) -> Path:
    """Render a model card and write it as `<directory>/README.md`; returns the path.

    Keyword arguments: model_name (required), summary, description, library_name ("transformers" or
    "diffusers"), pipeline_tag, task_type, datasets, dataset_name, dataset_split, results (metric -> value),
    results_note (a line above the results table), baselines (name -> metrics), baselines_note (the line
    above the baselines table), details, training (dicts shown as bullets), training_data, usage,
    intended_use, limitations, tags, license, base_model, citation."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"cannot write a model card: {directory} is not a directory")
    card = build_model_card(**kwargs)
    path = directory / "README.md"
    tmp = directory / ".README.md.tmp"
    tmp.write_text(str(card))
    os.replace(tmp, path)
    return path
