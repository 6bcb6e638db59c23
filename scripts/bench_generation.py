"""Benchmark baseline / LKAN / CKAN KANUNet1D generators on the DNA-Diffusion DHS data (CPU, `train-diffusion` preset).

For each variant: train with the preset (default `cpu`; chr9 validation, chr8 never seen, per-variant widths for an
equal parameter count), sample `--per-class` sequences per cell type with DDIM (`--ddim-steps`) and DDPM over all
T steps, time both samplers, and score every cell type's samples against `--per-class` held-apart sequences of that
cell type (chr8 with `--reference-split test`, chr9 with `val`) with `evaluate_generation`. A 5-mer
logistic-regression classifier fitted on training rows is the oracle (own-class fraction). The same metrics for real
sequences of another split (chr9 for test, training chromosomes for val) and their nucleotide-shuffled copies, at the
same sample size against the same reference sample, give the floor and ceiling.

Each variant writes <output-dir>/variants/<variant>.json when it is done, so variants can run as separate processes
(e.g. two at a time on two cores) and a later `--stage report` merges whatever is there into results.json,
results.md and the PNG plots.

Example (from the repository root, DATA = ../shared/data):
    nice -n 5 .venv/bin/python scripts/bench_generation.py --data $DATA/dnadiffusion/dhs_4celltypes_train.csv \\
        --output-dir bench_results/generation --variants baseline --stage variant &
    nice -n 5 .venv/bin/python scripts/bench_generation.py --data $DATA/dnadiffusion/dhs_4celltypes_train.csv \\
        --output-dir bench_results/generation --variants lkan --stage variant
    .venv/bin/python scripts/bench_generation.py --data $DATA/dnadiffusion/dhs_4celltypes_train.csv \\
        --output-dir bench_results/generation --stage report
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

KEYS = ["kmer_js_3", "kmer_js_4", "kmer_js_5", "kmer_js_6", "motif_kl", "gc_wasserstein", "motif_count_wasserstein",
        "diversity", "novelty", "memorized_fraction", "oracle_target_fraction", "oracle_mse",
        "paper_positional_kl", "paper_onehot_diversity"]
REAL, SHUFFLED = "real (held-apart)", "shuffled real"


def kmer_oracle(train_seqs, train_labels, k: int = 5, seed: int = 0):
    """A k-mer-frequency logistic-regression classifier as an offline oracle: seqs -> class probabilities."""
    from sklearn.linear_model import LogisticRegression

    from kan_genomics_hf.evaluation.generation import _codes, kmer_counts

    def feats(seqs):
        rows = [kmer_counts([c], k) for c in _codes(seqs, "oracle input")]
        x = np.stack(rows)
        return x / np.maximum(x.sum(1, keepdims=True), 1)

    clf = LogisticRegression(max_iter=300, C=1.0, random_state=seed)
    clf.fit(feats(train_seqs) * 100, train_labels)

    def predict(seqs):
        return clf.predict_proba(feats(list(seqs)) * 100)

    return predict


def mean_over_classes(per_class: dict) -> dict:
    """Average each metric over the cell types."""
    keys = set.intersection(*(set(m) for m in per_class.values()))
    return {k: float(np.mean([m[k] for m in per_class.values()])) for k in sorted(keys)}


class Bench:
    """The data splits, the oracle, the reference samples and the scorer shared by all stages."""

    def __init__(self, args) -> None:
        import pandas as pd

        self.args = args
        df = pd.read_csv(args.data)
        self.cell_types = sorted(df.cell_type.unique())
        test = df[df.chr == args.test_chromosome]
        val = df[df.chr == args.val_chromosome]
        self.train = df[~df.chr.isin([args.test_chromosome, args.val_chromosome])]
        self.splits = {"train": len(self.train), "val": len(val), "test": len(test)}
        ref_df, real_df = (test, val) if args.reference_split == "test" else (val, self.train)
        n, seed = args.per_class, args.seed
        self.refs = {c: ref_df[ref_df.cell_type == c].sequence.sample(n=n, random_state=seed).tolist()
                     for c in self.cell_types}
        self.real = {c: real_df[real_df.cell_type == c].sequence.sample(n=n, random_state=seed + 1).tolist()
                     for c in self.cell_types}
        t0 = time.time()
        otr = self.train.sample(n=min(args.oracle_train, len(self.train)), random_state=seed)
        self.oracle = kmer_oracle(otr.sequence.tolist(), otr.cell_type.map(self.cell_types.index).to_numpy(), seed=seed)
        labels = test.cell_type.map(self.cell_types.index).to_numpy()
        self.oracle_acc = float(np.mean(self.oracle(test.sequence.tolist()).argmax(1) == labels))
        print(f"splits {self.splits}; oracle (5-mer LR) test accuracy {self.oracle_acc:.3f} ({time.time() - t0:.0f} s)")
        self.novelty_train = self.train.sequence.sample(n=min(args.novelty_train, len(self.train)),
                                                        random_state=seed).tolist()

    def score(self, gen_by_class: dict) -> dict:
        """Per cell type and mean metrics of generated (or reference) sets against the reference samples."""
        from kan_genomics_hf.evaluation.generation import evaluate_generation

        per = {c: evaluate_generation(g, self.refs[c], train=self.novelty_train, oracle=self.oracle,
                                      target_class=self.cell_types.index(c), seed=self.args.seed)
               for c, g in gen_by_class.items()}
        return {"mean": mean_over_classes(per), "per_class": per}


def _settings(args) -> dict:
    keep = ("preset", "max_steps", "per_class", "ddim_steps", "ddim_eta", "ddpm", "guidance_scale", "threads",
            "reference_split", "val_chromosome", "test_chromosome", "oracle_train", "novelty_train", "seed", "sampling_seed",
            "clipped_model_output")
    return {**{k: getattr(args, k) for k in keep}, "data": Path(args.data).name}


def references(bench: Bench, out: Path) -> dict:
    """Real and shuffled-real rows (cached in references.json for the same settings)."""
    from kan_genomics_hf.sequence import shuffle_nucleotides

    path = out / "references.json"
    settings = _settings(bench.args)
    keys = ("per_class", "reference_split", "val_chromosome", "test_chromosome", "oracle_train", "novelty_train",
            "seed", "data")
    if path.exists():
        try:
            cached = json.loads(path.read_text())
        except json.JSONDecodeError:
            cached = {"settings": {}}
        if all(cached["settings"].get(k) == settings[k] for k in keys):
            return cached
    rows = {REAL: bench.score(bench.real),
            SHUFFLED: bench.score({c: shuffle_nucleotides(s, bench.args.seed) for c, s in bench.real.items()})}
    res = {"settings": {k: settings[k] for k in keys}, "cell_types": bench.cell_types, "splits": bench.splits,
           "oracle_test_accuracy": bench.oracle_acc, "rows": rows, "real_sets": bench.real}
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(res, indent=2))
    tmp.replace(path)  # atomic: variants running in parallel read it
    return res


def train_variant(args, variant: str) -> Path:
    """Train `variant` with the preset (resuming an interrupted run); returns its run folder."""
    from kan_genomics_hf.commands.train_diffusion import build_pipeline
    from kan_genomics_hf.training.diffusion import DiffusionTrainingConfig, train_diffusion
    from kan_genomics_hf.training.presets import diffusion_preset

    vdir = Path(args.work_dir) / variant
    if (vdir / "model").is_dir() and (vdir / "results.json").exists():
        return vdir
    values = diffusion_preset(args.preset, variant)
    if args.max_steps:
        values["max_steps"] = args.max_steps
    values["val_chromosomes"], values["exclude_chromosomes"] = (args.val_chromosome,), (args.test_chromosome,)
    cfg = DiffusionTrainingConfig(data=args.data, output_dir=str(vdir), variant=variant, seed=args.seed, cpu=True,
                                  progress=False, resume=(vdir / "checkpoints").is_dir(), allow_changed_args=False,
                                  extra={"preset": args.preset}, **values)
    train_diffusion(cfg, build_pipeline)
    return vdir


def sample_variant(bench: Bench, variant: str, vdir: Path) -> dict:
    """Sample every cell type with DDIM and DDPM, time the samplers and score the samples."""
    import torch
    from diffusers import DDIMScheduler, DDPMScheduler

    from kan_genomics_hf import DNADiffusionPipeline

    args = bench.args
    summary = json.loads((vdir / "results.json").read_text())
    pipe = DNADiffusionPipeline.from_pretrained(vdir / "model")
    pipe.set_progress_bar_config(disable=True)
    T = int(pipe.scheduler.config.num_train_timesteps)
    res = {"model": {k: summary.get(k) for k in ("parameters", "global_step", "train_seconds", "final_train_loss",
                                                  "final_val_loss", "final_val_loss_ema")},
           "config": {k: summary["config"].get(k) for k in (
               "block_out_channels", "layers_per_block", "attention_levels", "kan_grid_size", "num_train_timesteps",
               "beta_schedule", "beta_start", "beta_end", "prediction_type", "loss", "batch_size", "learning_rate",
               "lr_schedule", "lr_warmup_steps", "ema_decay", "max_steps", "seed")},
           "history": [h for h in summary.get("history", []) if h.get("split") in ("train", "val")],
           "threads": torch.get_num_threads(), "rows": {}, "sets": {}}
    # DDIM once per eta (0 = deterministic, 1 = DDPM-like noise at DDIM's step count), then DDPM over all T steps
    samplers = [("DDIM", DDIMScheduler, args.ddim_steps, eta) for eta in args.ddim_eta]
    samplers += [("DDPM", DDPMScheduler, T, 0.0)] if args.ddpm else []
    sampling_seed = args.seed if args.sampling_seed is None else args.sampling_seed
    for (kind, cls, steps, eta), w in itertools.product(samplers, args.guidance_scale):
        pipe.scheduler = cls.from_config(pipe.scheduler.config)  # the trained noise schedule and prediction type
        clip = {"use_clipped_model_output": True} if args.clipped_model_output and kind == "DDIM" else {}
        gen, w0, c0 = {}, time.time(), time.process_time()
        for c in bench.cell_types:
            gen[c] = pipe(num_sequences=args.per_class, class_labels=c, num_inference_steps=steps, eta=eta,
                          guidance_scale=w, generator=torch.Generator().manual_seed(sampling_seed),
                          batch_size=256, **clip).sequences
        wall, cpu = time.time() - w0, time.process_time() - c0
        name = f"{variant} {kind}-{steps}" + (f" eta={eta:g}" if eta else "") + (f" w={w:g}" if w != 1 else "")
        name += f" draw={sampling_seed}" if sampling_seed != args.seed else ""
        name += " clipped-eps" if clip else ""
        row = bench.score(gen)
        n = args.per_class * len(bench.cell_types)
        row["sampling"] = {"sequences": n, "steps": steps, "guidance_scale": w, "wall_s": wall, "cpu_s": cpu,
                           "seq_per_s": n / wall}
        res["rows"][name] = row
        res["sets"][name] = gen
        print(f"{name}: {n / wall:.2f} seq/s, kmer_js_4 {row['mean']['kmer_js_4']:.4f}, "
              f"motif_kl {row['mean']['motif_kl']:.4f}, own class {row['mean']['oracle_target_fraction']:.3f}",
              flush=True)
    return res


# ------------------------------------------------------------------------------------------------ report
def _fmt(v) -> str:
    return "" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)


def _targets(rows: dict, ref: dict) -> list[str]:
    """The issue's done-criteria, checked on the mean over cell types."""
    shuf = ref[SHUFFLED]["mean"]
    lines = [f"Criteria (issue 9, mean over cell types): kmer_js_4 <= half of shuffled real "
             f"({shuf['kmer_js_4'] / 2:.4f}), motif_kl < shuffled real ({shuf['motif_kl']:.4f}), own-class fraction "
             f">= 1.5 x chance (0.375), DDIM within 15 % of DDPM on kmer_js_4.", ""]
    table = []
    for name, r in rows.items():
        m = r["mean"]
        table.append([name, f"{m['kmer_js_4']:.4f}", "yes" if m["kmer_js_4"] <= shuf["kmer_js_4"] / 2 else "no",
                      f"{m['motif_kl']:.4f}", "yes" if m["motif_kl"] < shuf["motif_kl"] else "no",
                      f"{m['oracle_target_fraction']:.3f}", "yes" if m["oracle_target_fraction"] >= 0.375 else "no"])
    from kan_genomics_hf.evaluation.report import format_markdown_table

    lines.append(format_markdown_table(["set", "kmer_js_4", "<= half shuffled", "motif_kl", "< shuffled",
                                        "own-class fraction", ">= 0.375"], table))
    variants = sorted({n.split()[0] for n in rows})
    ddim_ddpm = []
    def w(row):
        return row["sampling"].get("guidance_scale", 1.0)

    for v in variants:
        for name, ddim in rows.items():
            if not name.startswith(f"{v} DDIM"):
                continue
            # DDIM against DDPM-T at the same guidance scale
            ddpm = next((r for n, r in rows.items() if n.startswith(f"{v} DDPM") and w(r) == w(ddim)), None)
            if ddpm:
                a, b = ddim["mean"]["kmer_js_4"], ddpm["mean"]["kmer_js_4"]
                ddim_ddpm.append([name, f"{a:.4f}", f"{b:.4f}", f"{100 * (a - b) / b:+.1f} %",
                                  "yes" if a <= 1.15 * b else "no"])
    if ddim_ddpm:
        lines += ["", "DDIM meets the sampler criterion when its kmer_js_4 (lower is better) is at most 15 % above "
                      "DDPM-T's; a DDIM set better than DDPM-T meets it too.", "",
                  format_markdown_table(["DDIM set", "DDIM kmer_js_4", "DDPM-T kmer_js_4", "DDIM vs DDPM",
                                         "DDIM <= 1.15 x DDPM"], ddim_ddpm)]
    return lines


def write_plots(out: Path, ref: dict, variants: dict) -> list[Path]:
    """quality.png (kmer_js_4, motif_kl, own-class fraction), speed.png, training.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = {n: r for v in variants.values() for n, r in v["rows"].items()}
    names = list(rows)
    paths = []
    # one horizontal bar per generated set, so the set names stay readable however many rows there are
    y = np.arange(len(names))
    height = 1.5 + 0.3 * len(names)
    fig, axes = plt.subplots(1, 3, figsize=(16, height), sharey=True)
    panels = (("kmer_js_4", "4-mer Jensen-Shannon divergence (bits)", "lower is better"),
              ("motif_kl", "JASPAR motif-frequency KL (nats)", "lower is better"),
              ("oracle_target_fraction", "own-class fraction (oracle argmax)", "higher is better"))
    cells = ref["cell_types"]
    for ax, (key, label, better) in zip(axes, panels):
        ax.barh(y, [rows[n]["mean"][key] for n in names], color="#4c72b0", alpha=0.8, label="mean over cell types")
        for i, n in enumerate(names):
            ax.scatter([rows[n]["per_class"][c][key] for c in cells], [i] * len(cells), color="k", s=10, zorder=3,
                       label="each cell type" if i == 0 else None)
        ax.axvline(ref["rows"][REAL]["mean"][key], color="green", ls="-", label="real held-apart (mean)")
        ax.axvline(ref["rows"][SHUFFLED]["mean"][key], color="red", ls="--", label="shuffled real (mean)")
        if key == "kmer_js_4":
            ax.axvline(ref["rows"][SHUFFLED]["mean"][key] / 2, color="orange", ls=":", label="target: half shuffled")
        if key == "oracle_target_fraction":
            ax.axvline(0.25, color="grey", ls=":", label="chance (0.25)")
            ax.axvline(0.375, color="orange", ls=":", label="target: 1.5 x chance")
        ax.set_yticks(y, names, fontsize=8)
        ax.set_xlabel(label)
        ax.set_title(f"{key} ({better})", fontsize=10)
        ax.legend(fontsize=7, loc="lower right")
    axes[0].invert_yaxis()  # first set at the top
    fig.suptitle(f"Generated vs held-apart DHS sequences, n = {ref['settings']['per_class']} per cell type", fontsize=11)
    fig.tight_layout()
    paths.append(out / "quality.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, height))
    ax.barh(y, [rows[n]["sampling"]["seq_per_s"] for n in names], color="#55a868")
    ax.set_yticks(y, names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("sequences per second (wall clock)")
    threads = sorted({v["threads"] for v in variants.values()})
    ax.set_title(f"Sampling speed, {', '.join(map(str, threads))} CPU thread(s), batch 256", fontsize=10)
    fig.tight_layout()
    paths.append(out / "speed.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    cfg_loss = next(iter(variants.values()))["config"].get("loss", "huber")
    fig, ax = plt.subplots(figsize=(6, 4))
    for v, res in variants.items():
        val = [h for h in res["history"] if h["split"] == "val" and h.get("val_loss_ema") is not None]
        if val:
            ax.plot([h["step"] for h in val], [h["val_loss_ema"] for h in val], marker="o", ms=3, label=v)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel(f"validation loss, EMA weights ({cfg_loss})")
    ax.set_title("Validation (chr9) loss during training", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(out / "training.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)
    return paths


def report(args) -> int:
    from kan_genomics_hf.evaluation.generation import metrics_markdown, plot_generation_histograms
    from kan_genomics_hf.evaluation.report import format_markdown_table

    out = Path(args.output_dir)
    ref = json.loads((out / "references.json").read_text())
    variants = {}
    for v in args.variants.split(","):
        p = out / "variants" / f"{v}.json"
        if p.exists():
            variants[v] = json.loads(p.read_text())
    if not variants:
        print(f"no finished variants under {out / 'variants'}")
        return 1
    rows = {n: r for v in variants.values() for n, r in v["rows"].items()}
    cells = ref["cell_types"]
    n = ref["settings"]["per_class"]
    split = ref["settings"]["reference_split"]
    ref_chr = ref["settings"]["test_chromosome"] if split == "test" else ref["settings"]["val_chromosome"]
    results = {"references": {k: v for k, v in ref.items() if k != "real_sets"},
               "variants": {v: {k: r[k] for k in r if k != "sets"} for v, r in variants.items()}}
    (out / "results.json").write_text(json.dumps(results, indent=2))
    all_rows = {**ref["rows"], **rows}
    md = ["# Generation benchmark: KAN UNet1D generators on DNA-Diffusion DHS sequences (CPU preset)", "",
          f"Data: {ref['settings']['data']} (4 cell types); train on every chromosome but "
          f"{ref['settings']['val_chromosome']} (validation) and {ref['settings']['test_chromosome']} (test, never "
          f"seen). Every row: {n} sequences per cell type against the same {n} {ref_chr} sequences of that cell type "
          f"(seeded sample, seed {ref['settings']['seed']}); real = {n} "
          f"{ref['settings']['val_chromosome'] if split == 'test' else 'training-chromosome'} sequences of the cell "
          f"type, shuffled = those nucleotide-permuted. Oracle: 5-mer logistic regression on "
          f"{ref['settings']['oracle_train']:,} training rows, {ref['settings']['test_chromosome']} accuracy "
          f"{ref['oracle_test_accuracy']:.3f} (chance 0.25). One training seed per variant.", "",
          "## Models", "", format_markdown_table(
              ["variant", "parameters", "channels", "grid", "steps", "train min", "threads", "val loss (EMA)"],
              [[v, f"{r['model']['parameters']:,}", ",".join(map(str, r["config"]["block_out_channels"])),
                r["config"]["kan_grid_size"] if v != "baseline" else "-", r["model"]["global_step"],
                f"{r['model']['train_seconds'] / 60:.1f}", r["threads"], _fmt(r["model"]["final_val_loss_ema"])]
               for v, r in variants.items()]), ""]
    cfg0 = next(iter(variants.values()))["config"]
    md += [f"Preset `{args.preset}`: " + ", ".join(f"{k}={cfg0[k]}" for k in (
        "num_train_timesteps", "beta_schedule", "beta_start", "beta_end", "prediction_type", "loss", "batch_size",
        "learning_rate", "lr_schedule", "lr_warmup_steps", "ema_decay", "layers_per_block", "attention_levels")), ""]
    md += ["## Done-criteria", ""] + _targets(rows, ref["rows"]) + [""]
    md += [f"## Metrics, mean over the {len(cells)} cell types (lower is better except diversity / novelty / "
           "oracle_target_fraction = own-class fraction; paper_* kept for comparability only)", "",
           metrics_markdown({k: r["mean"] for k, r in all_rows.items()}, KEYS), ""]
    for key in ("kmer_js_4", "motif_kl", "oracle_target_fraction"):
        md += [f"### {key} per cell type", "", format_markdown_table(
            ["set", *cells, "mean"],
            [[k, *[_fmt(r["per_class"][c][key]) for c in cells], _fmt(r["mean"][key])] for k, r in all_rows.items()]),
            ""]
    md += ["## Sampling: DDIM vs DDPM", "", format_markdown_table(
        ["set", "steps", "sequences", "wall s", "CPU s", "seq/s"],
        [[k, r["sampling"]["steps"], r["sampling"]["sequences"], f"{r['sampling']['wall_s']:.0f}",
          f"{r['sampling']['cpu_s']:.0f}", f"{r['sampling']['seq_per_s']:.2f}"] for k, r in rows.items()]), "",
        "seq/s = wall clock of generating all cell types (batch 256; one UNet pass per step at guidance scale 1, "
        "a doubled batch (conditional + null) at w != 1) with the thread count in the models table; see the "
        "reproduce section for the load on the machine.", ""]
    pooled = {"real": [s for c in cells for s in ref["real_sets"][c]]}
    for r in variants.values():
        ddim = next(k for k in r["sets"] if "DDIM" in k)
        pooled[ddim] = [s for c in cells for s in r["sets"][ddim][c]]
    pngs = write_plots(out, ref, variants)
    if args.histograms:
        from kan_genomics_hf.sequence import shuffle_nucleotides

        pooled["shuffled real"] = shuffle_nucleotides(pooled["real"], args.seed)
        pngs += plot_generation_histograms(pooled, out)
    md += [f"![{p.stem}]({p.name})" for p in pngs]
    notes = out / "NOTES.md"
    if notes.exists():
        md += ["", notes.read_text().strip()]
    (out / "results.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--output-dir", default="bench_results/generation")
    p.add_argument("--work-dir", default="runs/bench_generation", help="trained models and checkpoints (not committed)")
    p.add_argument("--variants", default="baseline,lkan,ckan")
    p.add_argument("--preset", default="cpu", help="train-diffusion preset (training/presets.py; default: cpu)")
    p.add_argument("--max-steps", type=int, default=None, help="override the preset's optimizer steps")
    p.add_argument("--per-class", type=int, default=256, help="generated (and reference) sequences per cell type")
    p.add_argument("--ddim-steps", type=int, default=50)
    p.add_argument("--ddim-eta", type=float, nargs="+", default=[0.0],
                   help="DDIM eta values to sample with (0 = deterministic; 1 = DDPM-like noise), one row each")
    p.add_argument("--no-ddpm", dest="ddpm", action="store_false", help="skip DDPM sampling over all T steps")
    p.add_argument("--guidance-scale", type=float, nargs="+", default=[1.0],
                   help="classifier-free guidance scales w to sample with, one row each (1 = conditional, the "
                        "default; > 1 guided: two UNet passes per step)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per process (default: 1)")
    p.add_argument("--reference-split", choices=("test", "val"), default="test",
                   help="score against the test chromosome (final table) or the validation one (model choice)")
    p.add_argument("--val-chromosome", default="chr9")
    p.add_argument("--test-chromosome", default="chr8")
    p.add_argument("--oracle-train", type=int, default=8000, help="training rows for the k-mer oracle")
    p.add_argument("--novelty-train", type=int, default=8000, help="training rows searched for novelty")
    p.add_argument("--stage", choices=("all", "train", "variant", "report"), default="all",
                   help="train: only train the --variants; variant: train (unless done) + sample + score them; "
                        "report: merge the finished ones; all: variant + report")
    p.add_argument("--no-histograms", dest="histograms", action="store_false", help="skip the histogram PNGs")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--clipped-model-output", action="store_true",
                   help="DDIM rows with use_clipped_model_output=True (the noise re-derived from the clipped x0)")
    p.add_argument("--sampling-seed", type=int, default=None,
                   help="generator seed of the sampling only (default: --seed); with the references and the model "
                        "fixed, rows of several values give the draw-to-draw spread of each metric")
    args = p.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    out = Path(args.output_dir)
    (out / "variants").mkdir(parents=True, exist_ok=True)
    if args.stage == "train":
        for variant in args.variants.split(","):
            train_variant(args, variant)
        return 0
    if args.stage in ("all", "variant"):
        bench = Bench(args)
        references(bench, out)
        for variant in args.variants.split(","):
            t0 = time.time()
            vdir = train_variant(args, variant)
            res = sample_variant(bench, variant, vdir)
            res["machine"] = {"platform": platform.platform(), "cpus": os.cpu_count(), "threads": args.threads,
                              "settings": _settings(args), "wall_s_train_sample_score": time.time() - t0}
            (out / "variants" / f"{variant}.json").write_text(json.dumps(res, indent=1))
    if args.stage in ("all", "report"):
        return report(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
