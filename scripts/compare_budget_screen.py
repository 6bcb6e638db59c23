#!/usr/bin/env python
"""LKAN − baseline under two `cpu-full` variations, on validation only: the arms of a `recipe_search.py`
screen whose name ends in ``--arm-suffix`` (default ``epochs10``: the budget screen) against the 4-epoch
`cpu-full` runs of `kan-genomics benchmark` folders (the screen's own 4-epoch arms `baseline/ref` /
`lkan/norm=tanh` replace those, and the script counts how many are bit-identical to the benchmark's).
Paired by task and seed; validation MCC x 100.

    python scripts/compare_budget_screen.py --screen bench_results/gue_recipe_search/budget_screen \
        --benchmark bench_results/gue_cpu_full/shard_a bench_results/gue_cpu_full/shard_b \
        bench_results/gue_cpu_full_tanh/shard_c bench_results/gue_cpu_full_tanh/shard_d
    python scripts/compare_budget_screen.py --arm-suffix fp32 --label fp32 --screen ... --benchmark ...
"""
from __future__ import annotations

import argparse
import json
import math
import statistics as st
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kan_genomics_hf.evaluation.report import t_quantile_975  # noqa: E402
from kan_genomics_hf.experiments.benchmark import load_rows  # noqa: E402

VARIANTS = ("baseline", "lkan", "ckan")


def _ms(v: list[float], sign: bool = False) -> str:
    f = "+.1f" if sign else ".1f"
    return f"{st.mean(v):{f}} ± {st.stdev(v):.1f}" if len(v) > 1 else f"{v[0]:{f}}"


def _ci(d: list[float]) -> str:
    if len(d) < 2:
        return ""
    h = t_quantile_975(len(d) - 1) * st.stdev(d) / math.sqrt(len(d))
    return f" [{st.mean(d) - h:+.1f}, {st.mean(d) + h:+.1f}]"


def compare(screen: Path, benchmark: list[Path], suffix: str = "epochs10", label: str = "10 ep") -> str:
    val4: dict[tuple, tuple[float, int]] = {}
    secs4: dict[tuple, float] = {}
    for folder in benchmark:  # later folders replace earlier ones, as `benchmark --merge` does
        for r in load_rows(folder):
            if r.get("kind") == "main" and r["variant"] in VARIANTS:
                key = (r["dataset"].split("/")[-1], r["variant"], r["seed"])
                val4[key] = (r["validation"]["mcc"] * 100, r["best_epoch"])
                if r.get("train_seconds"):
                    secs4[key] = r["train_seconds"]
    rows = [json.loads(line) for line in (screen / "runs.jsonl").read_text().splitlines() if line.strip()]
    val10 = {(r["task"], r["variant"], r["seed"]): (r["val_mcc"] * 100, r["best_epoch"]) for r in rows
             if r["arm"].endswith(suffix)}
    same = differ = 0
    for r in rows:
        if r["arm"] in ("baseline/ref", "lkan/norm=tanh"):
            key = (r["task"], r["variant"], r["seed"])
            if key in val4:
                same += val4[key][0] == r["val_mcc"] * 100
                differ += val4[key][0] != r["val_mcc"] * 100
            val4[key] = (r["val_mcc"] * 100, r["best_epoch"])
    lines = [f"4-epoch reruns in the screen: {same} bit-identical to the benchmark's validation MCC, {differ} "
             "different.", "",
             f"| task | seeds | baseline 4 ep | LKAN 4 ep | LKAN − baseline, 4 ep (runs ahead) | baseline {label} | "
             f"LKAN {label} | LKAN − baseline, {label} (runs ahead) | {label} − 4 ep: baseline / LKAN |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    pooled: dict[str, list[float]] = {"d4": [], "d10": [], "eb": [], "el": []}
    for task in sorted({k[0] for k in val10}):
        seeds = sorted(s for (t, v, s) in val10 if t == task and v == "lkan"
                       and all(k in d for d in (val4, val10) for k in ((t, "baseline", s), (t, "lkan", s))))
        if not seeds:
            continue
        b4, l4, b10, l10 = ([src[(task, v, s)][0] for s in seeds]
                            for src, v in ((val4, "baseline"), (val4, "lkan"), (val10, "baseline"), (val10, "lkan")))
        d4 = [a - b for a, b in zip(l4, b4)]
        d10 = [a - b for a, b in zip(l10, b10)]
        eb = [a - b for a, b in zip(b10, b4)]
        el = [a - b for a, b in zip(l10, l4)]
        for k, v in (("d4", d4), ("d10", d10), ("eb", eb), ("el", el)):
            pooled[k] += v
        lines.append(f"| {task} | {len(seeds)} | {_ms(b4)} | {_ms(l4)} | {_ms(d4, True)} ({sum(d > 0 for d in d4)}/"
                     f"{len(d4)}) | {_ms(b10)} | {_ms(l10)} | {_ms(d10, True)} ({sum(d > 0 for d in d10)}/{len(d10)})"
                     f" | {st.mean(eb):+.1f} / {st.mean(el):+.1f} |")
    p = pooled
    lines.append(f"| pooled (95 % t interval) | {len(p['d4'])} | | | {_ms(p['d4'], True)}{_ci(p['d4'])} "
                 f"({sum(d > 0 for d in p['d4'])}/{len(p['d4'])}) | | | {_ms(p['d10'], True)}{_ci(p['d10'])} "
                 f"({sum(d > 0 for d in p['d10'])}/{len(p['d10'])}) | {_ms(p['eb'], True)} / {_ms(p['el'], True)} |")
    best10 = [v[1] for v in val10.values()]
    last4 = [val4[k][1] == 4 for k in val10 if k in val4]
    mine = [r for r in rows if r["arm"].endswith(suffix)]
    ratios = {v: [r["train_seconds"] / secs4[(r["task"], v, r["seed"])] for r in mine
                  if r["variant"] == v and r.get("train_seconds") and (r["task"], v, r["seed"]) in secs4]
              for v in VARIANTS}
    if any(ratios.values()):
        lines += ["", f"Training seconds, {label} run / the paired benchmark run (mean of per-run ratios): "
                  + ", ".join(f"{v} {st.mean(x):.2f}x ({len(x)} runs)" for v, x in ratios.items() if x) + "."]
    shifts = {v: [r["val_mcc"] * 100 - val4[(r["task"], v, r["seed"])][0] for r in mine
                  if r["variant"] == v and (r["task"], v, r["seed"]) in val4] for v in VARIANTS}
    if any(shifts.values()):
        lines += ["", f"Validation MCC, {label} run − the paired 4-epoch run, all tasks pooled: "
                  + ", ".join(f"{v} {_ms(x, True)} ({len(x)} runs)" for v, x in shifts.items() if x) + "."]
    last = " (10 = the last allowed)" if suffix == "epochs10" else ""
    lines += ["", f"Best epoch of the {label} runs: {sorted(best10)}{last}. 4-epoch runs of the "
              f"same tasks and seeds whose best epoch was the last allowed one: {sum(last4)}/{len(last4)}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--screen", required=True, help="recipe_search output folder with the compared arms")
    p.add_argument("--arm-suffix", default="epochs10", help="compare the arms whose name ends with this")
    p.add_argument("--label", default="10 ep", help="column label of those arms")
    p.add_argument("--benchmark", nargs="+", required=True, help="benchmark folders (runs.jsonl), merged in order")
    args = p.parse_args(argv)
    print(compare(Path(args.screen), [Path(b) for b in args.benchmark], args.arm_suffix, args.label))
    return 0


if __name__ == "__main__":
    sys.exit(main())
