"""Sequence shuffles that keep composition: nucleotide permutation and the exact dinucleotide shuffle.

``dinucleotide_shuffle`` is the Altschul-Erickson method (Kandel et al. 1996 form): a uniformly random
Eulerian walk through the multigraph of observed dinucleotides. A random spanning arborescence of
"last exits" towards the final base is drawn with Wilson's loop-erased random walk, the other exits of
every base are shuffled, and the walk from the first base then uses every dinucleotide exactly once.
ushuffle does not build on current Python and tangermeme brings numba/llvmlite and works on one-hot
tensors, so the shuffle is ours; its count preservation is checked exactly in the tests.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def permute_bases(seq: str, rng: np.random.Generator) -> str:
    """One nucleotide permutation of `seq` drawn from `rng` (the same draw as ``rng.permutation(list(seq))``)."""
    return rng.permutation(np.frombuffer(seq.encode("ascii"), dtype=np.uint8)).tobytes().decode("ascii")


def shuffle_nucleotides(seqs: Sequence[str], seed: int = 0) -> list[str]:
    """Nucleotide-permuted copies (composition kept, order destroyed), one seeded generator for all."""
    rng = np.random.default_rng(seed)
    return [permute_bases(s, rng) for s in seqs]


def _last_exits(edges: dict[str, list[str]], last: str, rng: np.random.Generator) -> dict[str, str]:
    """Wilson's algorithm: for every base but `last`, the target of its last exit, forming a tree into `last`."""
    exit_to: dict[str, str] = {}
    in_tree = {last}
    for v in edges:
        if v in in_tree or not edges[v]:
            continue
        u = v
        while u not in in_tree:  # random walk; overwriting exit_to erases loops
            exit_to[u] = edges[u][int(rng.integers(len(edges[u])))]
            u = exit_to[u]
        u = v
        while u not in in_tree:
            in_tree.add(u)
            u = exit_to[u]
    return exit_to


def dinucleotide_shuffle(seq: str, rng: np.random.Generator | None = None) -> str:
    """A random sequence with exactly the dinucleotide counts (and first/last base) of `seq` (upper-cased)."""
    rng = np.random.default_rng() if rng is None else rng
    if len(seq) < 3:
        return seq
    seq = seq.upper()
    edges: dict[str, list[str]] = {c: [] for c in sorted(set(seq))}
    for a, b in zip(seq[:-1], seq[1:]):
        edges[a].append(b)
    exit_to = _last_exits(edges, seq[-1], rng)
    order: dict[str, list[str]] = {}
    for v, out in edges.items():
        out = list(out)
        if v in exit_to:
            out.remove(exit_to[v])
        rng.shuffle(out)
        if v in exit_to:
            out.append(exit_to[v])
        order[v] = out[::-1]  # pop() takes them front to back
    result = [seq[0]]
    for _ in range(len(seq) - 1):
        result.append(order[result[-1]].pop())
    return "".join(result)
