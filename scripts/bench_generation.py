"""Benchmark baseline / LKAN / CKAN KANUNet1D generators on the DNA-Diffusion DHS data (CPU, equal training budget).

For each variant: train for the same number of optimizer steps (held-out validation chromosome, test chromosome never
seen), sample per cell type with DDIM (and optionally DDPM over all T steps), time the sampling, and score
the samples against the held-out test-chromosome sequences of the same cell type with `evaluate_generation`
(a 5-mer logistic-regression classifier trained on the training rows serves as the oracle). The same metrics for
real held-out sequences (validation chromosome, same count) and their nucleotide-shuffled copies give the floor
and ceiling. Writes results.json, results.md and PNG histograms into --output-dir.

Example:
    nice -n 5 python scripts/bench_generation.py --data $DATA/dnadiffusion/dhs_4celltypes_train.csv \
        --output-dir bench_results/generation --max-steps 200 --per-class 32 --ddpm
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

KEYS = ["kmer_js_3", "kmer_js_4", "kmer_js_5", "kmer_js_6", "motif_kl", "gc_wasserstein", "motif_count_wasserstein",
        "diversity", "novelty", "memorized_fraction", "oracle_target_fraction", "oracle_mse",
        "paper_positional_kl", "paper_onehot_diversity"]


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


def sampling_speed(args, repeats: int = 5, probe_steps: int = 5) -> int:
    """Sequences/s of DDIM (ddim-steps) and DDPM (T steps) per trained variant; writes sampling_speed.{json,md}.

    The machine is shared, so each sampler runs `probe_steps` steps `repeats` times and the fastest run gives the
    per-step time (min over repeats filters out other processes); seq/s = n / (per-step time x steps)."""
    import torch

    from kan_genomics_hf import DNADiffusionPipeline
    from kan_genomics_hf.pipelines.dna_diffusion import make_scheduler

    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    n = args.per_class * 4
    rows = {}
    for variant in args.variants.split(","):
        pipe = DNADiffusionPipeline.from_pretrained(Path(args.work_dir) / variant / "model")
        pipe.set_progress_bar_config(disable=True)
        T = int(pipe.scheduler.config.num_train_timesteps)
        row = {"parameters": sum(p.numel() for p in pipe.unet.parameters())}
        for kind, steps in (("ddim", args.ddim_steps), ("ddpm", T)):
            pipe.scheduler = make_scheduler(kind, T)
            best = float("inf")
            for _ in range(repeats):
                t0 = time.perf_counter()
                pipe(num_sequences=n, class_labels=0, num_inference_steps=probe_steps, batch_size=n,
                     generator=torch.Generator().manual_seed(args.seed))
                best = min(best, time.perf_counter() - t0)
            row[f"{kind}_ms_per_step"] = 1000 * best / probe_steps
            row[f"{kind}_{steps}_seq_per_s"] = n / (best / probe_steps * steps)
        rows[variant] = row
        print(variant, row)
    (out / "sampling_speed.json").write_text(json.dumps(
        {"threads": torch.get_num_threads(), "n": n, "repeats": repeats, "probe_steps": probe_steps, "rows": rows},
        indent=2))
    keys = list(next(iter(rows.values())))
    from kan_genomics_hf.evaluation.report import format_markdown_table

    md = [format_markdown_table(["variant", *keys], [[v] + [f"{r[k]:,.2f}" if isinstance(r[k], float) else f"{r[k]:,}"
                                                        for k in keys] for v, r in rows.items()])]
    (out / "sampling_speed.md").write_text(
        f"Sampling speed: {n} sequences in one batch, {torch.get_num_threads()} CPU threads, conditional "
        f"(guidance 1 = one UNet pass per step); per-step time = fastest of {repeats} runs of {probe_steps} steps.\n\n"
        + "\n".join(md) + "\n")
    print("\n".join(md))
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--output-dir", default="bench_results/generation")
    p.add_argument("--work-dir", default="runs/bench_generation", help="trained models and checkpoints (not committed)")
    p.add_argument("--variants", default="baseline,lkan,ckan")
    p.add_argument("--block-out-channels", default="16,32")
    p.add_argument("--ckan-grid-size", type=int, default=3, help="CKAN grid (the paper used 3 for CKAN)")
    p.add_argument("--max-steps", type=int, default=200, help="optimizer steps per variant (the equal budget)")
    p.add_argument("--time-budget", type=float, default=None, help="optional cap on training seconds per variant")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--num-train-timesteps", type=int, default=100)
    p.add_argument("--per-class", type=int, default=32, help="generated sequences per cell type")
    p.add_argument("--ddim-steps", type=int, default=50)
    p.add_argument("--ddpm", action="store_true", help="also sample with DDPM over all T steps")
    p.add_argument("--val-chromosome", default="chr9")
    p.add_argument("--test-chromosome", default="chr8")
    p.add_argument("--oracle-train", type=int, default=8000, help="training rows for the k-mer oracle")
    p.add_argument("--novelty-train", type=int, default=8000, help="training rows searched for novelty")
    p.add_argument("--reuse", action="store_true", help="skip training where <variant>/model exists")
    p.add_argument("--speed-only", action="store_true",
                   help="only time DDIM/DDPM sampling of the trained models in --work-dir (quiet machine)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.speed_only:
        return sampling_speed(args)

    import pandas as pd
    import torch

    from kan_genomics_hf import DNADiffusionPipeline
    from kan_genomics_hf.commands.train_diffusion import build_pipeline
    from kan_genomics_hf.evaluation.generation import evaluate_generation, metrics_markdown, plot_generation_histograms
    from kan_genomics_hf.evaluation.report import format_markdown_table
    from kan_genomics_hf.pipelines.dna_diffusion import make_scheduler
    from kan_genomics_hf.sequence import shuffle_nucleotides as shuffle_sequences
    from kan_genomics_hf.training.diffusion import DiffusionTrainingConfig, train_diffusion

    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    df = pd.read_csv(args.data)
    cell_types = sorted(df.cell_type.unique())
    test = df[df.chr == args.test_chromosome]
    val = df[df.chr == args.val_chromosome]
    train = df[~df.chr.isin([args.test_chromosome, args.val_chromosome])]
    np.random.default_rng(args.seed)
    print(f"train {len(train)}, val ({args.val_chromosome}) {len(val)}, test ({args.test_chromosome}) {len(test)}")

    t0 = time.time()
    otr = train.sample(n=min(args.oracle_train, len(train)), random_state=args.seed)
    oracle = kmer_oracle(otr.sequence.tolist(), otr.cell_type.map(cell_types.index).to_numpy(), seed=args.seed)
    oracle_acc = float(np.mean(oracle(test.sequence.tolist()).argmax(1) == test.cell_type.map(cell_types.index).to_numpy()))
    print(f"oracle (5-mer logistic regression) test accuracy {oracle_acc:.3f} ({time.time() - t0:.0f} s)")
    novelty_train = train.sequence.sample(n=min(args.novelty_train, len(train)), random_state=args.seed).tolist()
    refs = {c: test[test.cell_type == c].sequence.tolist() for c in cell_types}

    def score(gen_by_class: dict) -> dict:
        per = {c: evaluate_generation(g, refs[c], train=novelty_train, oracle=oracle, target_class=cell_types.index(c),
                                      seed=args.seed) for c, g in gen_by_class.items()}
        return mean_over_classes(per)

    settings = {**vars(args), "data": Path(args.data).name}  # no machine paths in committed results
    results = {"settings": settings, "cell_types": cell_types, "oracle_test_accuracy": oracle_acc,
               "splits": {"train": len(train), "val": len(val), "test": len(test)}, "rows": {}, "models": {}}
    real = {c: val[val.cell_type == c].sequence.sample(n=args.per_class, random_state=args.seed).tolist()
            for c in cell_types}
    results["rows"]["real (held-out) vs test"] = score(real)
    results["rows"]["shuffled real vs test"] = score({c: shuffle_sequences(s, args.seed) for c, s in real.items()})
    print("references done")

    pooled = {"real": [s for v in real.values() for s in v]}
    chans = tuple(int(v) for v in args.block_out_channels.split(","))
    for variant in args.variants.split(","):
        vdir = Path(args.work_dir) / variant
        if not (args.reuse and (vdir / "model").is_dir()):
            shutil.rmtree(vdir, ignore_errors=True)  # a fresh run (training refuses old checkpoints without resume)
            cfg = DiffusionTrainingConfig(
                data=args.data, output_dir=str(vdir), variant=variant, block_out_channels=chans, layers_per_block=1,
                kan_grid_size=args.ckan_grid_size if variant == "ckan" else 5,
                num_train_timesteps=args.num_train_timesteps, batch_size=args.batch_size,
                learning_rate=args.learning_rate, epochs=1, max_steps=args.max_steps, max_time_s=args.time_budget,
                val_chromosomes=(args.val_chromosome,), exclude_chromosomes=(args.test_chromosome,),
                save_steps=0, log_every=25, sample_every_epochs=0, sample_steps=min(50, args.num_train_timesteps),
                seed=args.seed, cpu=True)
            train_diffusion(cfg, build_pipeline)
        summary = json.loads((vdir / "results.json").read_text())
        results["models"][variant] = {k: summary.get(k) for k in (
            "parameters", "global_step", "train_seconds", "final_train_loss", "final_val_loss", "final_val_loss_ema")}
        pipe = DNADiffusionPipeline.from_pretrained(vdir / "model")
        pipe.set_progress_bar_config(disable=True)
        samplers = [("DDIM", args.ddim_steps)] + ([("DDPM", args.num_train_timesteps)] if args.ddpm else [])
        for kind, steps in samplers:
            pipe.scheduler = make_scheduler(kind.lower(), args.num_train_timesteps)
            gen, t1 = {}, time.time()
            for c in cell_types:
                gen[c] = pipe(num_sequences=args.per_class, class_labels=c, num_inference_steps=steps,
                              generator=torch.Generator().manual_seed(args.seed), batch_size=256).sequences
            secs = time.time() - t1
            name = f"{variant} {kind}-{steps}"
            row = score(gen)
            row["sampling_seq_per_s"] = args.per_class * len(cell_types) / secs
            results["rows"][name] = row
            if kind == "DDIM":
                pooled[variant] = [s for v in gen.values() for s in v]
            print(f"{name}: {row['sampling_seq_per_s']:.2f} seq/s, kmer_js_4 {row['kmer_js_4']:.4f}, "
                  f"motif_kl {row['motif_kl']:.4f}")
        (out / "results.json").write_text(json.dumps(results, indent=2))

    pooled["shuffled real"] = shuffle_sequences(pooled["real"], args.seed)
    pngs = plot_generation_histograms(pooled, out)
    md = ["# Generation benchmark (CPU, equal number of training steps per variant)", "",
          f"Data: DNA-Diffusion DHS training split; train on all chromosomes but {args.val_chromosome} (validation) "
          f"and {args.test_chromosome} (test); metrics = mean over the {len(cell_types)} cell types of generated "
          f"({args.per_class} per cell type) vs the {args.test_chromosome} sequences of that cell type. Oracle: "
          f"5-mer logistic regression, test accuracy {oracle_acc:.3f}.", "",
          "## Models", "", format_markdown_table(
              ["variant", "parameters", "steps", "train s", "final train loss", "val loss", "val loss (EMA)"],
              [[v, f"{m['parameters']:,}", m["global_step"], f"{m['train_seconds']:.0f}", f"{m['final_train_loss']:.4f}",
                f"{m['final_val_loss']:.4f}", f"{m['final_val_loss_ema']:.4f}"] for v, m in results["models"].items()])]
    md += ["", "## Metrics (lower is better except diversity/novelty/oracle_target_fraction; "
           "paper_* kept for comparability only)", "",
           metrics_markdown(results["rows"], KEYS + ["sampling_seq_per_s"]), "",
           "sampling_seq_per_s is the wall-clock rate during this run (it includes other load on the machine); "
           "`--speed-only` times the samplers with the fastest of repeated runs (sampling_speed.md).", ""]
    md += [f"![{p.stem}]({p.name})" for p in pngs]
    (out / "results.md").write_text("\n".join(md) + "\n")
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
