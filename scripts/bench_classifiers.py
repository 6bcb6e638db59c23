#!/usr/bin/env python
"""Benchmark LegNet baseline / LKAN / CKAN side by side: params, FLOPs, train-step time, inference, memory.

Two groups, each reported as ratios to its baseline:
  * equal size: every variant scaled to the same parameter count (--size, default 2M; CKAN with KAN
    stem + head as in the paper's figure, and CKAN with every convolution a KAN conv);
  * the authors' configurations: baseline 2.65M, LKAN grid 5 (4.99M), LKAN grid 20 (8.89M), CKAN.
Timings are interleaved (round-robin over the models, median over rounds) so machine load affects all
models alike. Time-boxed by --time-budget. Writes JSON + Markdown into --output-dir.

    nice -n 5 .venv/bin/python scripts/bench_classifiers.py --output-dir bench_results/classifiers

``--training-paths`` instead times training sequences/s of the old path (masked BatchNorm even without
padding, fp32) against the all-ones mask dropped, the new default (that, plus the whole LegNet trunk in
channels-last layout on CPU: ``ChannelsLastConv1d``) and the new path under bf16 autocast, for baseline and LKAN at --size, interleaved
in one run (bench_training_paths.json / .md):

    OMP_NUM_THREADS=1 .venv/bin/python scripts/bench_classifiers.py --training-paths --size 200k --length 101 \
        --batch-size 64 --output-dir bench_results/classifiers
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

from kan_genomics_hf import DNATokenizer, LegNetConfig, LegNetForSequenceClassification, count_parameters, preset_config
from kan_genomics_hf.models.profiling import (
    count_flops_per_sequence,
    inference_seconds,
    make_batch,
    train_step_seconds,
    training_memory_bytes,
)


def build_specs(size: str, num_labels: int) -> list[dict]:
    """(group, name, config) of every benchmarked model."""
    specs = [
        ("equal size " + size, "baseline", preset_config("baseline", size, num_labels=num_labels)),
        ("equal size " + size, "lkan (G5)", preset_config("lkan", size, num_labels=num_labels)),
        ("equal size " + size, "ckan (stem+head)", preset_config("ckan", size, num_labels=num_labels)),
        ("equal size " + size, "ckan (all convs)", preset_config("ckan", size, num_labels=num_labels, ckan_layers=["all"])),
        ("authors' configs", "baseline", LegNetConfig(num_labels=num_labels)),
        ("authors' configs", "lkan (G5)", LegNetConfig(variant="lkan", num_labels=num_labels)),
        ("authors' configs", "lkan (G20)", LegNetConfig(variant="lkan", kan_grid_size=20, num_labels=num_labels)),
        ("authors' configs", "ckan (stem+head)", LegNetConfig(variant="ckan", num_labels=num_labels)),
    ]
    return [{"group": g, "name": n, "config": c} for g, n, c in specs]


def tokenizer_throughput(n: int = 100_000, length: int = 200) -> dict:
    """Seconds to tokenize n random sequences of ``length`` bp into padded tensors (best of 3)."""
    import random

    rng = random.Random(0)
    seqs = ["".join(rng.choices("ACGT", k=length)) for _ in range(n)]
    tok = DNATokenizer()
    best = min(_timed(lambda: tok(seqs, padding=True, return_tensors="pt")) for _ in range(3))
    return {"sequences": n, "length": length, "seconds": best, "sequences_per_s": n / best}


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def fmt_ratio(v: float, base: float) -> str:
    return f"{v / base:.2f}x" if base else "-"


def markdown(rows: list[dict], meta: dict) -> str:
    lines = [
        "# LegNet classifier benchmark",
        "",
        f"{meta['device']}, {meta['threads']} thread(s), batch {meta['batch_size']} x {meta['length']} bp, "
        f"{meta['rounds']} timed round(s) after {meta['warmup']} warm-up, torch {meta['torch']}. "
        "Times are medians of interleaved rounds; ratios are to the baseline of the same group. "
        "FLOPs: matmul/conv FLOPs of one forward per sequence (torch.utils.flop_counter; element-wise "
        "B-spline work is not counted). Memory: activations saved for backward + params/grads/AdamW state.",
        "",
    ]
    for group in dict.fromkeys(r["group"] for r in rows):
        grp = [r for r in rows if r["group"] == group]
        base = grp[0]
        lines += [
            f"## {group}",
            "",
            "| model | block sizes | params | FLOPs/seq | train step (s) | train ratio | inference (seq/s) "
            "| inference time ratio | train memory (MB) | memory ratio |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in grp:
            lines.append(
                f"| {r['name']} | {','.join(map(str, r['block_sizes']))} | {r['params']:,} | {r['flops_per_seq'] / 1e6:,.1f}M "
                f"({fmt_ratio(r['flops_per_seq'], base['flops_per_seq'])}) | {r['train_step_s']:.3f} | "
                f"{fmt_ratio(r['train_step_s'], base['train_step_s'])} | {r['inference_seq_per_s']:,.0f} | "
                f"{fmt_ratio(base['inference_seq_per_s'], r['inference_seq_per_s'])} | "
                f"{r['train_memory_mb']:.0f} | {fmt_ratio(r['train_memory_mb'], base['train_memory_mb'])} |"
            )
        lines.append("")
    t = meta["tokenizer"]
    fastest = max(r["inference_seq_per_s"] for r in rows)
    lines.append(
        f"Tokenizer: {t['sequences']:,} x {t['length']} bp -> padded tensors in {t['seconds']:.2f} s "
        f"({t['sequences_per_s']:,.0f} sequences/s = {t['sequences_per_s'] / fastest:.0f}x the fastest model's "
        "inference rate above)."
    )
    return "\n".join(lines)


TRAINING_PATHS = {  # name -> (drop an all-ones mask, channels-last layout on CPU, bf16 autocast)
    "old (masked BN, fp32)": (False, False, False),
    "no mask, fp32": (True, False, False),
    "new (no mask + channels-last layout, fp32; default)": (True, True, False),
    "new + bf16 autocast": (True, True, True),
}


def _path_step(config, batch: dict, bf16: bool):
    """A closure running one training step (forward, backward, AdamW) of a fresh model."""
    import contextlib

    torch.manual_seed(0)
    model = LegNetForSequenceClassification(config)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step() -> None:
        ctx = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
        with ctx:
            loss = model(**batch).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    return step


def training_paths(args) -> int:
    """Old vs new training path, interleaved rounds, median sequences/s and ratio to the old path."""
    from kan_genomics_hf.modeling.modeling_legnet import ChannelsLastConv1d, LegNetModel

    torch.set_num_threads(args.threads)
    batch = make_batch(args.batch_size, args.length, args.num_labels)
    rows = []
    for variant in ("baseline", "lkan"):
        cfg = preset_config(variant, args.size, num_labels=args.num_labels)
        steps = {name: _path_step(cfg, batch, bf16) for name, (_, _, bf16) in TRAINING_PATHS.items()}
        times: dict[str, list[float]] = {name: [] for name in TRAINING_PATHS}
        for r in range(args.warmup + args.rounds):
            for name, (drop, channels_last, _) in TRAINING_PATHS.items():
                LegNetModel.drop_full_mask = drop
                ChannelsLastConv1d.cpu_channels_last = channels_last
                t = _timed(lambda fn=steps[name]: [fn() for _ in range(3)]) / 3
                if r >= args.warmup:
                    times[name].append(t)
        LegNetModel.drop_full_mask = ChannelsLastConv1d.cpu_channels_last = True
        old = statistics.median(times["old (masked BN, fp32)"])
        for name in TRAINING_PATHS:
            med = statistics.median(times[name])
            rows.append({"variant": variant, "path": name, "step_s": med, "seq_per_s": args.batch_size / med,
                         "ratio_to_old": old / med, "times": times[name]})
    meta = {"threads": args.threads, "batch_size": args.batch_size, "length": args.length, "size": args.size,
            "rounds": args.rounds, "torch": torch.__version__, "cpu": platform.processor() or platform.machine(),
            "command": " ".join(["python", "scripts/bench_classifiers.py", *sys.argv[1:]])}
    lines = ["# Training throughput: old path vs new path", "",
             f"{meta['size']} preset, batch {meta['batch_size']} x {meta['length']} bp, {meta['threads']} thread, "
             f"median of {meta['rounds']} interleaved rounds (3 steps each), torch {meta['torch']}.",
             f"Command: `{meta['command']}`", "",
             "| variant | path | step (ms) | training seq/s | ratio to old |", "|---|---|---:|---:|---:|"]
    lines += [f"| {r['variant']} | {r['path']} | {r['step_s'] * 1000:.0f} | {r['seq_per_s']:.0f} | {r['ratio_to_old']:.2f}x |"
              for r in rows]
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_training_paths.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    (out / "bench_training_paths.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", default="2M", help="equal-size preset (e.g. 50k, 1M, 2M)")
    p.add_argument("--length", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--num-labels", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3, help="timed rounds (each times every model once)")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--time-budget", type=float, default=540.0, help="seconds; stop adding rounds after this")
    p.add_argument("--only", nargs="*", default=None, help="substring filter on group/name")
    p.add_argument("--output-dir", default="bench_results/classifiers")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--training-paths", action="store_true", help="time old vs new training path only")
    args = p.parse_args(argv)
    if args.training_paths:
        return training_paths(args)

    start = time.perf_counter()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    specs = build_specs(args.size, args.num_labels)
    if args.only:
        specs = [s for s in specs if any(k in f"{s['group']} {s['name']}" for k in args.only)]
    batch = make_batch(args.batch_size, args.length, args.num_labels, device=device)
    models, opts, rows = [], [], []
    for spec in tqdm(specs, desc="build + FLOPs + memory"):
        model = LegNetForSequenceClassification(spec["config"]).to(device)
        params = sum(p.numel() for p in model.parameters())
        assert params == count_parameters(spec["config"])
        mem = training_memory_bytes(model, batch)
        rows.append({
            "group": spec["group"], "name": spec["name"], "variant": spec["config"].variant,
            "block_sizes": spec["config"].block_sizes, "params": params,
            "flops_per_seq": count_flops_per_sequence(model, args.length),
            "train_memory_mb": mem["total"] / 2**20, "activation_memory_mb": mem["activations"] / 2**20,
            "train_times": [], "infer_times": [],
        })
        models.append(model)
        opts.append(torch.optim.AdamW(model.parameters(), lr=1e-4))
    tok_stats = tokenizer_throughput(length=args.length)
    rounds_done = 0
    total = args.warmup + args.rounds
    for r in tqdm(range(total), desc="interleaved timing rounds"):
        for model, opt, row in zip(models, opts, rows):
            t_train = train_step_seconds(model, opt, batch)
            t_inf = inference_seconds(model, batch)
            if r >= args.warmup:
                row["train_times"].append(t_train)
                row["infer_times"].append(t_inf)
        if r >= args.warmup:
            rounds_done += 1
        if rounds_done and time.perf_counter() - start > args.time_budget:
            print(f"time budget {args.time_budget:.0f}s reached after {rounds_done} timed round(s)", file=sys.stderr)
            break
    for row in rows:
        row["train_step_s"] = statistics.median(row["train_times"])
        row["inference_seq_per_s"] = args.batch_size / statistics.median(row["infer_times"])
    for group in dict.fromkeys(r["group"] for r in rows):
        grp = [r for r in rows if r["group"] == group]
        for r in grp:
            r["ratios_to_baseline"] = {
                "params": r["params"] / grp[0]["params"],
                "flops_per_seq": r["flops_per_seq"] / grp[0]["flops_per_seq"],
                "train_step": r["train_step_s"] / grp[0]["train_step_s"],
                "inference_time": grp[0]["inference_seq_per_s"] / r["inference_seq_per_s"],
                "train_memory": r["train_memory_mb"] / grp[0]["train_memory_mb"],
            }
    meta = {
        "device": str(device) if device.type == "cuda" else f"CPU ({platform.processor() or platform.machine()})",
        "threads": args.threads, "batch_size": args.batch_size, "length": args.length, "rounds": rounds_done,
        "warmup": args.warmup, "torch": torch.__version__, "size": args.size, "wall_s": time.perf_counter() - start,
        "tokenizer": tok_stats,
        "command": " ".join([os.path.basename(sys.executable), "scripts/bench_classifiers.py", *(argv or sys.argv[1:])]),
    }
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_classifiers.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    md = markdown(rows, meta)
    (out / "bench_classifiers.md").write_text(md + "\n")
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
