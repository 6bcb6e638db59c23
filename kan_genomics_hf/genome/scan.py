"""Genome-scale scanning: a classifier slid over a genome FASTA (or regions of it), streamed chunk by chunk.

Work is cut into *units*: consecutive windows (``chunk_size`` bp of window starts) of one region, planned the
same way whatever the number of processes. Each unit is read from disk (pyfaidx), encoded once to uint8
codes (windows are strided views, no copy per window), windows with more than ``max_n_fraction`` N are
dropped and counted, and the rest go through ``models.predict.window_logits`` (one forward over both strands
per batch). Under ``accelerate launch`` process ``r`` of ``P`` takes units ``r, r+P, ...``; after each round
of ``P`` units the results are gathered to process 0, which writes them in genome order, so the files are
the same as a one-process run and memory stays bounded by one round.

Outputs (written to temporary names, renamed into place at the end): ``scores.bedgraph`` (one row per scored
window: the central ``min(stride, window)`` bp of the window, so rows tile without overlap and convert to
bigWig; ``bedgraph_span="window"`` writes the whole window), ``peaks.bed`` (runs of adjacent windows, one
stride apart, scoring >= threshold: chrom, start, end, name, score 0-1000, strand, max score, summit; a peak
spans the central bins of its windows, so peaks never overlap; the summit is the centre of its best window), optional
``scores.plus.bedgraph`` / ``scores.minus.bedgraph`` and ``scores.bw``, and ``summary.json``.
"""
from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..io.atomic import write_json_atomic
from ..io.genome import Genome, Region
from ..models.predict import is_multi_label, positive_logit, window_logits
from .encoding import encode_genome_slice

STRAND_CHOICES = ("both", "plus", "minus")
SPAN_CHOICES = ("bin", "window")
_STRANDS = {"both": ("+", "-"), "plus": ("+",), "minus": ("-",)}


@dataclass
class ScanConfig:
    """Settings of one scan (``window`` None: the model's training length)."""

    window: int | None = None
    stride: int | None = None
    strand: str = "both"
    per_strand: bool = False
    threshold: float = 0.5
    max_n_fraction: float = 0.1
    batch_size: int = 128
    chunk_size: int = 1_000_000
    target: int | None = None
    bedgraph_span: str = "bin"
    bigwig: bool = False
    progress: bool = True


@dataclass
class Unit:
    """Windows ``first_start + k * stride`` for k < n_windows of region ``region`` (an index)."""

    index: int
    region: int
    chrom: str
    first_start: int
    n_windows: int
    bp: int  # share of the region's bases (for the progress bar); the units of a region sum to its length


@dataclass
class UnitResult:
    index: int
    starts: np.ndarray  # int64, scored windows only
    scores: np.ndarray  # float32 (n, 1 + strands if per-strand)
    n_skipped: int
    bp: int


@dataclass
class ScanPlan:
    window: int
    stride: int
    regions: list[Region]
    units: list[Unit]
    skipped_regions: list[dict[str, Any]] = field(default_factory=list)


def default_window(config: Any) -> int:
    """The model's training length (``training_length``, else ``max_sequence_length``)."""
    for name in ("training_length", "max_sequence_length"):
        value = getattr(config, name, None)
        if isinstance(value, (int, float)) and value > 0:
            return int(value)
    raise ValueError("the model records no training length (config.training_length); pass --window W")


def resolve_target(config: Any, target: int | str | None) -> int:
    """The output index scored as 'positive': given (index or label name), else 1 for two classes, else 0."""
    n = int(config.num_labels)
    if target is None:
        return 1 if n == 2 and not is_multi_label(config) else 0
    names = {str(v): int(k) for k, v in (getattr(config, "id2label", None) or {}).items()}
    if isinstance(target, str) and not target.lstrip("-").isdigit():
        if target not in names:
            raise ValueError(f"--target {target!r} is not a label of the model (labels: {sorted(names)})")
        return names[target]
    index = int(target)
    if not 0 <= index < n:
        raise ValueError(f"--target {index} is outside the model's {n} outputs (0-{n - 1})")
    return index


def plan_scan(regions: list[Region], window: int, stride: int, chunk_size: int) -> ScanPlan:
    """Cut the regions into units of about ``chunk_size`` bp of window starts; regions shorter than the
    window are skipped and listed."""
    if window < 1 or stride < 1:
        raise ValueError(f"window and stride must be >= 1, got window={window}, stride={stride}")
    per_unit = max(1, chunk_size // stride)
    plan = ScanPlan(window, stride, regions, [])
    for r_index, region in enumerate(regions):
        if region.length < window:
            plan.skipped_regions.append({"region": str(region), "length": region.length,
                                         "reason": f"shorter than the window ({window} bp)"})
            continue
        n_windows = (region.length - window) // stride + 1
        for k0 in range(0, n_windows, per_unit):
            k1 = min(n_windows, k0 + per_unit)
            bp = (k1 - k0) * stride if k1 < n_windows else region.length - k0 * stride
            plan.units.append(Unit(len(plan.units), r_index, region.chrom, region.start + k0 * stride, k1 - k0, bp))
    return plan


def score_unit(model: Any, genome: Genome, unit: Unit, plan: ScanPlan, cfg: ScanConfig, target: int) -> UnitResult:
    """Scores of one unit's windows (N-rich windows dropped); columns: combined score, then per strand."""
    w, s = plan.window, plan.stride
    end = unit.first_start + (unit.n_windows - 1) * s + w
    codes = encode_genome_slice(genome.fetch(unit.chrom, unit.first_start, end), unit.chrom, unit.first_start)
    rel = np.arange(unit.n_windows, dtype=np.int64) * s
    n_cum = np.concatenate([[0], np.cumsum(codes == 4, dtype=np.int64)])
    keep = (n_cum[rel + w] - n_cum[rel]) <= cfg.max_n_fraction * w
    windows = np.lib.stride_tricks.sliding_window_view(codes, w)[rel[keep]]
    strands = _STRANDS[cfg.strand]
    if windows.shape[0]:
        logits = window_logits(model, windows, strands, cfg.batch_size)  # (n, strands, C)
        multi = is_multi_label(model.config)
        combined = positive_logit(logits.mean(dim=1), target, multi)[:, None]
        columns = [combined] + ([positive_logit(logits, target, multi)] if cfg.per_strand and len(strands) > 1 else [])
        import torch

        scores = torch.sigmoid(torch.cat(columns, dim=1)).numpy().astype(np.float32)
    else:
        scores = np.zeros((0, 1 + (2 if cfg.per_strand and len(strands) > 1 else 0)), np.float32)
    return UnitResult(unit.index, unit.first_start + rel[keep], scores, int((~keep).sum()), unit.bp)


class _PeakCaller:
    """Streaming merge of adjacent above-threshold windows (same region, starts one stride apart)."""

    def __init__(self, window: int, stride: int, threshold: float, strand: str, write: Callable[[str], None]):
        self.window, self.stride, self.threshold, self.write = window, stride, threshold, write
        self.span = min(stride, window)  # a peak spans its windows' central bins (as in the bedGraph)
        self.offset = (window - self.span) // 2
        self.strand = {"both": ".", "plus": "+", "minus": "-"}[strand]
        self.open: list[Any] | None = None  # [region, chrom, start, last_start, max_score, summit]
        self.count = 0

    def add(self, region: int, chrom: str, starts: np.ndarray, scores: np.ndarray) -> None:
        idx = np.flatnonzero(scores >= self.threshold)
        if idx.size == 0:
            self.close()
            return
        if idx[0] != 0:
            self.close()  # a window below threshold comes first
        # runs of above-threshold windows one stride apart
        breaks = np.flatnonzero(np.diff(starts[idx]) != self.stride) + 1
        for run in np.split(idx, breaks):
            first, last = int(starts[run[0]]), int(starts[run[-1]])
            best = run[int(np.argmax(scores[run]))]
            peak_max, summit = float(scores[best]), int(starts[best]) + self.window // 2
            o = self.open
            if o is not None and o[0] == region and first == o[3] + self.stride:
                o[3] = last
                if peak_max > o[4]:
                    o[4], o[5] = peak_max, summit
            else:
                self.close()
                self.open = [region, chrom, first, last, peak_max, summit]
            if run[-1] != len(scores) - 1:
                self.close()  # a window below threshold follows

    def close(self) -> None:
        if self.open is None:
            return
        _, chrom, start, last, peak_max, summit = self.open
        self.count += 1
        a, b = start + self.offset, last + self.offset + self.span
        self.write(f"{chrom}\t{a}\t{b}\tpeak_{self.count}\t{min(1000, round(peak_max * 1000))}"
                   f"\t{self.strand}\t{peak_max:.5f}\t{summit}\n")
        self.open = None


class ScanWriter:
    """Process 0's output side: bedGraph rows, peaks and bigWig entries written in genome order to temporary
    files, renamed into place by ``commit``."""

    def __init__(self, out_dir: Path, plan: ScanPlan, cfg: ScanConfig, chrom_lengths: dict[str, int]):
        self.out_dir, self.plan, self.cfg = out_dir, plan, cfg
        out_dir.mkdir(parents=True, exist_ok=True)
        names = ["scores.bedgraph", "peaks.bed"]
        self.per_strand = cfg.per_strand and cfg.strand == "both"
        if self.per_strand:
            names += ["scores.plus.bedgraph", "scores.minus.bedgraph"]
        self.final = [out_dir / n for n in names]
        self.tmp = [p.with_name(f".{p.name}.tmp-{os.getpid()}") for p in self.final]
        self.handles = [open(p, "w", encoding="ascii", newline="\n") for p in self.tmp]
        w, s = plan.window, plan.stride
        if cfg.bedgraph_span == "window":
            self.offset, self.span = 0, w
        else:
            self.span = min(s, w)
            self.offset = (w - self.span) // 2
        self.peaks = _PeakCaller(w, s, cfg.threshold, cfg.strand, self.handles[1].write)
        self.bigwig = self._open_bigwig(chrom_lengths) if cfg.bigwig else None
        self.n_scored = self.n_skipped = 0

    def _open_bigwig(self, chrom_lengths: dict[str, int]) -> Any:
        try:
            import pyBigWig
        except ImportError:
            raise ValueError("--bigwig needs pyBigWig; install it with pip install 'kan-genomics-hf[bigwig]'") from None
        if self.cfg.bedgraph_span == "window" and self.plan.stride < self.plan.window:
            raise ValueError("--bigwig needs non-overlapping intervals; use --bedgraph-span bin (the default) or a "
                             "stride >= the window")
        self.final.append(self.out_dir / "scores.bw")
        self.tmp.append(self.out_dir / f".scores.bw.tmp-{os.getpid()}")
        bw = pyBigWig.open(str(self.tmp[-1]), "w")
        chroms = sorted({r.chrom for r in self.plan.regions})
        bw.addHeader([(c, int(chrom_lengths[c])) for c in chroms])
        return bw

    def add(self, result: UnitResult) -> None:
        unit = self.plan.units[result.index]
        self.n_scored += len(result.starts)
        self.n_skipped += result.n_skipped
        a = result.starts + self.offset
        b = a + self.span
        for column, handle in zip(range(result.scores.shape[1]), [self.handles[0]] + self.handles[2:]):
            handle.write("".join(f"{unit.chrom}\t{x}\t{y}\t{v:.5f}\n"
                                 for x, y, v in zip(a.tolist(), b.tolist(), result.scores[:, column].tolist())))
        self.peaks.add(unit.region, unit.chrom, result.starts, result.scores[:, 0])
        if self.bigwig is not None and len(a):
            self.bigwig.addEntries([unit.chrom] * len(a), a.tolist(), ends=b.tolist(),
                                   values=result.scores[:, 0].astype(float).tolist())

    def commit(self) -> list[Path]:
        self.peaks.close()
        for h in self.handles:
            h.flush()
            os.fsync(h.fileno())
            h.close()
        if self.bigwig is not None:
            self.bigwig.close()
        for tmp, final in zip(self.tmp, self.final):
            os.replace(tmp, final)
        return self.final

    def abort(self) -> None:
        for h in self.handles:
            h.close()
        if self.bigwig is not None:
            self.bigwig.close()
        for tmp in self.tmp:
            tmp.unlink(missing_ok=True)


def _progress(total: int, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="bp", unit_scale=True, desc="scan", disable=not enabled, smoothing=0.1)


def _gather(state: Any, result: UnitResult | None) -> list[UnitResult]:
    if state.num_processes == 1:
        return [result] if result is not None else []
    from accelerate.utils import gather_object

    return [r for r in gather_object([result]) if r is not None]


def run_scan(model: Any, genome: Genome, regions: list[Region], out_dir: str | os.PathLike, cfg: ScanConfig,
             state: Any = None, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """Scan ``regions`` of ``genome`` with ``model``; process 0 writes the outputs into ``out_dir`` and every
    process returns the summary. ``state``: an accelerate ``PartialState`` (None: one process)."""
    state = state if state is not None else _SingleProcess()
    window = int(cfg.window or default_window(model.config))
    max_len = getattr(model.config, "max_sequence_length", None)
    if max_len and window > max_len:
        raise ValueError(f"--window {window} exceeds the model's max_sequence_length={max_len}")
    stride = int(cfg.stride or max(1, window // 2))
    target = resolve_target(model.config, cfg.target)
    plan = plan_scan(regions, window, stride, cfg.chunk_size)
    main = state.is_main_process
    writer = ScanWriter(Path(out_dir), plan, cfg, genome.chromosomes) if main else None
    total_bp = sum(r.length for r in regions)
    bar = _progress(total_bp, cfg.progress and main)
    bar.update(sum(r.length for r in regions if r.length < window))
    t0 = time.perf_counter()
    try:
        for r0 in range(0, len(plan.units), state.num_processes):
            k = r0 + state.process_index
            mine = score_unit(model, genome, plan.units[k], plan, cfg, target) if k < len(plan.units) else None
            for result in _gather(state, mine):
                if writer is not None:
                    writer.add(result)
                bar.update(result.bp)
        seconds = time.perf_counter() - t0
        summary = _summary(plan, cfg, writer, genome, total_bp, seconds, target, model, state, meta)
        if writer is not None:
            summary["outputs"] = [p.name for p in writer.commit()] + ["summary.json"]
            write_json_atomic(Path(out_dir) / "summary.json", summary)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    finally:
        bar.close()
    return summary


class _SingleProcess:
    num_processes = 1
    process_index = 0
    is_main_process = True


def _summary(plan: ScanPlan, cfg: ScanConfig, writer: ScanWriter | None, genome: Genome, total_bp: int,
             seconds: float, target: int, model: Any, state: Any, meta: dict[str, Any] | None) -> dict[str, Any]:
    import torch

    n_windows = sum(u.n_windows for u in plan.units)
    label = (getattr(model.config, "id2label", None) or {}).get(target, str(target))
    return {
        **(meta or {}),
        "genome": str(genome.path),
        "regions": len(plan.regions),
        "bp": total_bp,
        "window": plan.window,
        "stride": plan.stride,
        "strand": cfg.strand,
        "score": f"probability of output {target} ({label}); both strands: logits averaged over the window and "
                 "its reverse complement" if cfg.strand == "both" else f"probability of output {target} ({label})",
        "threshold": cfg.threshold,
        "max_n_fraction": cfg.max_n_fraction,
        "bedgraph_span": cfg.bedgraph_span,
        "windows": n_windows,
        "windows_scored": writer.n_scored if writer else None,
        "windows_skipped_n": writer.n_skipped if writer else None,
        "skipped_regions": plan.skipped_regions,
        "peaks": writer.peaks.count + (writer.peaks.open is not None) if writer else None,
        "units": len(plan.units),
        "chunk_size": cfg.chunk_size,
        "batch_size": cfg.batch_size,
        "processes": state.num_processes,
        "device": str(next(model.parameters()).device),
        "threads": torch.get_num_threads(),
        "host": platform.node(),
        "seconds": round(seconds, 3),
        "mbp_per_min": round(total_bp / 1e6 / (seconds / 60), 3) if seconds > 0 else None,
    }
