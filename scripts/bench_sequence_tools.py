"""Old vs new sequence tools, timed in one run: the hand-written anti-diagonal Levenshtein DP (numpy) that
`evaluation.generation.levenshtein_batch` used before against the rapidfuzz version it uses now, and the
nucleotide shuffle (list permutation before, byte-array permutation now). The dinucleotide shuffle is ours
in both (ushuffle does not build on current Python; tangermeme needs numba and one-hot tensors), so it is
timed alone. Every new result is checked equal to the old one. Writes results.json and results.md.

Command (the one that produced bench_results/sequence_tools/):
    OMP_NUM_THREADS=1 python scripts/bench_sequence_tools.py --output-dir bench_results/sequence_tools
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

COMMAND = "OMP_NUM_THREADS=1 python scripts/bench_sequence_tools.py --output-dir bench_results/sequence_tools"


def old_levenshtein_batch(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The previous implementation, kept here only as the timing reference: DP along anti-diagonals."""
    P, n = a.shape
    m = b.shape[1]
    big = np.iinfo(np.int32).max // 2
    prev2, prev1 = np.full((P, n + 1), big, np.int32), np.full((P, n + 1), big, np.int32)
    prev2[:, 0] = 0
    if n + m == 0:
        return np.zeros(P, np.int64)
    if m >= 1:
        prev1[:, 0] = 1
    if n >= 1:
        prev1[:, 1] = 1
    i_idx = np.arange(n + 1)
    for d in range(2, n + m + 1):
        cur = np.full((P, n + 1), big, np.int32)
        lo, hi = max(0, d - m), min(n, d)
        i = i_idx[lo: hi + 1]
        j = d - i
        up = np.where(i[None] >= 1, prev1[:, np.maximum(i - 1, 0)], big) + 1
        left = prev1[:, i] + 1
        inner = (i >= 1) & (j >= 1)
        ai = a[:, np.clip(i - 1, 0, max(n - 1, 0))] if n else np.zeros((P, len(i)), a.dtype)
        bj = b[:, np.clip(j - 1, 0, max(m - 1, 0))] if m else np.zeros((P, len(i)), b.dtype)
        diag = np.where(inner[None], prev2[:, np.maximum(i - 1, 0)] + (ai != bj), big)
        val = np.minimum(np.minimum(up, left), diag)
        val = np.where((i == 0)[None], j[None], val)
        val = np.where((j == 0)[None], i[None], val)
        cur[:, lo: hi + 1] = val
        prev2, prev1 = prev1, cur
    return prev1[:, n].astype(np.int64)


def old_shuffle(seqs, seed=0):
    rng = np.random.default_rng(seed)
    return ["".join(rng.permutation(list(s))) for s in seqs]


def best_of(fn, repeats: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def run(pairs: int, length: int, n_seqs: int, repeats: int) -> list[dict]:
    from kan_genomics_hf.evaluation.generation import levenshtein_batch
    from kan_genomics_hf.sequence import dinucleotide_shuffle, shuffle_nucleotides

    rng = np.random.default_rng(0)
    rows = []
    for name, shape, values in [(f"nucleotide codes, {length} bp", length, 4),
                                ("paper one-hot rows, 4 x 100", 400, 2)]:
        a, b = rng.integers(0, values, (pairs, shape)), rng.integers(0, values, (pairs, shape))
        t_old, d_old = best_of(lambda a=a, b=b: old_levenshtein_batch(a, b), repeats)
        t_new, d_new = best_of(lambda a=a, b=b: levenshtein_batch(a, b), repeats)
        rows.append({"task": f"Levenshtein, {pairs} pairs of {name}", "old_s": t_old, "new_s": t_new,
                     "identical": bool(np.array_equal(d_old, d_new))})
    seqs = ["".join(rng.choice(list("ACGT"), length)) for _ in range(n_seqs)]
    t_old, s_old = best_of(lambda: old_shuffle(seqs, 1), repeats)
    t_new, s_new = best_of(lambda: shuffle_nucleotides(seqs, 1), repeats)
    rows.append({"task": f"nucleotide shuffle, {n_seqs} x {length} bp", "old_s": t_old, "new_s": t_new,
                 "identical": s_old == s_new})
    t_di, out = best_of(lambda: [dinucleotide_shuffle(s, np.random.default_rng(i)) for i, s in enumerate(seqs)], repeats)
    rows.append({"task": f"dinucleotide shuffle (ours, unchanged), {n_seqs} x {length} bp", "old_s": t_di,
                 "new_s": t_di, "identical": True})
    return rows


def write(rows: list[dict], out: Path, meta: dict) -> None:
    from kan_genomics_hf.evaluation.report import format_markdown_table

    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({**meta, "rows": rows}, indent=2) + "\n")
    table = format_markdown_table(
        ["task", "old s", "new s", "speed-up", "identical results"],
        [[r["task"], f"{r['old_s']:.4f}", f"{r['new_s']:.4f}", f"{r['old_s'] / r['new_s']:.1f}x", r["identical"]]
         for r in rows], align=["left", "right", "right", "right", "left"])
    (out / "results.md").write_text(
        "# Sequence tools: old vs new\n\n"
        f"Fastest of {meta['repeats']} runs, one thread, {meta['machine']}. Command:\n\n    {COMMAND}\n\n" + table + "\n")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--output-dir", default="bench_results/sequence_tools")
    p.add_argument("--pairs", type=int, default=2000)
    p.add_argument("--length", type=int, default=200)
    p.add_argument("--n-seqs", type=int, default=2000)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    rows = run(args.pairs, args.length, args.n_seqs, args.repeats)
    meta = {"command": COMMAND, "repeats": args.repeats, "pairs": args.pairs, "length": args.length,
            "n_seqs": args.n_seqs, "machine": f"{platform.machine()}, Python {platform.python_version()}"}
    write(rows, Path(args.output_dir), meta)
    print((Path(args.output_dir) / "results.md").read_text())
    return 0 if all(r["identical"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
