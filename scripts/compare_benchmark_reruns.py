#!/usr/bin/env python
"""One variant rerun with a new configuration, against its runs in earlier `kan-genomics benchmark` folders:
paired by dataset and seed/fold, on one split (validation by default, so a configuration can be chosen before
its test figures are read). Writes <output-dir>/comparison.md and .json (validation MCC x 100, new − old, 95 % t
interval, runs ahead, pooled over the datasets); the test field of the rows is not read unless --split test.

    python scripts/compare_benchmark_reruns.py --variant ckan \
        --before bench_results/gue_cpu_full_fp32/shard_{a,b,c,d} \
        --after bench_results/gue_cpu_full_fp32_ckan_tanh/shard_{e,f} \
        --output-dir bench_results/gue_cpu_full_fp32_ckan_tanh
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kan_genomics_hf.evaluation.report import paired_differences  # noqa: E402
from kan_genomics_hf.experiments.benchmark import load_rows  # noqa: E402


def _rows(folders: list[str], variant: str, label: str) -> list[dict]:
    merged: dict[str, dict] = {}
    for folder in folders:  # later folders replace earlier ones, as `benchmark --merge` does
        for r in load_rows(Path(folder)):
            if r.get("kind") == "main" and r.get("variant") == variant:
                merged[r["run_key"]] = {**r, "variant": label}
    return list(merged.values())


def compare(before: list[str], after: list[str], variant: str, split: str, metric: str = "mcc") -> dict:
    old, new = _rows(before, variant, "before"), _rows(after, variant, "after")
    if not new:
        raise SystemExit(f"no {variant} runs in {after}: nothing to compare")
    stats = paired_differences(old + new, a="after", b="before", metric=metric, pooled=True, split=split)
    means = {tag: {} for tag in ("before", "after")}
    for tag, rows in (("before", old), ("after", new)):
        for r in rows:
            means[tag].setdefault(r["dataset"], []).append(100 * r[split][metric])
    return {"variant": variant, "split": split, "metric": metric, "before": before, "after": after,
            "overrides_after": sorted({json.dumps(r.get("config_overrides", {}), sort_keys=True) for r in new}),
            "paired": stats, "values": means}


def _mean(values: list[float] | None) -> str:
    return f"{sum(values) / len(values):.1f}" if values else ""


def markdown(result: dict) -> str:
    s, m = result["split"], result["metric"]
    lines = [f"# {result['variant']} rerun against its earlier runs ({s} {m.upper()} × 100, paired by seed)", "",
             f"- Before: {', '.join(result['before'])}", f"- After: {', '.join(result['after'])} "
             f"(config overrides {', '.join(result['overrides_after'])})", "",
             "| dataset | runs | before (mean) | after (mean) | after − before | std | 95 % interval | runs ahead |",
             "|---|---:|---:|---:|---:|---:|---|---:|"]
    for ds, d in result["paired"].items():
        b, a = result["values"]["before"].get(ds), result["values"]["after"].get(ds)
        lines.append(f"| {ds} | {d['n']} | {_mean(b)} | {_mean(a)} | {d['mean']:+.1f} | "
                     + (f"{d['std']:.1f} | [{d['lo']:+.1f}, {d['hi']:+.1f}]" if d["n"] > 1 else "n/a | n/a")
                     + f" | {d['wins']}/{d['n']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--variant", required=True, choices=("baseline", "lkan", "ckan"))
    p.add_argument("--before", nargs="+", required=True, help="benchmark folders with the earlier runs")
    p.add_argument("--after", nargs="+", required=True, help="benchmark folders with the rerun")
    p.add_argument("--split", default="validation", choices=("validation", "test"))
    p.add_argument("--output-dir", help="write comparison.md / .json here (else print only)")
    args = p.parse_args(argv)
    result = compare(args.before, args.after, args.variant, args.split)
    text = markdown(result)
    print(text)
    if args.output_dir:
        out = Path(args.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "comparison.md").write_text(text)
        (out / "comparison.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
