#!/usr/bin/env python
"""How much does a trained DNA-Diffusion UNet use its cell-type label? (issue 9 diagnosis, validation data only)

1. The UNet's MSE against its training target (noise, velocity or x0) on validation-chromosome sequences at fixed
   timesteps with the true label, a wrong label (the next class) and the null label, same noise: a model that uses
   its label predicts worse with a wrong one.
2. The oracle's confusion matrix of DDIM samples per conditioning class and the own-class fraction for several
   classifier-free-guidance scales w, with kmer_js_4 / motif_kl against the same number of validation sequences.

    python scripts/diagnose_generation_conditioning.py --model RUN/model --data DHS.csv --output OUT.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_generation import Bench  # noqa: E402 - the benchmark's splits, oracle and reference samples


def label_losses(pipe, data: str, chromosome: str, rows: int, timesteps: list[int]) -> list[dict]:
    import torch

    from kan_genomics_hf.data.tables import load_dna_table
    from kan_genomics_hf.training.diffusion import diffusion_target

    x, y, _, groups = load_dna_table(data, "sequence", "cell_type", None, 0, "chr")
    keep = groups == chromosome
    x, y = torch.from_numpy(x[keep][:rows]), torch.from_numpy(y[keep][:rows])
    unet, sched = pipe.unet.eval(), pipe.scheduler
    gen, out = torch.Generator().manual_seed(0), []
    for tval in timesteps:
        t = torch.full((len(x),), tval)
        noise = torch.randn(x.shape, generator=gen)
        xt = sched.add_noise(x, noise, t)
        target = diffusion_target(sched, x, noise, t, sched.config.prediction_type)  # what the UNet was trained on
        with torch.no_grad():
            mse = {name: float(((unet(xt, t, lab).sample - target) ** 2).mean()) for name, lab in
                   [("true", y), ("wrong", (y + 1) % int(y.max() + 1)), ("null", torch.full_like(y, unet.null_class_id))]}
        mse["wrong_vs_true_percent"] = 100 * (mse["wrong"] - mse["true"]) / mse["true"]
        out.append({"t": tval, **mse})
        print(f"t={tval}: " + ", ".join(f"{k} {v:.5g}" for k, v in mse.items()), flush=True)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, help="a saved DNADiffusionPipeline folder")
    p.add_argument("--data", required=True)
    p.add_argument("--output", required=True, help="JSON file for the figures")
    p.add_argument("--val-chromosome", default="chr9")
    p.add_argument("--test-chromosome", default="chr8", help="left out of the oracle's training rows")
    p.add_argument("--per-class", type=int, default=64)
    p.add_argument("--guidance-scales", type=float, nargs="+", default=[1.0, 4.0, 8.0])
    p.add_argument("--timesteps", type=int, nargs="+", default=[5, 20, 40, 60, 80, 95])
    p.add_argument("--rows", type=int, default=1024, help="validation rows for the label-loss check")
    args = p.parse_args()

    import torch
    from diffusers import DDIMScheduler
    from tqdm.auto import tqdm

    from kan_genomics_hf import DNADiffusionPipeline
    from kan_genomics_hf.evaluation.generation import evaluate_generation

    torch.set_num_threads(1)
    # the benchmark's data handling with its defaults: references = validation chromosome, 8,000-row oracle, seed 0
    bench = Bench(argparse.Namespace(data=args.data, val_chromosome=args.val_chromosome,
                                     test_chromosome=args.test_chromosome, reference_split="val",
                                     per_class=args.per_class, seed=0, oracle_train=8000, novelty_train=8000))
    cells, refs, oracle = bench.cell_types, bench.refs, bench.oracle
    pipe = DNADiffusionPipeline.from_pretrained(args.model)
    pipe.set_progress_bar_config(disable=True)
    result = {"model": Path(args.model).name, "cell_types": cells, "per_class": args.per_class,
              "label_losses": label_losses(pipe, args.data, args.val_chromosome, args.rows, args.timesteps),
              "real_confusion": [np.bincount(oracle(refs[c]).argmax(1), minlength=len(cells)).tolist() for c in cells],
              "guidance": []}
    pipe.scheduler = DDIMScheduler.from_config(pipe.scheduler.config)
    for w in tqdm(args.guidance_scales, desc="guidance scales"):
        t0, row = time.time(), {"guidance_scale": w, "confusion": [], "own": [], "kmer_js_4": [], "motif_kl": []}
        for i, c in enumerate(cells):
            seqs = pipe(num_sequences=args.per_class, class_labels=c, num_inference_steps=50, guidance_scale=w,
                        generator=torch.Generator().manual_seed(0), batch_size=256).sequences
            m = evaluate_generation(seqs, refs[c], oracle=oracle, target_class=i, seed=0)
            row["confusion"].append(np.bincount(oracle(seqs).argmax(1), minlength=len(cells)).tolist())
            for key, name in (("own", "oracle_target_fraction"), ("kmer_js_4", "kmer_js_4"), ("motif_kl", "motif_kl")):
                row[key].append(m[name])
        row.update({f"mean_{k}": float(np.mean(row[k])) for k in ("own", "kmer_js_4", "motif_kl")},
                   seconds=time.time() - t0)
        result["guidance"].append(row)
        print(f"w={w}: own-class {row['mean_own']:.3f}, kmer_js_4 {row['mean_kmer_js_4']:.4f}, "
              f"motif_kl {row['mean_motif_kl']:.4f}", flush=True)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
