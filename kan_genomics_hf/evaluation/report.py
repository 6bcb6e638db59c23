"""Benchmark rows -> the paper's tables (MCC x100 mean ± std, best in bold) as Markdown, CSV and JSON,
the comparison with the paper's Table 3, and PNG plots (MCC vs params / FLOPs; grid size vs params and
step time, the paper's Figure 3; blocks-replaced ablation)."""
from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..modeling.configuration_legnet import VARIANTS

DEEP = VARIANTS
CLASSICAL = ("gc_content", "kmer_lr")
COLUMN_NAMES = {"baseline": "LegNet baseline", "lkan": "LKAN", "ckan": "CKAN", "gc_content": "GC-only LR",
                "kmer_lr": "k-mer LR"}

# Paper Table 3 (GUE, MCC x100: baseline / LKAN / CKAN) and DNABERT-2 (ICLR 2024 Table 4)
PAPER_GUE: dict[str, tuple[float, float, float, float]] = {
    "gue/tf_0": (65.1, 67.4, 65.5, 71.99), "gue/tf_1": (69.9, 72.4, 66.3, 76.06),
    "gue/tf_2": (49.6, 54.3, 47.2, 66.52), "gue/tf_3": (43.2, 46.8, 44.4, 58.54),
    "gue/tf_4": (72.6, 72.9, 71.3, 77.43), "gue/mouse_0": (38.2, 40.1, 39.0, 56.76),
    "gue/mouse_2": (79.8, 85.5, 81.2, 79.32), "gue/mouse_3": (77.6, 81.4, 79.2, 66.47),
    "gue/mouse_4": (42.6, 48.7, 40.1, 52.66), "gue/prom_core_all": (64.8, 68.2, 66.2, 69.37),
    "gue/prom_core_notata": (64.5, 67.2, 63.1, 68.04), "gue/prom_core_tata": (72.3, 78.2, 74.7, 74.17),
    "gue/prom_300_tata": (56.1, 58.2, 57.9, 71.59), "gue/splice": (78.2, 80.0, 75.2, 84.99),
}


def format_markdown_table(header: Sequence[Any], rows: Iterable[Sequence[Any]],
                          align: Sequence[str] | None = None) -> str:
    """The package's one Markdown table writer: a header row, a separator and one line per row.

    `align` gives each column "left" (default), "right" or "center"; cells are written with `str`."""
    marks = {"left": "---", "right": "---:", "center": ":---:"}
    align = list(align) if align is not None else ["left"] * len(header)
    if len(align) != len(header) or any(a not in marks for a in align):
        raise ValueError(f"align needs one of {sorted(marks)} per column ({len(header)} columns), got {align}")
    lines = [_markdown_row(header), "|" + "|".join(marks[a] for a in align) + "|"]
    lines += [_markdown_row(r) for r in rows]
    return "\n".join(lines)


def _markdown_row(cells: Sequence[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _stats(values: list[float]) -> tuple[float, float, int]:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    if not vals:
        return float("nan"), float("nan"), 0
    return float(np.mean(vals)), float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0, len(vals)


def aggregate(rows: Iterable[dict[str, Any]], metric: str = "mcc") -> dict[str, dict[str, dict[str, Any]]]:
    """{dataset: {model: {mean, std, n, params, flops, seconds_per_step}}} over main + classical rows."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r.get("kind") in ("main", "classical") and r.get("test"):
            groups[(r["dataset"], r["variant"])].append(r)
    out: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for (ds, model), rs in groups.items():
        mean, std, n = _stats([r["test"].get(metric) for r in rs])
        out[ds][model] = {"mean": mean, "std": std, "n": n, "params": rs[0].get("params"),
                          "flops": rs[0].get("flops"),
                          "seconds_per_step": _stats([r.get("seconds_per_step") for r in rs])[0] if model in DEEP else None,
                          "n_train": rs[0].get("n_train")}
    return dict(out)


def _fmt(cell: dict[str, Any] | None, bold: bool) -> str:
    if not cell or cell["n"] == 0:
        return "—"
    s = f"{100 * cell['mean']:.1f} ± {100 * cell['std']:.1f}" if cell["n"] > 1 else f"{100 * cell['mean']:.1f}"
    return f"**{s}**" if bold else s


def markdown_table(agg: dict[str, dict[str, dict[str, Any]]], metric: str = "mcc") -> str:
    """Datasets x models, metric x100 mean ± std, best cell per dataset in bold (classical included) only when
    every deep model of that dataset has at least two runs (a single seed names no winner)."""
    models = [m for m in (*DEEP, *CLASSICAL) if any(m in v for v in agg.values())]
    body = []
    for ds, cells in agg.items():
        best = max((c["mean"] for c in cells.values() if c["n"] and not math.isnan(c["mean"])), default=None)
        if any(cells[m]["n"] < 2 for m in DEEP if m in cells):
            best = None
        body.append([ds] + [_fmt(cells.get(m), best is not None and cells.get(m) is not None
                                 and cells[m]["n"] > 0 and cells[m]["mean"] == best) for m in models])
    lines = [format_markdown_table(["dataset"] + [COLUMN_NAMES[m] for m in models], body)]
    params = {m: next((c[m]["params"] for c in agg.values() if m in c and c[m]["params"]), None) for m in DEEP}
    flops = {m: next((c[m]["flops"] for c in agg.values() if m in c and c[m]["flops"]), None) for m in DEEP}
    note = ", ".join(f"{COLUMN_NAMES[m]} {params[m]:,} params" + (f" / {flops[m] / 1e6:.1f} MFLOPs per sequence"
                                                                  if flops[m] else "")
                     for m in DEEP if params.get(m))
    if note:
        lines.append("")
        lines.append(f"Model sizes: {note} (FLOPs at the first dataset's median length).")
    return "\n".join(lines)


def paper_comparison_table(agg: dict[str, dict[str, dict[str, Any]]], metric: str = "mcc") -> str:
    """Our MCC beside the paper's Table 3 (and DNABERT-2) for the GUE tasks present."""
    header = ["task", "ours baseline", "ours LKAN", "ours CKAN", "GC-only LR", "k-mer LR", "paper baseline",
              "paper LKAN", "paper CKAN", "DNABERT-2"]
    body = [[ds] + [_fmt(cells.get(m), False) for m in (*DEEP, *CLASSICAL)] + list(PAPER_GUE[ds])
            for ds, cells in agg.items() if ds in PAPER_GUE]
    return format_markdown_table(header, body) if body else ""



def claims_table(agg: dict[str, dict[str, dict[str, Any]]]) -> str:
    """Markdown: per dataset with all three deep variants, the paper's claims checked on our means (MCC x100):
    LKAN - baseline, LKAN - paper LKAN (GUE tasks), weakest deep variant - k-mer LR; then how many datasets pass
    LKAN >= baseline, LKAN >= paper LKAN and weakest deep >= k-mer LR + 2."""
    body, wins, paper_wins, paper_n, kmer_ok, n = [], 0, 0, 0, 0, 0
    for ds, cells in agg.items():
        if not all(m in cells and cells[m]["n"] for m in DEEP):
            continue
        n += 1
        mean = {m: 100 * cells[m]["mean"] for m in cells if cells[m]["n"]}
        lkan_vs_base = mean["lkan"] - mean["baseline"]
        wins += lkan_vs_base >= 0
        vs_paper = mean["lkan"] - PAPER_GUE[ds][1] if ds in PAPER_GUE else None
        if vs_paper is not None:
            paper_n += 1
            paper_wins += vs_paper >= 0
        weakest = min(mean[m] for m in DEEP)
        vs_kmer = weakest - mean["kmer_lr"] if "kmer_lr" in mean else None
        kmer_ok += vs_kmer is not None and vs_kmer >= 2
        runs = min(cells[m]["n"] for m in DEEP)
        body.append([ds, runs, f"{lkan_vs_base:+.1f}", "—" if vs_paper is None else f"{vs_paper:+.1f}",
                     "—" if vs_kmer is None else f"{vs_kmer:+.1f}"])
    if not body:
        return ""
    table = format_markdown_table(["dataset", "runs per variant", "LKAN − baseline", "LKAN − paper LKAN",
                                   "weakest deep − k-mer LR"], body)
    return (f"{table}\n\nLKAN ≥ baseline (means): {wins}/{n} datasets; LKAN ≥ paper LKAN: {paper_wins}/{paper_n}; "
            f"every deep variant ≥ k-mer LR + 2: {kmer_ok}/{n}. Differences of means, not significance tests: "
            "see the paired table for intervals.")

# two-sided 95 % Student-t quantiles by degrees of freedom (normal beyond the table)
_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
         15: 2.131, 20: 2.086, 30: 2.042}


def t_quantile_975(df: int) -> float:
    """Two-sided 95 % t quantile for `df` degrees of freedom (the next smaller tabulated df beyond 10; 1.96
    beyond 30)."""
    if df < 1:
        return float("nan")
    if df > 30:
        return 1.96
    return _T975.get(df) or _T975[max(k for k in _T975 if k <= df)]


POOLED = "all datasets (pooled)"


def _diff_stats(diffs: list[float]) -> dict[str, Any]:
    """{mean, std, n, lo, hi, wins} of paired differences, with a 95 % t interval (nan for one difference)."""
    mean = float(np.mean(diffs))
    std = float(np.std(diffs, ddof=1)) if len(diffs) > 1 else float("nan")
    half = t_quantile_975(len(diffs) - 1) * std / math.sqrt(len(diffs)) if len(diffs) > 1 else float("nan")
    return {"mean": mean, "std": std, "n": len(diffs), "lo": mean - half, "hi": mean + half,
            "wins": sum(d > 0 for d in diffs)}


def paired_differences(rows: Iterable[dict[str, Any]], a: str = "lkan", b: str = "baseline",
                       metric: str = "mcc", pooled: bool = False, split: str = "test") -> dict[str, dict[str, Any]]:
    """{dataset: {mean, std, n, lo, hi, wins}} of `split`-metric differences a - b (x100; split "test" or
    "validation", the best epoch's) over runs of the same seed/fold, with a 95 % t interval; with `pooled`, also
    every pair of every dataset under `POOLED` (when there are two datasets or more)."""
    by: dict[tuple[str, str, str], float] = {}
    for r in rows:
        if r.get("kind") == "main" and r.get(split) and r[split].get(metric) is not None:
            by[(r["dataset"], r["variant"], str(r.get("run")))] = 100 * r[split][metric]
    per: dict[str, list[float]] = {}
    for ds in dict.fromkeys(k[0] for k in by):
        diffs = [by[(ds, a, run)] - by[(ds, b, run)] for (d, v, run) in by if d == ds and v == a and (ds, b, run) in by]
        if diffs:
            per[ds] = diffs
    out = {ds: _diff_stats(diffs) for ds, diffs in per.items()}
    if pooled and len(per) > 1:
        out[POOLED] = _diff_stats([d for diffs in per.values() for d in diffs])
    return out


def paired_difference_table(rows: list[dict[str, Any]]) -> str:
    """Markdown: LKAN - baseline (and CKAN - baseline) test MCC x100 per dataset, paired by run, and pooled over
    the datasets."""
    body = [[ds, f"{a} − baseline", d["n"], f"{d['mean']:+.1f}", f"{d['std']:.1f}" if d["n"] > 1 else "n/a",
             f"[{d['lo']:+.1f}, {d['hi']:+.1f}]" if d["n"] > 1 else "n/a (1 run)", f"{d['wins']}/{d['n']}"]
            for a in ("lkan", "ckan") for ds, d in paired_differences(rows, a, "baseline", pooled=True).items()]
    header = ["dataset", "pair", "runs", "mean diff", "std", "95 % interval", "runs won"]
    return format_markdown_table(header, body, ["left", "left", "right", "right", "right", "left", "right"]) \
        if body else ""


def training_time_table(rows: list[dict[str, Any]]) -> str:
    """Markdown: training seconds (the runs' own `train_seconds`, summed) per dataset and model, with the total.
    The classical baselines and evaluation are not included."""
    secs: dict[str, dict[str, list[float]]] = {}
    for r in rows:
        if r.get("kind") == "main" and r.get("train_seconds") is not None:
            secs.setdefault(r["dataset"], {}).setdefault(r["variant"], []).append(float(r["train_seconds"]))
    if not secs:
        return ""
    variants = list(dict.fromkeys(v for cells in secs.values() for v in cells))
    body = [[ds, *(f"{sum(cells[v]):,.0f} ({len(cells[v])})" if v in cells else "-" for v in variants),
             f"{sum(sum(x) for x in cells.values()):,.0f}"] for ds, cells in secs.items()]
    totals = [sum(sum(cells.get(v, [])) for cells in secs.values()) for v in variants]
    body.append(["all", *(f"{t:,.0f}" for t in totals), f"{sum(totals):,.0f}"])
    names = [COLUMN_NAMES.get(v, v) for v in variants]
    return format_markdown_table(["dataset", *names, "all models"], body, ["left"] + ["right"] * (len(names) + 1))


def write_reports(rows: list[dict[str, Any]], output_dir: str | Path, title: str = "Benchmark",
                  notes: str = "") -> dict[str, Path]:
    """Write results.md, results.csv, results.json and PNG plots into `output_dir`; return their paths."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    agg = aggregate(rows)
    paths: dict[str, Path] = {}
    md = [f"# {title}", "", "Test MCC × 100, mean ± std over runs; best per dataset in bold "
          "(classical baselines included).", "", markdown_table(agg)]
    paired = paired_difference_table(rows)
    if paired:
        md += ["", "## Paired differences to the baseline (same seed / fold; test MCC × 100, 95 % t interval)", "",
               paired]
    cmp = paper_comparison_table(agg)
    if cmp:
        md += ["", "## Beside the paper (Table 3, GUE) and DNABERT-2", "",
               ("Paper columns: mean of 5 folds, full training sets, 10 epochs (authors' code: baseline 2.6M, "
               "LKAN 5.0M parameters); DNABERT-2: 117M parameters. Ours: see settings below."), "", cmp]
    claims = claims_table(agg)
    if claims:
        md += ["", "## The paper's claims, checked on these means (test MCC × 100)", "", claims]
    times = training_time_table(rows)
    if times:
        md += ["", "## Training time (seconds of training, summed over runs; runs in brackets)", "",
               "Per run as the trainer measured it, without the classical baselines and evaluation. Runs made in "
               "parallel (shards) overlap in wall-clock time.", "", times]
    sweeps = _sweep_tables(rows)
    if sweeps:
        md += ["", sweeps]
    if notes:
        md += ["", notes]
    plots = write_plots(rows, out)
    if plots:
        md += ["", "## Plots", ""] + [f"![{p.stem}]({p.name})" for p in plots.values()]
    paths["markdown"] = out / "results.md"
    paths["markdown"].write_text("\n".join(md) + "\n")
    paths["json"] = out / "results.json"
    paths["json"].write_text(json.dumps({"summary": agg, "runs": rows}, indent=2, default=str))
    paths["csv"] = out / "results.csv"
    with open(paths["csv"], "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["dataset", "model", "mcc_mean", "mcc_std", "runs", "params", "flops_per_sequence",
                    "seconds_per_step", "n_train"])
        for ds, cells in agg.items():
            for m, c in cells.items():
                w.writerow([ds, m, c["mean"], c["std"], c["n"], c["params"], c["flops"], c["seconds_per_step"],
                            c["n_train"]])
    paths.update(plots)
    return paths


def _sweep_tables(rows: list[dict[str, Any]]) -> str:
    parts = []
    grid = sorted((r for r in rows if r.get("kind") == "grid"), key=lambda r: r["grid_size"])
    if grid:
        parts += ["## Grid-size sweep (LKAN, fixed widths)", "", format_markdown_table(
            ["grid", "params", "s/step", "test MCC ×100"],
            [[r["grid_size"], f"{r['params']:,}", f"{r['seconds_per_step']:.3f}", f"{100 * r['test']['mcc']:.1f}"]
             for r in grid])]
    abl = sorted((r for r in rows if r.get("kind") == "ablation"), key=lambda r: r["blocks_replaced"])
    if abl:
        parts += ["", "## Blocks replaced (LKAN SE in the first n stages; 0 = baseline)", "",
                  format_markdown_table(["n", "params", "test MCC ×100"],
                                        [[r["blocks_replaced"], f"{r['params']:,}", f"{100 * r['test']['mcc']:.1f}"]
                                         for r in abl])]
    return "\n".join(parts)


def save_figure(fig: Any, path: Path) -> Path:
    """Lay out, save as PNG (110 dpi) and close a matplotlib figure; returns the path."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


MCC_LABEL = "test MCC × 100"
_VARIANT_COLORS = {"baseline": "tab:blue", "lkan": "tab:orange", "ckan": "tab:green"}


def write_plots(rows: list[dict[str, Any]], out: Path,
                descriptions: dict[str, dict[str, str]] | None = None) -> dict[str, Path]:
    """PNG plots, every one titled, with labelled axes and test MCC x 100 (as the tables): MCC per dataset x
    variant (grouped bars) when the variants are of (nearly) equal size, else MCC vs parameters / FLOPs;
    grid size vs parameters and step time; ablation. Error bars are the std over seeds where a point has
    more than one. `descriptions`, if given, is filled with each plot's title and axis labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths: dict[str, Path] = {}

    def save(name: str, fig: Any, ax: Any, ylabel2: str | None = None) -> None:
        if descriptions is not None:
            descriptions[name] = {"title": ax.get_title(), "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(),
                                  **({"ylabel2": ylabel2} if ylabel2 else {})}
        paths[name] = save_figure(fig, out / f"{name}.png")

    main = [r for r in rows if r.get("kind") == "main" and r.get("test")]
    variants = [v for v in DEEP if any(r["variant"] == v for r in main)]
    datasets = list(dict.fromkeys(str(r.get("dataset", "")) for r in main))
    if main and _nearly_equal(main, "params"):  # equal-size benchmark: a size axis carries no information
        _plot_mcc_by_variant(plt, main, variants, datasets, save)
    for key, label in (("params", "parameters (count)"), ("flops", "FLOPs per sequence")):
        pts = [r for r in main if r.get(key)]
        if not pts or _nearly_equal(main, key):
            continue
        _plot_mcc_vs(plt, pts, variants, key, label, save)
    grid = sorted((r for r in rows if r.get("kind") == "grid"), key=lambda r: r["grid_size"])
    if grid:
        _plot_grid_size(plt, grid, save)
    abl = [r for r in rows if r.get("kind") == "ablation" and r.get("test")]
    if abl:
        _plot_ablation(plt, abl, save)
    return paths


def _mean_std(values: list[float]) -> tuple[float, float, int]:
    import numpy as np

    arr = np.asarray(values, dtype=float)
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else 0.0, len(arr)


def _seeds_note(counts: list[int]) -> str:
    lo, hi = min(counts), max(counts)
    if hi <= 1:
        return "one seed, no error bars"
    return f"mean ± std over {lo if lo == hi else f'{lo}–{hi}'} seeds"


def _nearly_equal(main: list[dict[str, Any]], key: str) -> bool:
    vals = [float(r[key]) for r in main if r.get(key)]
    return bool(vals) and max(vals) <= 1.05 * min(vals)


def _plot_mcc_by_variant(plt: Any, main: list[dict[str, Any]], variants: list[str], datasets: list[str],
                         save: Any) -> None:
    """Grouped bars: test MCC per dataset x variant (for variants of nearly equal size)."""
    import numpy as np

    fig, ax = plt.subplots(figsize=(max(5.0, 1.4 * len(datasets) + 2), 4))
    width = 0.8 / max(1, len(variants))
    counts = []
    for j, v in enumerate(variants):
        stats = [_mean_std([100 * r["test"]["mcc"] for r in main if r["variant"] == v
                            and str(r.get("dataset", "")) == d]) if any(
            r["variant"] == v and str(r.get("dataset", "")) == d for r in main) else (np.nan, 0.0, 0)
            for d in datasets]
        counts += [n for _, _, n in stats if n]
        xs = np.arange(len(datasets)) + (j - (len(variants) - 1) / 2) * width
        ax.bar(xs, [m for m, _, _ in stats], width, yerr=[sd for _, sd, _ in stats], capsize=3, label=v,
               color=_VARIANT_COLORS.get(v))
    params = [float(r["params"]) for r in main]
    ax.set_xticks(np.arange(len(datasets)))
    ax.set_xticklabels(datasets, rotation=30 if len(datasets) > 3 else 0, ha="right" if len(datasets) > 3
                       else "center")
    ax.set_xlabel("dataset")
    ax.set_ylabel(MCC_LABEL)
    ax.axhline(0, color="0.5", lw=0.6)
    ax.legend(title="variant", fontsize=8)
    ax.set_title(f"Test MCC by dataset and variant\n(~{np.mean(params):,.0f} parameters each; "
                 f"{_seeds_note(counts or [1])})", fontsize=9)
    save("mcc_by_variant", fig, ax)


def _plot_mcc_vs(plt: Any, pts: list[dict[str, Any]], variants: list[str], key: str, label: str,
                 save: Any) -> None:
    """Scatter with error bars: test MCC vs `key` (parameters or FLOPs), one series per variant."""
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(5, 4))
    counts = []
    for v in variants:
        groups: dict[Any, list[dict[str, Any]]] = {}
        for r in pts:
            if r["variant"] == v:
                groups.setdefault((r.get("dataset"), r[key]), []).append(r)
        if not groups:
            continue
        stats = [(x, *_mean_std([100 * r["test"]["mcc"] for r in g])) for (_, x), g in groups.items()]
        counts += [n for *_, n in stats]
        ax.errorbar([x for x, *_ in stats], [m for _, m, _, _ in stats], yerr=[sd for _, _, sd, _ in stats],
                    fmt="o", capsize=3, label=v, color=_VARIANT_COLORS.get(v), alpha=0.8)
    xs = [float(r[key]) for r in pts]
    if max(xs) >= 10 * min(xs):
        ax.set_xscale("log")
    else:
        ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 0))
        ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.set_xlabel(label)
    ax.set_ylabel(MCC_LABEL)
    ax.legend(title="variant", fontsize=8)
    ax.set_title(f"Test MCC vs {label.split(' (')[0]} ({_seeds_note(counts)})", fontsize=9)
    save(f"mcc_vs_{key}", fig, ax)


def _plot_grid_size(plt: Any, grid: list[dict[str, Any]], save: Any) -> None:
    """Grid-size sweep: parameters (left axis) and training step time (right axis) vs KAN grid size."""
    from matplotlib.ticker import MaxNLocator

    fig, ax1 = plt.subplots(figsize=(5, 4))
    g = [r["grid_size"] for r in grid]
    h1 = ax1.plot(g, [r["params"] for r in grid], "o-", color="tab:orange", label="parameters")
    ax1.set_xlabel("KAN grid size (intervals)")
    ax1.set_ylabel("parameters (count)")
    ax1.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax2 = ax1.twinx()
    h2 = ax2.plot(g, [r["seconds_per_step"] for r in grid], "s--", color="tab:gray", label="time per step")
    ax2.set_ylabel("training step time (s)")
    ax1.legend(h1 + h2, [h.get_label() for h in h1 + h2], fontsize=8, loc="upper left")
    ax1.set_title("KAN grid size vs parameters and training step time", fontsize=9)
    save("grid_size", fig, ax1, ylabel2=ax2.get_ylabel())


def _plot_ablation(plt: Any, abl: list[dict[str, Any]], save: Any) -> None:
    """Blocks-replaced ablation: test MCC vs number of stages with KAN squeeze-excitation."""
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(5, 4))
    by_blocks: dict[int, list[float]] = {}
    for r in abl:
        by_blocks.setdefault(int(r["blocks_replaced"]), []).append(100 * r["test"]["mcc"])
    keys = sorted(by_blocks)
    stats = [_mean_std(by_blocks[k]) for k in keys]
    ax.errorbar(keys, [m for m, _, _ in stats], yerr=[sd for _, sd, _ in stats], fmt="o-", capsize=3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("stages with KAN squeeze-excitation (count)")
    ax.set_ylabel(MCC_LABEL)
    ax.set_title(f"Blocks-replaced ablation ({_seeds_note([n for *_, n in stats])})", fontsize=9)
    save("ablation", fig, ax)
