"""Genome-scan throughput against the model's bare forward throughput on the same windows, and peak memory of
a scan from a 1 Mbp to a 50 Mbp synthetic genome. Writes results.json and results.md with provenance.

For each size preset (random-weight LegNet of the chosen variant; speed does not depend on the weights) and each
thread count, in one process and interleaved (scan, bare, bare, scan, ...), so background load hits both alike:
  * scan: `genome.scan.run_scan` end to end on a synthetic genome (disk read through pyfaidx, encoding, N check,
    both strands, forward, bedGraph / peaks writing);
  * bare: only `model(inputs_embeds=...)` on the same windows, pre-encoded as one-hot tensors in the same batches
    (one forward per strand and batch, as the scan does).
Also timed, interleaved with them at 1 thread: the `dna-classification` pipeline (the route before `scan`) on the
50k model, on the same sequence held in memory.
Memory: `kan-genomics scan` in a fresh process per genome size, peak RSS (ru_maxrss) reported; the genome is read and
encoded in full, windows are taken every --memory-stride bp so the 50 Mbp run stays short on a CPU.
Synthetic genomes go to --work-dir (default under the system temp folder), never into the repository.

Command (the one that produced bench_results/scan/):
    OMP_NUM_THREADS=1 python scripts/bench_scan.py --output-dir bench_results/scan --bp 50k=20000 2M=4000 \
        --repeats 3 --memory-stride 20000
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from kan_genomics_hf import DNATokenizer, LegNetForSequenceClassification, preset_config, save_classifier  # noqa: E402
from kan_genomics_hf.experiments.provenance import cpu_model, uptime  # noqa: E402
from kan_genomics_hf.genome.encoding import encode_genome_slice  # noqa: E402
from kan_genomics_hf.genome.scan import ScanConfig, run_scan  # noqa: E402
from kan_genomics_hf.genome.synthetic import write_synthetic_genome  # noqa: E402
from kan_genomics_hf.io.atomic import write_json_atomic  # noqa: E402
from kan_genomics_hf.io.genome import Genome, resolve_regions  # noqa: E402
from kan_genomics_hf.models.predict import codes_to_one_hot  # noqa: E402

HG38_BP = 3_099_734_149  # GRCh38 total sequence length, all primary chromosomes and scaffolds
ROOT = Path(__file__).resolve().parents[1]
MAXRSS_WRAPPER = ("import resource, sys\nfrom kan_genomics_hf.cli import main\nrc = main(sys.argv[1:])\n"
                  "print('MAXRSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\nsys.exit(rc)\n")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--output-dir", default="bench_results/scan", help="where results.json / results.md go")
    p.add_argument("--work-dir", default=os.path.join(tempfile.gettempdir(), "kan-genomics-bench-scan"),
                   help="synthetic genomes, models and scan outputs (default: under the system temp folder)")
    p.add_argument("--presets", nargs="+", default=["50k", "2M"], help="size presets (default: 50k 2M)")
    p.add_argument("--variant", default="lkan", help="baseline | lkan | ckan (default: lkan)")
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2], help="torch thread counts (default: 1 2)")
    p.add_argument("--bp", nargs="+", default=["50k=100000", "2M=20000"],
                   help="genome size per preset, PRESET=BP (default: 50k=100000 2M=20000)")
    p.add_argument("--window", type=int, default=200, help="window in bp (default: 200)")
    p.add_argument("--stride", type=int, default=50, help="stride in bp (default: 50)")
    p.add_argument("--batch-size", type=int, default=128, help="windows per batch and strand (default: 128)")
    p.add_argument("--repeats", type=int, default=2, help="scan / bare pairs per setting (default: 2)")
    p.add_argument("--memory-mbp", nargs="+", type=int, default=[1, 50], help="genome sizes for the memory runs (default: 1 50)")
    p.add_argument("--memory-stride", type=int, default=5000, help="stride of the memory runs (default: 5000)")
    p.add_argument("--skip-memory", action="store_true", help="no memory runs")
    p.add_argument("--recompute", action="store_true",
                   help="only recompute the derived figures and results.md from --output-dir/results.json")
    return p.parse_args()


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def build_model(variant: str, preset: str, window: int, folder: Path) -> tuple[torch.nn.Module, Path]:
    torch.manual_seed(0)
    model = LegNetForSequenceClassification(preset_config(variant, preset)).eval()
    model.config.training_length = window
    save_classifier(model, DNATokenizer(), folder)
    return model, folder


def bare_batches(genome: Genome, window: int, stride: int, batch_size: int) -> list[torch.Tensor]:
    """The scan's windows (every stride, whole chromosomes) as one-hot batches, each strand its own, built up front."""
    batches = []
    for chrom, length in genome.chromosomes.items():
        codes = encode_genome_slice(genome.fetch(chrom, 0, length), chrom, 0)
        starts = np.arange(0, length - window + 1, stride)
        windows = np.lib.stride_tricks.sliding_window_view(codes, window)[starts]
        for s in range(0, len(windows), batch_size):
            x = codes_to_one_hot(torch.from_numpy(np.ascontiguousarray(windows[s: s + batch_size])))
            batches += [x, x.flip((1, 2))]  # one forward per strand, as the scan does
    return batches


def time_bare(model: torch.nn.Module, batches: list[torch.Tensor]) -> float:
    t0 = time.perf_counter()
    with torch.inference_mode():
        for x in batches:
            model(inputs_embeds=x, rc_averaging=False)
    return time.perf_counter() - t0


def time_scan(model, genome: Genome, out: Path, args: argparse.Namespace) -> tuple[float, dict]:
    cfg = ScanConfig(window=args.window, stride=args.stride, batch_size=args.batch_size, progress=False)
    t0 = time.perf_counter()
    summary = run_scan(model, genome, resolve_regions(None, genome), out, cfg)
    return time.perf_counter() - t0, summary


def make_pipeline(folder: Path, genome: Genome, args: argparse.Namespace):
    """The route before `scan`: the dna-classification pipeline on the sequence in memory (RC averaging);
    returns a function timing one call."""
    import warnings

    from transformers import pipeline

    import kan_genomics_hf  # noqa: F401 - registers the task

    pipe = pipeline("dna-classification", model=str(folder), device="cpu")
    chrom, length = next(iter(genome.chromosomes.items()))
    seq = genome.fetch(chrom, 0, length)

    def timed() -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            pipe(seq, window=args.window, stride=args.stride, rc_averaging=True, batch_size=args.batch_size)
            return time.perf_counter() - t0

    return timed


def derived(row: dict, bp: int, n_windows: int) -> dict:
    """Rates from the medians, and the scan / bare ratio as the median of the paired (adjacent) runs' ratios,
    which a load spike during one run moves less than the ratio of the medians."""
    scan_s, bare_s = statistics.median(row["scan_seconds"]), statistics.median(row["bare_seconds"])
    scan_rate, bare_rate = bp / 1e6 / (scan_s / 60), bp / 1e6 / (bare_s / 60)
    paired = [b / s for s, b in zip(row["scan_seconds"], row["bare_seconds"])]
    return {**row, "scan_mbp_per_min": round(scan_rate, 4), "bare_mbp_per_min": round(bare_rate, 4),
            "ratio_scan_to_bare": round(statistics.median(paired), 3),
            "ratio_of_medians": round(scan_rate / bare_rate, 3),
            "windows_per_second_scan": round(n_windows / scan_s, 1),
            "hg38_hours_projected": round(HG38_BP / 1e6 / scan_rate / 60, 1)}


def bench_preset(preset: str, bp: int, args: argparse.Namespace, work: Path) -> dict:
    model, folder = build_model(args.variant, preset, args.window, work / f"model-{args.variant}-{preset}")
    fasta = work / f"genome-{bp}.fa"
    write_synthetic_genome(fasta, {"chrS": bp}, sites_per_chrom=max(1, bp // 20_000), seed=1)
    genome = Genome(fasta)
    batches = bare_batches(genome, args.window, args.stride, args.batch_size)
    n_windows = sum(len(x) for x in batches) // 2
    rows = []
    pipe = make_pipeline(folder, genome, args) if preset == "50k" else None
    pipes: list[float] = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        time_bare(model, batches[:1])  # warm-up
        scans, bares = [], []
        for rep in range(args.repeats):
            order = ["scan", "bare"] if rep % 2 == 0 else ["bare", "scan"]
            if pipe is not None and threads == 1:
                order.insert(rep % 3, "pipeline")  # the old route, interleaved too (1 thread)
            for what in order:
                if what == "scan":
                    scans.append(time_scan(model, genome, work / f"scan-{preset}-{threads}", args)[0])
                elif what == "bare":
                    bares.append(time_bare(model, batches))
                else:
                    pipes.append(pipe())
            print(f"{preset} threads={threads} rep {rep}: scan {scans[-1]:.2f} s, bare {bares[-1]:.2f} s"
                  + (f", pipeline {pipes[-1]:.2f} s" if pipes and threads == 1 else ""), flush=True)
        rows.append(derived({"threads": threads, "scan_seconds": [round(s, 3) for s in scans],
                             "bare_seconds": [round(s, 3) for s in bares]}, bp, n_windows))
    result = {"preset": preset, "variant": args.variant, "parameters": int(sum(p.numel() for p in model.parameters())),
              "genome_bp": bp, "windows": n_windows, "by_threads": rows}
    if pipes:
        seconds = statistics.median(pipes)
        result["pipeline_1_thread"] = {"bp": bp, "seconds": [round(x, 3) for x in pipes],
                                       "mbp_per_min": round(bp / 1e6 / (seconds / 60), 4)}
    genome.close()
    return result


def memory_run(mbp: int, model_folder: Path, args: argparse.Namespace, work: Path) -> dict:
    chroms = max(1, mbp // 10)
    fasta = work / f"genome-mem-{mbp}mbp.fa"
    if not fasta.is_file():
        write_synthetic_genome(fasta, {f"chr{i + 1}": mbp * 1_000_000 // chroms for i in range(chroms)},
                               sites_per_chrom=10, n_runs_per_chrom=2, n_run_length=5000, seed=2)
    Genome(fasta).close()  # index outside the measured run
    cmd = [sys.executable, "-c", MAXRSS_WRAPPER, "scan", str(model_folder), "--genome", str(fasta), "--window",
           str(args.window), "--stride", str(args.memory_stride), "--strand", "plus", "--threads", "1",
           "--no-progress", "--output-dir", str(work / f"scan-mem-{mbp}")]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    seconds = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"memory run {mbp} Mbp failed: {proc.stderr[-2000:]}")
    maxrss = int(next(line.split()[1] for line in proc.stdout.splitlines() if line.startswith("MAXRSS_KB")))
    summary = json.loads((work / f"scan-mem-{mbp}" / "summary.json").read_text())
    return {"genome_mbp": mbp, "chromosomes": chroms, "peak_rss_mib": round(maxrss / 1024, 1),
            "windows_scored": summary["windows_scored"], "seconds": round(seconds, 1)}


def write_markdown(path: Path, results: dict) -> None:
    p = results["provenance"]
    lines = ["# Genome scan throughput and memory", "",
             f"Command: `{p['command']}`  ", f"Date: {p['date']}  ", f"Host: {p['host']}, {p['cpu']}, {p['cpus']} CPUs, "
             f"torch {p['torch']}, commit {p['commit'][:10]}  ", f"Load before: `{p['uptime_before']}`  ",
             f"Load after: `{p['uptime_after']}`  ", f"GPU: {p['gpu']}", "",
             f"Window {results['window']} bp, stride {results['stride']} bp, both strands (RC-averaged), batch "
             f"{results['batch_size']} windows per strand; Mbp/min = genome bp scanned per minute (median of "
             f"{results['repeats']} interleaved runs); scan / bare = median over the pairs of adjacent runs of "
             "bare time / scan time.", "",
             "| preset | params | threads | genome bp | scan Mbp/min | bare forward Mbp/min | scan / bare | hg38 (h, projected) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results["presets"]:
        for t in r["by_threads"]:
            lines.append(f"| {r['variant']} {r['preset']} | {r['parameters']:,} | {t['threads']} | {r['genome_bp']:,} | "
                         f"{t['scan_mbp_per_min']} | {t['bare_mbp_per_min']} | {t['ratio_scan_to_bare']:.1%} | "
                         f"{t['hg38_hours_projected']:,} |")
    for r in results["presets"]:
        if "pipeline_1_thread" in r:
            q = r["pipeline_1_thread"]
            lines += ["", f"Before `scan`: the `dna-classification` pipeline on a {q['bp']:,} bp record in memory "
                          f"({r['variant']} {r['preset']}, 1 thread, same window / stride / RC averaging, interleaved): "
                          f"{q['mbp_per_min']} Mbp/min."]
    if results.get("memory"):
        lines += ["", f"Peak memory (`kan-genomics scan`, fresh process, {results['variant']} 50k, 1 thread, plus strand, "
                      f"stride {results['memory_stride']} bp; every base read and encoded):", "",
                  "| genome | chromosomes | windows scored | peak RSS (MiB) | seconds |", "|---|---|---|---|---|"]
        for m in results["memory"]:
            lines.append(f"| {m['genome_mbp']} Mbp | {m['chromosomes']} | {m['windows_scored']:,} | {m['peak_rss_mib']} | "
                         f"{m['seconds']} |")
    lines += ["", "hg38 on a GPU: not measured (no GPU in this session).", ""]
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text("\n".join(lines))
    os.replace(tmp, path)


def main() -> int:
    args = parse_args()
    if args.recompute:
        path = Path(args.output_dir) / "results.json"
        results = json.loads(path.read_text())
        for r in results["presets"]:
            r["by_threads"] = [derived(t, r["genome_bp"], r["windows"]) for t in r["by_threads"]]
        results["provenance"]["recomputed_with"] = "python " + " ".join(sys.argv)
        write_json_atomic(path, results)
        write_markdown(path.with_name("results.md"), results)
        return 0
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    sizes = dict(item.split("=", 1) for item in args.bp)
    provenance = {"command": "python " + " ".join(sys.argv), "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "host": platform.node(), "cpu": cpu_model(), "cpus": os.cpu_count(), "python": platform.python_version(),
                  "torch": torch.__version__, "commit": git_commit(), "uptime_before": uptime(),
                  "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
                  "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none (not measured)"}
    results = {"window": args.window, "stride": args.stride, "batch_size": args.batch_size, "repeats": args.repeats,
               "variant": args.variant, "memory_stride": args.memory_stride, "presets": [], "memory": []}
    for preset in args.presets:
        results["presets"].append(bench_preset(preset, int(sizes[preset]), args, work))
    if not args.skip_memory:
        folder = work / f"model-{args.variant}-50k"
        if not folder.is_dir():
            build_model(args.variant, "50k", args.window, folder)
        results["memory"] = [memory_run(mbp, folder, args, work) for mbp in args.memory_mbp]
    provenance["uptime_after"] = uptime()
    results["provenance"] = provenance
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "results.json", results)
    write_markdown(out / "results.md", results)
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
