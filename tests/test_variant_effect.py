"""`kan-genomics variant-effect` on a synthetic genome with planted motifs: a variant destroying a motif scores
clearly negative, a neutral one near zero; REF mismatches and unscorable variants are reported, not scored."""
from __future__ import annotations

import csv

import pytest
from genome_helpers import trained_motif_model

from kan_genomics_hf.cli import main
from kan_genomics_hf.genome.synthetic import write_synthetic_genome
from kan_genomics_hf.io.genome import Genome
from kan_genomics_hf.io.vcf import iter_variants

HEADER = ["##fileformat=VCFv4.2", "##contig=<ID=chr1,length=6000>", "##contig=<ID=chr2,length=3000>",
          "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
SWAP = {"A": "C", "C": "A", "G": "T", "T": "G"}


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """Genome (a G4-like site and a TF-like site on chr1), a VCF of telling variants, and the effects TSV."""
    folder = tmp_path_factory.mktemp("variants")
    sites = write_synthetic_genome(folder / "g.fa", {"chr1": 6000, "chr2": 3000}, sites_per_chrom={"chr1": 2}, seed=5)
    g4, tf = sites
    with Genome(folder / "g.fa") as g:
        motif = g.fetch("chr1", tf.start, tf.end)
        anchor = g.fetch("chr1", tf.start - 1, tf.start)
        core = g4.start + 6  # a G of the G4's second G run
        far = g.fetch("chr1", 2999, 3000)
        mismatch = SWAP[g.fetch("chr1", 3499, 3500)]  # a REF that is not the genome's base
        edge = g.fetch("chr1", 9, 10)
        ins = g.fetch("chr1", 3999, 4000)
    records = [
        f"chr1\t{tf.start}\tdestroy_tf\t{anchor}{motif}\t{anchor}",  # deletes the whole TF-like motif
        f"chr1\t{core + 1}\tg4_core\tG\tT",
        f"chr1\t3000\tneutral\t{far}\t{SWAP[far]}",
        f"chr1\t3500\tbad_ref\t{mismatch}\tA,G",  # also multi-allelic
        "chr9\t100\tno_chrom\tA\tG",
        f"chr1\t10\tedge\t{edge}\t{SWAP[edge]}",
        f"chr1\t4000\tinsertion\t{ins}\t{ins}ACGTA",
        "chr1\t4500\tsymbolic\tA\t<DEL>",
    ]
    vcf = folder / "v.vcf"
    vcf.write_text("\n".join(HEADER + [r + "\t.\t.\t." for r in records]) + "\n")
    return folder, vcf, sites


@pytest.fixture(scope="module")
def effects(case):
    folder, vcf, _ = case
    out = folder / "effects.tsv"
    assert main(["variant-effect", str(trained_motif_model()), "--vcf", str(vcf), "--genome", str(folder / "g.fa"),
                 "--output", str(out), "--ism-flank", "3", "--no-progress", "--threads", "1"]) == 0
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return {f"{r['id']}:{r['alt']}": r for r in rows}, folder


def by_id(rows: dict, variant_id: str) -> dict:
    return next(r for k, r in rows.items() if k.split(":")[0] == variant_id)


def test_a_destroyed_motif_scores_clearly_negative_and_a_neutral_variant_near_zero(effects):
    rows, _ = effects
    destroy, core, neutral = by_id(rows, "destroy_tf"), by_id(rows, "g4_core"), by_id(rows, "neutral")
    for r in (destroy, core, neutral):
        assert r["status"] == "ok"
        assert float(r["delta"]) == pytest.approx(float(r["alt_score"]) - float(r["ref_score"]), abs=2e-6)
        assert float(r["delta_logit"]) == pytest.approx(float(r["alt_logit"]) - float(r["ref_logit"]), abs=2e-6)
    assert float(destroy["ref_score"]) > 0.9 and float(destroy["delta"]) < -0.5 and float(destroy["delta_logit"]) < -3
    assert float(core["delta"]) < -0.2
    assert abs(float(neutral["delta"])) < 0.05 and abs(float(neutral["delta_logit"])) < 1.5


def test_unscorable_variants_keep_a_row_with_their_status(effects, case):
    rows, _ = effects
    _, vcf, _ = case
    assert len(rows) == len(list(iter_variants(vcf))) == 9  # one row per ALT allele, in VCF order
    status = {k: r["status"] for k, r in rows.items()}
    assert status["bad_ref:A"] == status["bad_ref:G"] == "ref_mismatch"
    assert rows["bad_ref:A"]["note"].startswith("genome has ") and rows["bad_ref:A"]["ref_score"] == "NA"
    assert status["no_chrom:G"] == "unknown_chromosome"
    assert status["symbolic:<DEL>"] == "unsupported_allele"
    assert by_id(rows, "edge")["status"] == "near_chromosome_end"
    assert by_id(rows, "insertion")["status"] == "ok"


def test_the_ism_map_surrounds_each_scored_variant(effects):
    rows, folder = effects
    ism = list(csv.DictReader(open(folder / "effects.ism.tsv", newline=""), delimiter="\t"))
    scored = [r for r in rows.values() if r["status"] == "ok"]
    assert len(ism) == 7 * len(scored)
    for r in ism:
        assert float(r[f"effect_{r['ref_base']}"]) == 0.0  # the reference base itself has no effect


def test_reference_mismatches_are_counted_on_stderr(case, tmp_path, capsys):
    folder, vcf, _ = case
    assert main(["variant-effect", str(trained_motif_model()), "--vcf", str(vcf), "--genome", str(folder / "g.fa"),
                 "--output", str(tmp_path / "e.tsv"), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "warning: 2 variant(s) not scored: ref_mismatch (first: chr1:3500 " in err
    assert "warning: 1 variant(s) not scored: unknown_chromosome (first: chr9:100 A>G: chr9 is not in g.fa)" in err


def test_bad_vcf_inputs_end_in_one_error_line(case, tmp_path, capsys):
    folder, _, _ = case
    model = str(trained_motif_model())

    def error(*argv) -> str:
        assert main(["variant-effect", model, *map(str, argv), "--no-progress"]) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, err
        return err

    out = tmp_path / "e.tsv"
    assert "VCF file" in error("--vcf", tmp_path / "none.vcf", "--genome", folder / "g.fa", "--output", out)
    bad = tmp_path / "bad.vcf"
    bad.write_text("not a vcf\n")
    assert "is not a readable VCF/BCF file" in error("--vcf", bad, "--genome", folder / "g.fa", "--output", out)
    assert "--output" in error("--vcf", bad, "--genome", folder / "g.fa", "--output", tmp_path)
    assert "--window 1000 exceeds" in error("--vcf", bad, "--genome", folder / "g.fa", "--output", out, "--window", 1000)
    assert not out.exists()
