"""`kan-genomics demo`: the whole package in a few minutes, offline, on CPU. On the built-in synthetic
dataset (planted G4-like / TF-like motifs in GC-matched background) it trains small baseline, LKAN and
CKAN LegNets at equal parameter count, prints their comparison with the GC-only and k-mer logistic-
regression baselines, saves the three models as Hugging Face folders with model cards, runs the
"dna-classification" pipeline on a few sequences, and writes results.md, results.json and plots."""
from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

from ..modeling.variants import VARIANTS


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="offline end-to-end demo on synthetic data (a few minutes on CPU)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--output-dir", default="kan-genomics-demo", help="where models, results and plots go (default: kan-genomics-demo)")
    p.add_argument("--size", default="50k", help="parameter preset shared by the three variants (default: 50k)")
    p.add_argument("--epochs", type=int, default=5, help="training epochs per model (default: 5)")
    p.add_argument("--n-train", type=int, default=2400, help="synthetic training rows (default: 2400)")
    p.add_argument("--length", type=int, default=100, help="sequence length of the synthetic data in bases (default: 100)")
    p.add_argument("--difficulty", type=float, default=0.3, help="task difficulty, 0 (easy) .. 1 (hard) (default: 0.3)")
    p.add_argument("--seed", type=int, default=0, help="seed of the data and of every model (default: 0)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (1 is fastest on a shared machine; raise it on an idle one) (default: 1)")
    p.add_argument("--quick", action="store_true", help="tiny run (for smoke tests): 320 training rows, 1 epoch")
    p.set_defaults(func=run)


def _pipeline_examples(model_dir: Path, seqs: list[str]) -> list[Any]:
    """Run the "dna-classification" pipeline on a few sequences."""
    from ..models.loading import load_classifier
    from ..pipelines.dna_classification import DNAClassificationPipeline

    model, tokenizer = load_classifier(model_dir)
    return DNAClassificationPipeline(model=model, tokenizer=tokenizer)(seqs)


def run(args: argparse.Namespace) -> int:
    from ._common import setup_runtime

    setup_runtime(args)
    from ..data.loading import load_genomic_dataset
    from ..data.summary import format_summary, summarize_dataset
    from ..evaluation.report import write_plots

    t_all = time.time()
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    n_train, epochs = (320, 1) if args.quick else (args.n_train, args.epochs)
    n_eval = 100 if args.quick else 500
    options = dict(n_train=n_train, n_validation=n_eval, n_test=n_eval, length=args.length,
                   difficulty=args.difficulty, seed=args.seed)
    dd = load_genomic_dataset("synthetic", **options)
    print(format_summary(summarize_dataset(dd), f"synthetic {options}"))

    print("\n[1/4] classical baselines (GC content only; k-mer logistic regression, k in 4-6)")
    baselines, rows = _classical_baselines(dd, args.seed)

    print(f"\n[2/4] training baseline / LKAN / CKAN at ~{args.size} parameters each ({epochs} epochs)")
    models_dir = out / "models"
    for variant in VARIANTS:
        rows.append(_train_variant(args, variant, dd, baselines, out, epochs))

    print("\n[3/4] comparison (test split)")
    table = _table(rows)
    print(table)

    print("\n[4/4] the 'dna-classification' pipeline on a few test sequences (LKAN model)")
    shown = _show_pipeline_examples(dd, models_dir / "legnet-lkan")

    plots = write_plots(rows, out)
    plots.update(_extra_plots(rows, out))
    total = time.time() - t_all
    _write_results(out, options, table, rows, shown, plots, total)
    print(f"\nwrote {out / 'results.md'}, {out / 'results.json'} and {len(plots)} plots in {total:.0f} s")
    return 0


def _classical_baselines(dd: Any, seed: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Fit the GC-only and k-mer baselines; returns them and one results row each (printing test MCC)."""
    from ..evaluation.baselines import run_baselines

    baselines = run_baselines(dd, seed=seed)
    rows: list[dict[str, Any]] = []
    for name, res in baselines.items():
        print(f"  {name:<11} test MCC {res['metrics']['mcc']:.3f}")
        rows.append({"dataset": "synthetic", "variant": name, "kind": "classical", "run": "single",
                     "params": res["params"], "test": res["metrics"]})
    return baselines, rows


def _train_variant(args: argparse.Namespace, variant: str, dd: Any, baselines: dict[str, Any], out: Path,
                   epochs: int) -> dict[str, Any]:
    """Train one LegNet variant, save it with a model card under out/models, and return its results row."""
    import torch

    from ..hub.model_card import write_model_card
    from ..modeling.tokenization_dna import DNATokenizer
    from ..models.factory import build_config, build_model, count_parameters, flops_per_sequence
    from ..training.cards import classifier_card
    from ..training.config import ClassifierTrainingConfig
    from ..training.tracking import read_jsonl
    from ..training.trainer import train_classifier

    torch.manual_seed(args.seed)
    config = build_config(variant, args.size, num_labels=2)
    model = build_model(config)
    run_dir = out / "runs" / variant
    shutil.rmtree(run_dir, ignore_errors=True)
    targs = ClassifierTrainingConfig(output_dir=str(run_dir), epochs=epochs, batch_size=64, learning_rate=5e-3,
                                     scheduler="onecycle", seed=args.seed, early_stopping_patience=None,
                                     keep_checkpoints=1, log_every=10)
    t0 = time.time()
    print(f"  {variant}: {count_parameters(model):,} parameters, block sizes {list(config.block_sizes)}")
    result = train_classifier(model, DNATokenizer(), dd, targs, dataset_name="synthetic", baselines=baselines)
    seconds = time.time() - t0
    final = out / "models" / f"legnet-{variant}"
    shutil.rmtree(final, ignore_errors=True)
    shutil.copytree(result.best_dir, final)
    card = classifier_card(model, targs, "synthetic", result.best_validation, result.test, baselines)
    card["model_name"] = f"legnet-{variant}-synthetic-demo"
    write_model_card(final, **card)
    shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    shutil.rmtree(run_dir / "best", ignore_errors=True)
    curve = [r for r in read_jsonl(run_dir / "train_log.jsonl") if r["split"] == "validation"]
    print(f"    test MCC {result.test['mcc']:.3f} in {seconds:.0f} s -> {final}")
    return {"dataset": "synthetic", "variant": variant, "kind": "main", "run": f"seed{args.seed}",
            "params": count_parameters(model), "flops": flops_per_sequence(model, args.length),
            "test": result.test, "validation": result.best_validation, "best_epoch": result.best_epoch,
            "train_seconds": round(seconds, 1), "seconds_per_step": round(seconds / max(result.global_step, 1), 4),
            "validation_curve": [c["mcc"] for c in curve], "model_dir": str(final)}


def _show_pipeline_examples(dd: Any, model_dir: Path) -> list[dict[str, Any]]:
    """Classify four test sequences (through the pipeline, else the model directly), print and return them."""
    examples = dd["test"].select(range(4))
    try:
        preds = _pipeline_examples(model_dir, examples["sequence"])
    except Exception as err:  # noqa: BLE001 - the demo reports, then continues with direct inference
        print(f"  pipeline unavailable ({type(err).__name__}: {err}); using the model directly")
        from ..models.predict import predict_proba
        from .evaluate import load_model_and_tokenizer

        m, tok = load_model_and_tokenizer(str(model_dir))
        probs = predict_proba(m, tok, examples["sequence"])
        preds = [{"label": m.config.id2label.get(int(p.argmax()), str(int(p.argmax()))), "score": float(p.max())}
                 for p in probs]
    shown = []
    for seq, label, pred in zip(examples["sequence"], examples["label"], preds):
        top = pred[0] if isinstance(pred, list) else pred
        names = dd["test"].features["label"].names
        shown.append({"sequence": seq, "true_label": names[int(label)], "predicted_label": str(top.get("label")),
                      "score": round(float(top.get("score", float("nan"))), 4)})
        print(f"  {seq[:40]}...  true {names[int(label)]:<10}  predicted {top.get('label')} ({top.get('score', 0):.3f})")
    return shown


def _write_results(out: Path, options: dict[str, Any], table: str, rows: list[dict[str, Any]],
                   shown: list[dict[str, Any]], plots: dict[str, Path], total: float) -> None:
    """Write out/results.md and out/results.json."""
    from ..evaluation.report import format_markdown_table

    md = ["# kan-genomics demo", "",
          f"Synthetic data {options}: planted G4-like / TF-like motifs in GC-matched background "
          "(a GC-only classifier should stay near MCC 0).", "",
          "## Test results", "", table, "",
          "Models (Hugging Face folders with model cards): " + ", ".join(
              f"`models/legnet-{v}`" for v in VARIANTS), "",
          "## Pipeline examples (LKAN)", "", format_markdown_table(
              ["sequence", "true", "predicted"],
              [[f"`{e['sequence'][:30]}…`", e["true_label"], f"{e['predicted_label']} ({e['score']:.3f})"] for e in shown])]
    md += ["", f"Total time {total:.0f} s.", "", "## Plots", ""] + [f"![{p.stem}]({p.name})" for p in plots.values()]
    (out / "results.md").write_text("\n".join(md) + "\n")
    (out / "results.json").write_text(json.dumps({"dataset": options, "rows": rows, "pipeline_examples": shown,
                                                  "total_seconds": round(total, 1)}, indent=2, default=str))


def _table(rows: list[dict[str, Any]]) -> str:
    from ..evaluation.report import format_markdown_table

    # one seed: no winner is bolded (a difference from one run is not evidence)
    body = [[r["variant"], f"{r['params']:,}", f"{100 * r['test']['mcc']:.1f}", f"{r['test']['accuracy']:.3f}",
             f"{r['test']['roc_auc']:.3f}", f"{r['test']['f1']:.3f}", r.get("train_seconds", "—")] for r in rows]
    return format_markdown_table(["model", "params", "test MCC × 100 (1 seed)", "accuracy", "ROC-AUC", "F1", "train s"],
                                 body)


def _extra_plots(rows: list[dict[str, Any]], out: Path) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..evaluation.report import MCC_LABEL, save_figure

    paths = {}
    fig, ax = plt.subplots(figsize=(6, 3.5))
    names = [r["variant"] for r in rows]
    ax.bar(names, [100 * r["test"]["mcc"] for r in rows], color=["#bbb" if r["kind"] == "classical" else "tab:blue" for r in rows])
    ax.set_xlabel("model")
    ax.set_ylabel(MCC_LABEL)
    ax.set_title("Synthetic demo: deep models vs classical baselines (1 seed, no error bars)", fontsize=9)
    paths["mcc_bar"] = save_figure(fig, out / "mcc_bar.png")
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for r in rows:
        if r.get("validation_curve"):
            curve = [100 * v for v in r["validation_curve"]]
            ax.plot(range(1, len(curve) + 1), curve, "o-", label=r["variant"])
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation MCC × 100")
    ax.set_title("Synthetic demo: validation MCC per epoch (1 seed)", fontsize=9)
    ax.legend()
    paths["validation_curves"] = save_figure(fig, out / "validation_curves.png")
    return paths
