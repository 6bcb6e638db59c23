"""Summarise the validation screen of diffusion training options (JSON lines written by the screening runs) into
screening.json / screening.md / screening.png under bench_results/generation.

Each line: {"name", "over" (the DiffusionTrainingConfig values changed from the screen's base), "n_per_class",
"steps", "params", "train_cpu_s", "val_loss_ema", "rows": {"<sampler><steps>_w<guidance>": metrics}} with metrics
= mean over the 4 cell types of kmer_js_3/4/6, motif_kl, gc_wasserstein, diversity, own_class against chr9.

Usage: python scripts/summarize_generation_screen.py SCREEN.jsonl REFERENCES.json OUT_DIR
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

KEYS = ("kmer_js_4", "kmer_js_6", "motif_kl", "gc_wasserstein", "own_class")


def main(argv=None) -> int:
    argv = argv or sys.argv[1:]
    screen = [json.loads(line) for line in Path(argv[0]).read_text().splitlines() if line.strip()]
    refs = json.loads(Path(argv[1]).read_text())
    out = Path(argv[2])
    rows = []
    for rec in screen:
        for sampler, m in rec["rows"].items():
            rows.append({"run": rec["name"], "changes": rec["over"], "sampler": sampler, "steps": rec["steps"],
                         "n_per_class": rec["n_per_class"],
                         "params": rec["params"], "train_cpu_min": rec["train_cpu_s"] / 60,
                         "val_loss_ema": rec.get("val_loss_ema"), **{k: m[k] for k in KEYS},
                         "sample_cpu_s": m.get("sample_cpu_s")})
    (out / "screening.json").write_text(json.dumps({"references": refs, "rows": rows}, indent=1))
    head = ["run", "changes vs base", "sampler", "steps", "train CPU min", "val loss (EMA)", *KEYS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, m in refs.items():
        lines.append(f"| {name} | reference | - | - | - | - | " + " | ".join(f"{m[k]:.4f}" for k in KEYS) + " |")
    for r in rows:
        ch = ", ".join(f"{k}={v}" for k, v in r["changes"].items() if not k.startswith("_")) or "(base)"
        vl = "" if r["val_loss_ema"] is None else f"{r['val_loss_ema']:.4f}"
        lines.append(f"| {r['run']} | {ch} | {r['sampler']} | {r['steps']} | {r['train_cpu_min']:.1f} | {vl} | "
                     + " | ".join(f"{r[k]:.4f}" for k in KEYS) + " |")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8))
    labels = [f"{r['run']} {r['sampler']} n={r['n_per_class']}" for r in rows]
    x = np.arange(len(rows))
    for ax, key, unit in zip(axes, ("kmer_js_4", "motif_kl", "own_class"),
                             ("4-mer JS divergence (bits)", "motif-frequency KL (nats)", "own-class fraction")):
        ax.bar(x, [r[key] for r in rows], color="#4c72b0")
        ax.axhline(refs["real"][key], color="green", label="real (training chromosomes) vs chr9, n=128")
        ax.axhline(refs["shuffled"][key], color="red", ls="--", label="shuffled real vs chr9, n=128")
        if key == "kmer_js_4":
            ax.axhline(refs["shuffled"][key] / 2, color="orange", ls=":", label="target: half shuffled")
        if key == "own_class":
            ax.axhline(0.375, color="orange", ls=":", label="target: 1.5 x chance")
            ax.axhline(0.25, color="grey", ls=":", label="chance")
        ax.set_xticks(x, labels, rotation=60, ha="right", fontsize=7)
        ax.set_ylabel(unit)
        ax.set_title(key, fontsize=10)
        ax.legend(fontsize=7)
    fig.suptitle("Validation screen (chr9; n per cell type in each label; one seed; mean over 4 cell types)",
                 fontsize=11)
    fig.tight_layout()
    fig.savefig(out / "screening.png", dpi=110)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
