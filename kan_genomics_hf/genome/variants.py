"""Variant effects: the model's score of the window centred on a variant, with the reference and with the
alternative allele (SNVs and short indels), on both strands; optionally an in-silico-mutagenesis map.

The reference window is ``[p - window // 2, p - window // 2 + window)`` around the variant's first REF base
``p`` (0-based). The alternative window keeps the same left flank, puts ALT in place of REF and fills the
right side from the genome after REF, so it has the same length (a deletion reads a few more bases on the
right, an insertion a few less). Variants that cannot be scored get a status instead of numbers:
``ref_mismatch`` (REF is not what the genome holds there), ``unknown_chromosome``, ``unsupported_allele``
(symbolic, '*', missing or non-ACGTN alleles), ``indel_too_long`` and ``near_chromosome_end``.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..io.genome import Genome
from ..io.vcf import Variant
from ..models.predict import is_multi_label, positive_logit, window_logits
from .encoding import encode_genome_slice

COLUMNS = ("chrom", "pos", "id", "ref", "alt", "ref_score", "alt_score", "delta", "ref_logit", "alt_logit",
           "delta_logit", "status", "note")
ISM_COLUMNS = ("variant", "chrom", "pos", "ref_base", "effect_A", "effect_C", "effect_G", "effect_T")
_ALLELE_CHARS = set("ACGTNacgtn")
_STRANDS = {"both": ("+", "-"), "plus": ("+",), "minus": ("-",)}


@dataclass
class VariantEffectConfig:
    window: int
    strand: str = "both"
    batch_size: int = 128
    max_indel: int = 50
    target: int = 1
    ism_flank: int | None = None


@dataclass
class _Prepared:
    variant: Variant
    status: str
    note: str = ""
    ref_codes: np.ndarray | None = None
    alt_codes: np.ndarray | None = None
    ref_window: str = ""
    window_start: int = 0


def _prepare(genome: Genome, v: Variant, cfg: VariantEffectConfig) -> _Prepared:
    w = cfg.window
    if v.chrom not in genome.chromosomes:
        return _Prepared(v, "unknown_chromosome", f"{v.chrom} is not in {genome.path.name}")
    if not v.alt or not set(v.alt) <= _ALLELE_CHARS or not v.ref or not set(v.ref) <= _ALLELE_CHARS:
        return _Prepared(v, "unsupported_allele", "only ACGTN REF/ALT alleles are scored (no symbolic, '*' or '.')")
    if max(len(v.ref), len(v.alt)) - 1 > cfg.max_indel:
        return _Prepared(v, "indel_too_long", f"longer than --max-indel {cfg.max_indel}")
    length = genome.chromosomes[v.chrom]
    p, lr, la = v.start, len(v.ref), len(v.alt)
    if p + lr > length:
        return _Prepared(v, "ref_mismatch", f"REF runs past the end of {v.chrom} ({length:,} bp)")
    genome_ref = genome.fetch(v.chrom, p, p + lr)
    if genome_ref.upper() != v.ref.upper():
        return _Prepared(v, "ref_mismatch", f"genome has {genome_ref.upper()} at {v.chrom}:{v.pos}")
    ws = p - w // 2
    right = w - (p - ws) - la  # bases after REF in the alt window
    if right < 0:
        return _Prepared(v, "indel_too_long", f"ALT is longer than half the window ({w // 2} bp)")
    if ws < 0 or ws + w > length or p + lr + right > length:
        return _Prepared(v, "near_chromosome_end", f"the {w} bp window around it leaves {v.chrom} (1-{length})")
    ref_seq = genome.fetch(v.chrom, ws, ws + w)
    alt_seq = ref_seq[: p - ws] + v.alt + genome.fetch(v.chrom, p + lr, p + lr + right)
    return _Prepared(v, "ok", "", encode_genome_slice(ref_seq, v.chrom, ws), encode_genome_slice(alt_seq, v.chrom, ws),
                     ref_seq, ws)


def _fmt(x: float) -> str:
    return f"{x:.6f}"


def _score_batch(model: Any, batch: list[_Prepared], cfg: VariantEffectConfig) -> list[dict[str, Any]]:
    ok = [b for b in batch if b.status == "ok"]
    rows: dict[int, dict[str, Any]] = {}
    if ok:
        import torch

        codes = np.stack([b.ref_codes for b in ok] + [b.alt_codes for b in ok])
        logits = window_logits(model, codes, _STRANDS[cfg.strand], cfg.batch_size).mean(dim=1)
        lo = positive_logit(logits, cfg.target, is_multi_label(model.config))
        prob = torch.sigmoid(lo)
        n = len(ok)
        for i, b in enumerate(ok):
            rl, al, rp, ap = float(lo[i]), float(lo[n + i]), float(prob[i]), float(prob[n + i])
            rows[id(b)] = {"ref_score": _fmt(rp), "alt_score": _fmt(ap), "delta": _fmt(ap - rp),
                           "ref_logit": _fmt(rl), "alt_logit": _fmt(al), "delta_logit": _fmt(al - rl)}
    out = []
    for b in batch:
        v = b.variant
        scores = rows.get(id(b), dict.fromkeys(COLUMNS[5:11], "NA"))
        out.append({"chrom": v.chrom, "pos": v.pos, "id": v.id, "ref": v.ref, "alt": v.alt, **scores,
                    "status": b.status, "note": b.note})
    return out


def _ism_rows(model: Any, b: _Prepared, cfg: VariantEffectConfig) -> list[tuple]:
    from ..interpret.mutagenesis import in_silico_mutagenesis

    v, flank = b.variant, int(cfg.ism_flank or 0)
    result = in_silico_mutagenesis(model, b.ref_window, target=cfg.target, output="prob", batch_size=cfg.batch_size)
    centre = v.start - b.window_start
    rows = []
    for i in range(max(0, centre - flank), min(cfg.window, centre + flank + 1)):
        e = result["effects"][i]
        rows.append((str(v), v.chrom, b.window_start + i + 1, b.ref_window[i].upper(), *(_fmt(float(x)) for x in e)))
    return rows


def variant_effects(model: Any, genome: Genome, variants: Iterable[Variant], cfg: VariantEffectConfig,
                    ism: list[tuple] | None = None, on_variant: Any = None) -> Iterator[dict[str, Any]]:
    """One row (``COLUMNS``) per variant, in input order; ISM rows are appended to ``ism`` when
    ``cfg.ism_flank`` is set. ``on_variant`` is called once per variant (a progress bar)."""
    batch: list[_Prepared] = []
    per_batch = max(1, cfg.batch_size // 2)

    def flush() -> Iterator[dict[str, Any]]:
        yield from _score_batch(model, batch, cfg)
        if ism is not None and cfg.ism_flank is not None:
            for b in batch:
                if b.status == "ok":
                    ism.extend(_ism_rows(model, b, cfg))
        batch.clear()

    for v in variants:
        batch.append(_prepare(genome, v, cfg))
        if on_variant is not None:
            on_variant()
        if len(batch) >= per_batch:
            yield from flush()
    if batch:
        yield from flush()
