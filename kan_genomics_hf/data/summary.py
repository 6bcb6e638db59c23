"""Dataset summary printed by the CLI: sizes, length distribution, class balance, N / invalid characters
by row, and sequences shared between splits (leakage, also as reverse complements)."""
from __future__ import annotations

import re
from collections import Counter
from typing import Any

import numpy as np

from ..modeling.dna_encoding import reverse_complement

_INVALID = re.compile(r"[^ACGTNacgtn]")


def summarize_dataset(dd, max_examples: int = 5) -> dict[str, Any]:
    """Per-split statistics and cross-split leakage of a DatasetDict with sequence/label columns."""
    out: dict[str, Any] = {"splits": {}, "leakage": {}}
    canon: dict[str, set[str]] = {}
    for split, ds in dd.items():
        seqs = ds["sequence"]
        lengths = np.array([len(s) for s in seqs])
        labels = ds["label"]
        feature = ds.features.get("label")
        names = getattr(feature, "names", None)
        counts = Counter(labels)
        with_n = [i for i, s in enumerate(seqs) if "N" in s or "n" in s]
        invalid = []
        for i, s in enumerate(seqs):
            m = _INVALID.search(s)
            if m:
                invalid.append({"row": i, "char": m.group(0), "position": m.start()})
        out["splits"][split] = {
            "rows": len(seqs),
            "length": {"min": int(lengths.min()), "median": float(np.median(lengths)),
                       "mean": round(float(lengths.mean()), 1), "max": int(lengths.max())} if len(seqs) else {},
            "classes": {(names[k] if names and isinstance(k, int) and k < len(names) else str(k)): int(v)
                        for k, v in sorted(counts.items())},
            "rows_with_N": len(with_n),
            "rows_with_N_examples": with_n[:max_examples],
            "rows_with_invalid_characters": len(invalid),
            "invalid_examples": invalid[:max_examples],
            "duplicates_within_split": int(len(seqs) - len({s.upper() for s in seqs})),
        }
        canon[split] = {min(s.upper(), reverse_complement(s.upper())) for s in seqs}
        out["splits"][split]["_exact"] = {s.upper() for s in seqs}
    splits = list(dd)
    for i, a in enumerate(splits):
        for b in splits[i + 1:]:
            exact = len(out["splits"][a]["_exact"] & out["splits"][b]["_exact"])
            with_rc = len(canon[a] & canon[b])
            out["leakage"][f"{a}/{b}"] = {"shared_sequences": exact, "shared_incl_reverse_complement": with_rc}
    for split in splits:
        out["splits"][split].pop("_exact")
    return out


def format_summary(summary: dict[str, Any], name: str = "dataset") -> str:
    """Human-readable multi-line text of `summarize_dataset` output."""
    lines = [f"Dataset summary: {name}"]
    for split, s in summary["splits"].items():
        L = s["length"]
        lines.append(f"  {split:<10} {s['rows']:>7} rows  length {L.get('min')}-{L.get('max')} (median {L.get('median')})"
                     f"  classes {s['classes']}  rows with N: {s['rows_with_N']}"
                     f"  invalid: {s['rows_with_invalid_characters']}")
        for ex in s["invalid_examples"]:
            lines.append(f"      row {ex['row']}: invalid character {ex['char']!r} at position {ex['position']}")
    for pair, leak in summary["leakage"].items():
        flag = "  <-- LEAKAGE" if leak["shared_incl_reverse_complement"] else ""
        lines.append(f"  shared {pair}: {leak['shared_sequences']} identical, "
                     f"{leak['shared_incl_reverse_complement']} incl. reverse complements{flag}")
    return "\n".join(lines)
