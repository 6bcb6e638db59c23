"""`kan-genomics scan` on a synthetic genome written here: planted motif sites (both strands) and N runs, a bgzipped
copy; a model trained on the built-in synthetic data finds the sites as peaks; one- and two-process scans write
the same bytes; bad inputs end in one `error:` line or a reported skip."""
from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from genome_helpers import read_peaks, recall_precision, trained_motif_model

from kan_genomics_hf.cli import main
from kan_genomics_hf.genome.scan import _PeakCaller, plan_scan
from kan_genomics_hf.genome.synthetic import write_synthetic_genome
from kan_genomics_hf.io.genome import Genome, Region, parse_region, resolve_regions

ROOT = Path(__file__).resolve().parents[1]
LENGTHS = {"chr1": 24_000, "chr2": 16_000, "chrM": 80}
SCAN = ["--stride", "25", "--threads", "1", "--no-progress"]


@pytest.fixture(scope="module")
def genome(tmp_path_factory):
    folder = tmp_path_factory.mktemp("genome")
    sites = write_synthetic_genome(folder / "g.fa", LENGTHS, sites_per_chrom={"chr1": 8, "chr2": 6}, n_runs_per_chrom=1,
                                   n_run_length=600, seed=3, bgzip_copy=folder / "g.fa.bgz")
    return folder, sites


@pytest.fixture(scope="module")
def model():
    return trained_motif_model()


@pytest.fixture(scope="module")
def scanned(genome, model, tmp_path_factory):
    """One single-process scan of the bgzipped genome (both strands, RC-averaged)."""
    folder, _ = genome
    out = tmp_path_factory.mktemp("scan") / "out"
    assert main(["scan", str(model), "--genome", str(folder / "g.fa.bgz"), *SCAN, "--output-dir", str(out)]) == 0
    return out


def test_the_planted_sites_come_back_as_peaks(genome, scanned, capsys):
    _, sites = genome
    assert {s.strand for s in sites} == {"+", "-"}
    peaks = read_peaks(scanned / "peaks.bed")
    for threshold in (0.5, 0.75, 0.9):
        recall, precision, n = recall_precision(peaks, sites, threshold)
        print(f"\nplanted sites: {len(sites)}; peaks with max >= {threshold}: {n}; recall {recall:.3f}, "
              f"precision {precision:.3f}")
    recall, precision, _ = recall_precision(peaks, sites, 0.75)
    assert recall >= 0.9
    assert precision >= 0.6
    minus = [s for s in sites if s.strand == "-"]
    assert recall_precision(peaks, minus, 0.75)[0] >= 0.9  # sites written as reverse complements are found too
    # summits lie inside their peak, peaks do not overlap and come sorted
    assert all(start <= summit < end for _, start, end, _, summit in peaks)
    keys = [(c, s) for c, s, *_ in peaks]
    assert keys == sorted(keys)
    assert all(a[0] != b[0] or a[2] <= b[1] for a, b in zip(peaks, peaks[1:]))


def test_bedgraph_is_sorted_in_genome_coordinates_and_reports_skips(genome, scanned):
    rows = [line.split("\t") for line in (scanned / "scores.bedgraph").read_text().splitlines()]
    keys = [(r[0], int(r[1])) for r in rows]
    assert keys == sorted(keys) and {r[0] for r in rows} == {"chr1", "chr2"}
    assert all(int(r[2]) - int(r[1]) == 25 and 0.0 <= float(r[3]) <= 1.0 for r in rows)
    assert max(int(r[2]) for r in rows if r[0] == "chr1") <= LENGTHS["chr1"]
    summary = json.loads((scanned / "summary.json").read_text())
    assert summary["window"] == 100 and summary["stride"] == 25 and summary["processes"] == 1
    assert summary["windows_skipped_n"] > 0  # the N runs
    assert summary["windows_scored"] + summary["windows_skipped_n"] == summary["windows"] == len(rows) + summary[
        "windows_skipped_n"]
    assert summary["skipped_regions"] == [{"region": "chrM:1-80", "length": 80, "reason": "shorter than the window (100 bp)"}]
    assert summary["bp"] == sum(LENGTHS.values())


def test_plain_and_bgzipped_fasta_give_the_same_scan(genome, model, scanned, tmp_path):
    folder, _ = genome
    assert main(["scan", str(model), "--genome", str(folder / "g.fa"), *SCAN, "--chunk-size", "4000",
                 "--output-dir", str(tmp_path)]) == 0
    for name in ("scores.bedgraph", "peaks.bed"):
        assert (tmp_path / name).read_bytes() == (scanned / name).read_bytes(), name


def test_two_processes_write_the_same_bytes_as_one(genome, model, scanned, tmp_path):
    folder, _ = genome
    shutil.copy(folder / "g.fa.bgz", tmp_path / "g.fa.bgz")  # a fresh copy: the two processes index it themselves
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "MASTER_PORT": str(29500 + os.getpid() % 2000)}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines",
           "1", "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", env["MASTER_PORT"],
           "-m", "kan_genomics_hf", "scan", str(model), "--genome", str(tmp_path / "g.fa.bgz"), *SCAN, "--cpu",
           "--chunk-size", "3000", "--output-dir", str(tmp_path / "out")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["processes"] == 2 and summary["units"] > 2
    for name in ("scores.bedgraph", "peaks.bed"):
        assert (tmp_path / "out" / name).read_bytes() == (scanned / name).read_bytes(), name


def test_a_region_string_scans_in_genome_coordinates(genome, model, scanned, tmp_path):
    folder, _ = genome
    assert main(["scan", str(model), "--genome", str(folder / "g.fa"), "--regions", "chr1:1001-5000", *SCAN,
                 "--output-dir", str(tmp_path)]) == 0
    part = (tmp_path / "scores.bedgraph").read_text().splitlines()
    whole = [r for r in (scanned / "scores.bedgraph").read_text().splitlines()
             if r.startswith("chr1\t") and 1000 <= int(r.split("\t")[1]) - 37 and int(r.split("\t")[1]) - 37 + 100 <= 5000]
    assert part and part == whole  # the same windows, the same scores, at chromosome positions


def test_per_strand_tracks_and_bigwig(genome, model, tmp_path):
    pyBigWig = pytest.importorskip("pyBigWig")
    folder, _ = genome
    assert main(["scan", str(model), "--genome", str(folder / "g.fa"), "--regions", "chr2", *SCAN, "--per-strand",
                 "--bigwig", "--output-dir", str(tmp_path)]) == 0

    def column(name):
        return np.array([float(r.split("\t")[3]) for r in (tmp_path / name).read_text().splitlines()])

    both, plus, minus = column("scores.bedgraph"), column("scores.plus.bedgraph"), column("scores.minus.bedgraph")
    assert len(both) == len(plus) == len(minus) and not np.allclose(plus, minus)

    def logit(p):
        p = np.clip(p, 1e-5, 1 - 1e-5)
        return np.log(p / (1 - p))

    mixed = 1 / (1 + np.exp(-(logit(plus) + logit(minus)) / 2))
    ok = (plus > 1e-4) & (plus < 1 - 1e-4) & (minus > 1e-4) & (minus < 1 - 1e-4)
    assert np.allclose(both[ok], mixed[ok], atol=2e-3)  # 'both' averages the two strands' logits
    bw = pyBigWig.open(str(tmp_path / "scores.bw"))
    first = (tmp_path / "scores.bedgraph").read_text().splitlines()[0].split("\t")
    assert bw.chroms() == {"chr2": LENGTHS["chr2"]}
    assert bw.values("chr2", int(first[1]), int(first[1]) + 1)[0] == pytest.approx(float(first[3]), abs=1e-5)
    bw.close()


def _scan_error(capsys, *argv) -> str:
    assert main(["scan", *map(str, argv), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


def test_bad_inputs_end_in_one_error_line(genome, model, tmp_path, capsys):
    folder, _ = genome
    fa, out = folder / "g.fa", tmp_path / "out"
    err = _scan_error(capsys, model, "--genome", fa, "--regions", "chr9:1-500", "--output-dir", out)
    assert "chromosome 'chr9' is not in genome g.fa (it has chr1, chr2, chrM)" in err
    err = _scan_error(capsys, model, "--genome", fa, "--regions", "chr2:15001-17000", "--output-dir", out)
    assert "region chr2:15001-17000 ends past the end of chr2 (16,000 bp in g.fa); clip it to chr2:15001-16000" in err
    err = _scan_error(capsys, model, "--genome", fa, "--regions", "chr2:100", "--output-dir", out)
    assert "is not chrom:start-end" in err
    err = _scan_error(capsys, model, "--genome", tmp_path / "missing.fa", "--output-dir", out)
    assert "genome FASTA" in err and "does not exist" in err
    gz = tmp_path / "g.fa.gz"
    gz.write_bytes(gzip.compress(fa.read_bytes()))
    assert "not bgzip-compressed" in _scan_error(capsys, model, "--genome", gz, "--output-dir", out)
    err = _scan_error(capsys, model, "--genome", fa, "--window", "500", "--output-dir", out)
    assert "--window 500 exceeds the model's max_sequence_length=400" in err
    assert "--stride must be >= 1" in _scan_error(capsys, model, "--genome", fa, "--stride", "0", "--output-dir", out)
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t100\t50\n")
    assert "empty or negative interval" in _scan_error(capsys, model, "--genome", fa, "--regions", bed, "--output-dir", out)
    assert not out.exists()


def test_a_window_longer_than_the_region_is_a_reported_skip(genome, model, tmp_path, capsys):
    folder, _ = genome
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t1000\t1050\nchr2\t0\t400\n")
    assert main(["scan", str(model), "--genome", str(folder / "g.fa"), "--regions", str(bed), *SCAN,
                 "--output-dir", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "warning: region chr1:1001-1050 (50 bp) skipped: shorter than the window (100 bp)" in err
    rows = (tmp_path / "out" / "scores.bedgraph").read_text().splitlines()
    assert len(rows) == 13 and {r.split("\t")[0] for r in rows} == {"chr2"}  # (400 - 100) / 25 + 1 windows


def test_regions_are_parsed_merged_and_checked(genome):
    folder, _ = genome
    assert parse_region("chr1:1,001-2,000") == Region("chr1", 1000, 2000)
    with Genome(folder / "g.fa") as g:
        assert g.fetch("chr1", 0, 5) == (folder / "g.fa").read_text().splitlines()[1][:5]
        assert resolve_regions(["chr2:1-100", "chr1:50-60", "chr2:90-200"], g) == [Region("chr1", 49, 60),
                                                                                  Region("chr2", 0, 200)]
        assert resolve_regions(None, g) == [Region(c, 0, n) for c, n in sorted(LENGTHS.items())]


def test_plan_covers_each_region_once():
    regions = [Region("a", 0, 1000), Region("b", 10, 60), Region("c", 5, 1000)]
    plan = plan_scan(regions, window=100, stride=30, chunk_size=200)
    assert sum(u.bp for u in plan.units) == 1000 + 995 and [s["region"] for s in plan.skipped_regions] == ["b:11-60"]
    starts = [u.first_start + k * 30 for u in plan.units if u.chrom == "a" for k in range(u.n_windows)]
    assert starts == list(range(0, 901, 30))


def test_peaks_merge_across_units_and_break_at_gaps():
    lines: list[str] = []
    caller = _PeakCaller(window=100, stride=50, threshold=0.5, strand="both", write=lines.append)
    caller.add(0, "a", np.array([0, 50, 100, 150]), np.array([0.1, 0.6, 0.7, 0.9]))
    caller.add(0, "a", np.array([200, 250, 400]), np.array([0.8, 0.2, 0.95]))  # continues, ends, then a gap
    caller.add(1, "a", np.array([450]), np.array([0.99]))  # another region: never merged
    caller.close()
    assert [line.split("\t")[:3] + line.split("\t")[6:] for line in lines] == [
        ["a", "75", "275", "0.90000", "200\n"], ["a", "425", "475", "0.95000", "450\n"], ["a", "475", "525", "0.99000", "500\n"]]


@pytest.mark.parametrize("command", ["scan", "variant-effect"])
def test_every_option_has_help_and_shows_its_default(command):
    import argparse

    from kan_genomics_hf.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    problems = []
    for action in sub.choices[command]._actions:
        if not action.option_strings or isinstance(action, argparse._HelpAction):
            continue
        valued = action.nargs != 0 and action.default not in (None, False, [], argparse.SUPPRESS)
        if not action.help or action.help.count("(default") > 1 or (valued and "(default" not in action.help):
            problems.append(action.option_strings[0])
    assert problems == []
