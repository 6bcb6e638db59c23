"""`kan-genomics scan`: slide a trained classifier over a genome FASTA (plain or bgzipped) or regions of it,
both strands, chromosome by chromosome in chunks; writes DIR/scores.bedgraph (chrom, 0-based start, end,
score of the positive class, sorted), DIR/peaks.bed (adjacent windows >= --threshold merged: chrom, start,
end, name, score 0-1000, strand, max score, summit) and DIR/summary.json (optionally per-strand bedGraphs and
a bigWig). Region strings are samtools-style, 1-based inclusive (chr1:1001-2000 = BED chr1 1000 2000).

Several processes (GPUs, or CPU processes) split the chunks and process 0 writes one merged output, identical
to a one-process run:  accelerate launch --multi_gpu --num_processes 2 -m kan_genomics_hf scan ...  (add
--cpu to the scan flags for CPU processes)."""
from __future__ import annotations

import argparse
import sys

from ._common import add_runtime_args, fail, setup_runtime


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("scan", help="scan a genome FASTA: bedGraph of window scores, BED of peaks",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="saved model folder (e.g. <run>/best) or Hub id user/name")
    p.add_argument("--genome", required=True, help="genome FASTA, plain or bgzipped (indexed with pyfaidx on first use)")
    p.add_argument("--regions", nargs="+", default=None, metavar="BED_OR_REGION",
                   help="BED files and/or regions chr:start-end (1-based inclusive) or chromosome names "
                        "(default: every chromosome)")
    p.add_argument("--window", type=int, default=None, help="window length in bp (default: the model's training length)")
    p.add_argument("--stride", type=int, default=None, help="step between windows in bp (default: window // 2)")
    p.add_argument("--strand", choices=("both", "plus", "minus"), default="both",
                   help="both: average the logits of each window and its reverse complement (default: both)")
    p.add_argument("--per-strand", action="store_true",
                   help="with --strand both, also write scores.plus.bedgraph and scores.minus.bedgraph")
    p.add_argument("--threshold", type=float, default=0.5, help="peak threshold on the score (default: 0.5)")
    p.add_argument("--max-n-fraction", type=float, default=0.1,
                   help="skip (and count) windows with a larger fraction of N (default: 0.1)")
    p.add_argument("--target", default=None,
                   help="output scored as positive, index or label name (default: 1 for two classes, else 0)")
    p.add_argument("--batch-size", type=int, default=128, help="windows per forward pass, per strand (default: 128)")
    p.add_argument("--chunk-size", type=int, default=1_000_000,
                   help="bp of window starts read and scored at once; the unit of work split between processes "
                        "(default: 1000000)")
    p.add_argument("--bedgraph-span", choices=("bin", "window"), default="bin",
                   help="bin: each row is the central min(stride, window) bp of its window, so rows do not overlap; "
                        "window: the whole window (default: bin)")
    p.add_argument("--bigwig", action="store_true", help="also write scores.bw (needs pyBigWig: pip install "
                                                         "'kan-genomics-hf[bigwig]')")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--output-dir", required=True, help="folder for scores.bedgraph, peaks.bed and summary.json")
    add_runtime_args(p)
    p.set_defaults(func=run)


def check_args(args: argparse.Namespace) -> str | None:
    """The first problem with the numeric flags, as a one-line message, or None."""
    for flag, value in (("--window", args.window), ("--stride", args.stride), ("--batch-size", args.batch_size),
                        ("--chunk-size", args.chunk_size)):
        if value is not None and value < 1:
            return f"{flag} must be >= 1, got {value}"
    if not 0.0 <= args.max_n_fraction <= 1.0:
        return f"--max-n-fraction must be in [0, 1], got {args.max_n_fraction}"
    if not 0.0 <= args.threshold <= 1.0:
        return f"--threshold is a probability in [0, 1], got {args.threshold}"
    return None


def process_state(cpu: bool):
    """accelerate's PartialState: the processes of `accelerate launch`, or this one process alone."""
    import torch
    from accelerate import PartialState

    return PartialState(cpu=cpu or not torch.cuda.is_available())


def end_processes(state, barrier: bool = True) -> None:
    """Tear down the process group of a multi-process scan. After a completed scan every process first waits for
    the others (process 0 is still writing the outputs): a process that destroyed its gloo group while a peer was
    still working was seen to abort at exit. After an error there is no barrier, since a peer may never reach it."""
    import torch.distributed as dist

    if state.num_processes > 1 and dist.is_available() and dist.is_initialized():
        if barrier:
            dist.barrier()
        dist.destroy_process_group()


def run(args: argparse.Namespace) -> int:
    problem = check_args(args)
    if problem:
        return fail(problem)
    setup_runtime(args)
    from ..genome.scan import ScanConfig, run_scan
    from ..io.genome import Genome, resolve_regions
    from .evaluate import load_model_and_tokenizer

    state = process_state(args.cpu)
    cfg = ScanConfig(window=args.window, stride=args.stride, strand=args.strand, per_strand=args.per_strand,
                     threshold=args.threshold, max_n_fraction=args.max_n_fraction, batch_size=args.batch_size,
                     chunk_size=args.chunk_size, target=args.target, bedgraph_span=args.bedgraph_span,
                     bigwig=args.bigwig, progress=not args.no_progress)
    try:
        with state.main_process_first():  # process 0 writes the .fai index, the others read it
            genome = Genome(args.genome)
        model, _ = load_model_and_tokenizer(args.model)
        model.to(state.device)
        regions = resolve_regions(args.regions, genome)
        meta = {"command": "kan-genomics " + " ".join(sys.argv[1:]), "model": str(args.model)}
        summary = run_scan(model, genome, regions, args.output_dir, cfg, state=state, meta=meta)
    except (ValueError, FileNotFoundError, TypeError) as err:
        end_processes(state, barrier=False)
        return fail(str(err).splitlines()[0]) if state.is_main_process else 1
    if state.is_main_process:
        for skipped in summary["skipped_regions"]:
            print(f"warning: region {skipped['region']} ({skipped['length']} bp) skipped: {skipped['reason']}",
                  file=sys.stderr)
        print(f"scanned {summary['bp']:,} bp in {summary['seconds']:.1f} s ({summary['mbp_per_min']} Mbp/min, "
              f"{summary['processes']} process(es)): {summary['windows_scored']:,} windows scored, "
              f"{summary['windows_skipped_n']:,} skipped for N > {args.max_n_fraction:g}, {summary['peaks']:,} peaks "
              f"-> {args.output_dir}")
    end_processes(state)
    return 0
