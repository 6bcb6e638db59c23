#!/usr/bin/env python
"""Screen model options and recipe choices on GUE validation splits (dev.csv only; test is never read for
selection). Each run is one `kan-genomics train` call (1 thread); finished runs are appended to
<out>/runs.jsonl, so rerunning resumes. --shard i/n runs every n-th job (parallel shards share the file).
--summarize writes summary.md: validation MCC mean +- std per option and task, and the paired difference
to the reference arm of the same variant (same task, same seed).

    OMP_NUM_THREADS=1 python scripts/recipe_search.py --data-dir ../shared/data/gue --shard 0/2 &
    OMP_NUM_THREADS=1 python scripts/recipe_search.py --data-dir ../shared/data/gue --shard 1/2 &
    python scripts/recipe_search.py --summarize
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

COMMON = ["--size", "200k", "--epochs", "5", "--batch-size", "64", "--lr", "5e-3", "--scheduler", "onecycle",
          "--mixed-precision", "bf16", "--patience", "3", "--threads", "1", "--no-progress", "--no-baselines"]
# `--common cpu-full`: the settings of `kan-genomics benchmark --preset cpu-full` (the final-table recipe; exact fp32,
# full training sets)
COMMON_CPU_FULL = ["--size", "200k", "--epochs", "4", "--batch-size", "64", "--lr", "5e-3", "--scheduler", "onecycle",
                   "--weight-decay", "0.005", "--mixed-precision", "no", "--patience", "2", "--threads", "1",
                   "--no-progress", "--no-baselines"]
# `--common cpu-full-bf16`: that recipe as the cpu-full, budget and precision screens ran it (bf16 autocast, training
# sets capped at 20,000 rows: the benchmark preset until it moved to fp32 on full sets); later flags win
COMMON_CPU_FULL_BF16 = [*COMMON_CPU_FULL, "--mixed-precision", "bf16", "--max-train", "20000"]
COMMONS = {"screen": COMMON, "cpu-full": COMMON_CPU_FULL, "cpu-full-bf16": COMMON_CPU_FULL_BF16}
LN = ["--config", "kan_input_norm=layernorm"]
TANH = ["--config", "kan_input_norm=tanh"]
# arm -> (variant, extra flags); "ref" is the reference each arm of a variant is paired with
ARMS: dict[str, tuple[str, list[str]]] = {
    "baseline/ref": ("baseline", []),
    "lkan/ref": ("lkan", []),
    "lkan/norm=layernorm": ("lkan", ["--config", "kan_input_norm=layernorm"]),
    "lkan/norm=tanh": ("lkan", TANH),
    "lkan/grid_update=epochs:1": ("lkan", ["--grid-update", "epochs:1"]),
    "lkan/spline_lr_x0.3": ("lkan", ["--spline-lr-scale", "0.3"]),
    "lkan/rc_aug+rc_eval": ("lkan", ["--rc-augment", "0.5", "--rc-eval"]),
    "lkan/ema0.99": ("lkan", ["--ema-decay", "0.99"]),
    "lkan/label_smoothing0.1": ("lkan", ["--label-smoothing", "0.1"]),
    "baseline/rc_aug+rc_eval": ("baseline", ["--rc-augment", "0.5", "--rc-eval"]),
    # on top of LayerNorm (the cpu-full LKAN): grid [-2, 2] covers the ~N(0, 1) LayerNorm output
    "lkan/norm=layernorm+range=2": ("lkan", [*LN, "--config", "kan_grid_range=[-2.0,2.0]"]),
    "lkan/norm=layernorm+spline_lr_x3": ("lkan", [*LN, "--spline-lr-scale", "3"]),
    "lkan/norm=layernorm+grid=3": ("lkan", [*LN, "--config", "kan_grid_size=3"]),
    # on top of tanh (the recommended LKAN after the cpu-full screen)
    "lkan/norm=tanh+spline_lr_x3": ("lkan", [*TANH, "--spline-lr-scale", "3"]),
    "lkan/norm=tanh+ema0.99": ("lkan", [*TANH, "--ema-decay", "0.99"]),
    "lkan/norm=tanh+label_smoothing0.1": ("lkan", [*TANH, "--label-smoothing", "0.1"]),
    "lkan/norm=batchnorm": ("lkan", ["--config", "kan_input_norm=batchnorm"]),
    "lkan/norm=tanh+spline_wd0": ("lkan", [*TANH, "--spline-weight-decay", "0"]),
    "lkan/norm=tanh+spline_init_x5": ("lkan", [*TANH, "--config", "kan_scale_noise=0.5"]),
    "lkan/norm=tanh+shift_aug3": ("lkan", [*TANH, "--shift-augment", "3"]),
    "lkan/norm=tanh+batch32": ("lkan", [*TANH, "--batch-size", "32"]),  # later flags win over COMMON's
    "lkan/norm=tanh+batch128": ("lkan", [*TANH, "--batch-size", "128"]),
    # the budget: 10 epochs (OneCycle over 10), patience 3, on top of `--common cpu-full-bf16` (4 epochs, patience 2)
    "baseline/epochs10": ("baseline", ["--epochs", "10", "--patience", "3"]),
    "lkan/norm=tanh+epochs10": ("lkan", [*TANH, "--epochs", "10", "--patience", "3"]),
    # the precision: exact fp32 instead of `--common cpu-full-bf16`'s bf16 autocast (as fast since the channels-last trunk)
    "baseline/fp32": ("baseline", ["--mixed-precision", "no"]),
    "lkan/norm=tanh+fp32": ("lkan", [*TANH, "--mixed-precision", "no"]),
    "ckan/fp32": ("ckan", ["--mixed-precision", "no"]),
    # where LKAN's parameters go (on top of tanh, `--common cpu-full`): at 200k half of them are SE KANLinear weights,
    # 54k in the first stage alone, so the convolutions are narrower than the baseline's. Cheaper KAN SE = more width:
    # grid 3 (8 coefficients per edge instead of 10), an MLP SE in the first stage (KAN SE in stages 1-6), or both
    "lkan/norm=tanh+grid=3": ("lkan", [*TANH, "--config", "kan_grid_size=3"]),
    "lkan/norm=tanh+kan_blocks=1-6": ("lkan", [*TANH, "--config", "kan_blocks=[1,2,3,4,5,6]"]),
    "lkan/norm=tanh+grid=3+kan_blocks=1-6": ("lkan", [*TANH, "--config", "kan_grid_size=3",
                                                       "--config", "kan_blocks=[1,2,3,4,5,6]"]),
    # CKAN's head KANConv1d takes SiLU outputs, ~5 % of them beyond its extended grid (zero spline, zero gradient):
    # the tanh squashing that LKAN's SE KANs got, on every KANConv1d input (paired with ckan/ref)
    "ckan/ref": ("ckan", []),
    "ckan/conv_norm=tanh": ("ckan", ["--config", "kan_conv_input_norm=tanh"]),
}
TASKS = ["mouse_2", "mouse_0"]
SEEDS = [0, 1]


def jobs(arms, tasks, seeds):
    return [(t, a, s) for t in tasks for s in seeds for a in arms]


def load(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def run_job(task: str, arm: str, seed: int, args) -> dict:
    variant, extra = ARMS[arm]
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "kan_genomics_hf.cli", "train", "--dataset", f"gue/{task}", "--data-dir",
               args.data_dir, "--variant", variant, "--seed", str(seed), "--output-dir", tmp, *COMMONS[args.common],
               *extra]
        if args.max_train:
            cmd += ["--max-train", str(args.max_train)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        if proc.returncode:
            raise RuntimeError(f"{task} {arm} seed {seed} failed: {proc.stderr.strip().splitlines()[-1:]}")
        res = json.loads((Path(tmp) / "results.json").read_text())
        log = [json.loads(x) for x in (Path(tmp) / "train_log.jsonl").read_text().splitlines()]
    kan = [r for r in log if r.get("split") == "kan"]
    return {"task": task, "arm": arm, "variant": variant, "seed": seed, "val_mcc": res["best_validation"]["mcc"],
            "best_epoch": res["best_epoch"], "train_seconds": res["train_seconds"],
            "last_mean_out_of_grid": kan[-1].get("mean_out_of_grid") if kan else None,
            "flags": [*COMMONS[args.common], *extra]}


def _ref(arm: str, refs: dict[str, str]) -> str:
    variant = arm.split("/")[0]
    return refs.get(variant, variant + "/ref")


def summarize(out: Path, refs: dict[str, str] | None = None) -> str:
    refs = refs or {}
    rows = load(out / "runs.jsonl")
    by = {(r["task"], r["arm"], r["seed"]): r["val_mcc"] * 100 for r in rows}
    tasks = sorted({r["task"] for r in rows})
    base = _ref("baseline/", refs)  # the baseline's reference arm: the last column pairs every arm with it
    arms = [a for a in ARMS if any(r["arm"] == a for r in rows)] + sorted({r["arm"] for r in rows} - set(ARMS))
    lines = ["| task | arm | n seeds | val MCC mean ± std | paired diff vs ref (mean ± std) | seeds won | "
             f"paired diff vs {base} |", "|---|---|---:|---:|---:|---:|---:|"]
    for t in tasks:
        for a in arms:
            vals = [v for (tt, aa, s), v in sorted(by.items()) if tt == t and aa == a]
            if not vals:
                continue
            ref = _ref(a, refs)
            diffs = [by[(t, a, s)] - by[(t, ref, s)] for (tt, aa, s) in sorted(by) if tt == t and aa == a
                     and (t, ref, s) in by]
            sd = statistics.stdev(vals) if len(vals) > 1 else float("nan")
            dtxt = "-" if a == ref or not diffs else (
                f"{statistics.mean(diffs):+.1f} ± {statistics.stdev(diffs) if len(diffs) > 1 else math.nan:.1f}")
            won = "-" if a == ref or not diffs else f"{sum(d > 0 for d in diffs)}/{len(diffs)}"
            vb = [by[(t, a, s)] - by[(t, base, s)] for (tt, aa, s) in sorted(by) if tt == t and aa == a
                  and (t, base, s) in by]
            btxt = "-" if a == base or not vb else (
                f"{statistics.mean(vb):+.1f} ± {statistics.stdev(vb) if len(vb) > 1 else math.nan:.1f} "
                f"({sum(d > 0 for d in vb)}/{len(vb)})")
            lines.append(f"| {t} | {a} | {len(vals)} | {statistics.mean(vals):.1f} ± {sd:.1f} | {dtxt} | {won} | {btxt} |")
    return "\n".join(lines)


def summary_markdown(out: Path, args) -> str:
    """summary.md: what was run (rows, sizes, epochs, seeds, threads, hardware, command) and the table."""
    rows = load(out / "runs.jsonl")
    secs = [r["train_seconds"] for r in rows]
    head = [
        "# Recipe and KAN-option screen on GUE validation splits", "",
        "Selection uses the validation split (dev.csv) only; the test split was not read by this screen.", "",
        f"- Tasks: {', '.join(sorted({r['task'] for r in rows}))}; "
        + (f"training set subsampled to {args.max_train} rows (seeded), " if args.max_train else
           "full training sets (no subsampling), ") + "full validation split.",
        "- Model size: 200k parameters for every arm (`preset_config(variant, '200k')`, equal count across variants).",
        f"- Common flags (`--common {args.common}`): `{' '.join(COMMONS[args.common])}`.",
        f"- Seeds: {sorted({r['seed'] for r in rows})}; {len(rows)} runs; 1 thread each, 2 runs in parallel on a "
        f"shared 2-core {platform.machine()} machine (other jobs running; seconds are not comparable across runs).",
        f"- Run time per run: {min(secs):.0f}-{max(secs):.0f} s." if secs else "",
        f"- Arms: {', '.join(sorted({r['arm'] for r in rows}))}.",
        "- Command: `OMP_NUM_THREADS=1 python scripts/recipe_search.py --data-dir ../shared/data/gue --tasks "
        f"{' '.join(sorted({r['task'] for r in rows}))} --arms <arms> --output-dir {args.output_dir} "
        f"--common {args.common}" + (" --reference " + " ".join(args.reference) if args.reference else "")
        + (f" --max-train {args.max_train}" if args.max_train else "")
        + " --shard i/2` (two shards, i = 0, 1), then the same with `--summarize`.",
        "- Each arm changes one thing relative to its reference arm (`<variant>/ref` unless "
        f"`--reference` names one: {', '.join(args.reference) or 'none'}); the paired difference is arm − reference "
        "on the same task and seed (validation MCC × 100).", "",
    ]
    return "\n".join(head + [summarize(out, _refs(args)), ""])


def _refs(args) -> dict[str, str]:
    return {arm.split("/")[0]: arm for arm in args.reference}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", default="../shared/data/gue")
    p.add_argument("--output-dir", default="bench_results/gue_recipe_search")
    p.add_argument("--arms", nargs="*", default=list(ARMS))
    p.add_argument("--tasks", nargs="*", default=TASKS)
    p.add_argument("--seeds", nargs="*", type=int, default=SEEDS)
    p.add_argument("--max-train", type=int, default=None, help="subsample training rows (large tasks)")
    p.add_argument("--shard", default="0/1", help="i/n: run every n-th job starting at i")
    p.add_argument("--common", choices=sorted(COMMONS), default="screen",
                   help="shared flags: screen (5 epochs, patience 3) or cpu-full (the benchmark preset's recipe)")
    p.add_argument("--reference", nargs="*", default=[],
                   help="arms the others of their variant are paired with (default <variant>/ref)")
    p.add_argument("--summarize", action="store_true")
    args = p.parse_args()
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    if args.summarize:
        text = summary_markdown(out, args)
        (out / "summary.md").write_text(text)
        print(text)
        return 0
    i, n = (int(v) for v in args.shard.split("/"))
    done = {(r["task"], r["arm"], r["seed"]) for r in load(out / "runs.jsonl")}
    for k, (task, arm, seed) in enumerate(jobs(args.arms, args.tasks, args.seeds)):
        if k % n != i or (task, arm, seed) in done:
            continue
        row = run_job(task, arm, seed, args)
        row["hardware"] = f"{platform.machine()} CPU, 1 thread"
        with open(out / "runs.jsonl", "a") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
