"""The one FASTA / BED / sequence-file reader: suffixes, compression, line endings, BOM, clear errors."""
from __future__ import annotations

import gzip

import pytest

from kan_genomics_hf.io import FASTA_SUFFIXES, read_bed, read_fasta, read_sequence_records, read_sequences, write_fasta
from kan_genomics_hf.io.fasta import FastaRecord, is_fasta_path

TEXT = ">a first one\nACGT\nAC\n>b\nGGGG\n"


@pytest.mark.parametrize("suffix", FASTA_SUFFIXES)
def test_every_suffix_reads_the_same_records(tmp_path, suffix):
    path = tmp_path / f"x{suffix}"
    data = TEXT.encode()
    path.write_bytes(gzip.compress(data) if suffix.endswith(("gz", "bgz")) else data)
    assert is_fasta_path(path)
    assert read_fasta(path) == [FastaRecord("a", "a first one", "ACGTAC"), FastaRecord("b", "b", "GGGG")]


def test_windows_line_endings_bom_and_bgzf(tmp_path):
    crlf = tmp_path / "w.fa"
    crlf.write_bytes(b"\xef\xbb\xbf" + TEXT.replace("\n", "\r\n").encode())
    assert [r.sequence for r in read_fasta(crlf)] == ["ACGTAC", "GGGG"]
    out = write_fasta(tmp_path / "o.fa.bgz", read_fasta(crlf), width=3)
    assert read_fasta(out) == read_fasta(crlf)
    assert out.read_bytes()[:4] == b"\x1f\x8b\x08\x04"  # BGZF: gzip with the extra field


def test_write_fasta_is_atomic_and_wraps(tmp_path):
    path = write_fasta(tmp_path / "sub" / "g.fa", ["ACGTA", "GG"], names=["x", "y"], width=2)
    assert path.read_text() == ">x\nAC\nGT\nA\n>y\nGG\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["g.fa"]
    assert read_fasta(write_fasta(tmp_path / "g.fa.gz", ["ACGT"]))[0] == FastaRecord("seq0", "seq0", "ACGT")
    with pytest.raises(ValueError, match="2 names for 1 sequences"):
        write_fasta(tmp_path / "bad.fa", ["A"], names=["a", "b"])


def test_errors_name_the_file_and_record(tmp_path):
    before = tmp_path / "before.fa"
    before.write_text("ACGT\n>a\nAC\n")
    with pytest.raises(ValueError, match=r"before.fa:1: sequence data before the first '>' header"):
        read_fasta(before)
    empty = tmp_path / "empty.fa"
    empty.write_text(">a\nAC\n>b\n>c\nGG\n")
    with pytest.raises(ValueError, match=r"empty.fa: record 2 \('b'\) has no sequence"):
        read_fasta(empty)
    assert [r.sequence for r in read_fasta(empty, allow_empty=True)] == ["AC", "", "GG"]
    blank = tmp_path / "blank.fa"
    blank.write_text("\n\n")
    with pytest.raises(ValueError, match="blank.fa: no FASTA records"):
        read_fasta(blank)
    with pytest.raises(FileNotFoundError, match="missing.fa"):
        read_fasta(tmp_path / "missing.fa")


def test_sequence_files_fasta_table_and_lines(tmp_path):
    fa = tmp_path / "s.txt"
    fa.write_text(TEXT)  # a leading '>' makes it FASTA whatever the suffix
    assert [r.id for r in read_sequence_records(fa)] == ["a", "b"]
    csv = tmp_path / "s.csv"
    csv.write_text("id,sequence,cell\nr1,ACGT,x\nr2,GGCC,y\n")
    assert [(r.id, r.sequence) for r in read_sequence_records(csv)] == [("r1", "ACGT"), ("r2", "GGCC")]
    assert read_sequences(csv, filter_column="cell", filter_value="y") == ["GGCC"]
    with pytest.raises(ValueError, match="no column 'seq'"):
        read_sequences(csv, column="seq")
    lines = tmp_path / "l.txt"
    lines.write_text("ACGT\n\nTTTT\n")
    assert read_sequences(lines) == ["ACGT", "TTTT"] and read_sequences(lines, limit=1) == ["ACGT"]


def test_bed_reader(tmp_path):
    bed = tmp_path / "r.bed.gz"
    bed.write_bytes(gzip.compress(b"track name=x\n#c\nchr1\t10\t20\tname\nchr2 5 9\n"))
    assert read_bed(bed) == [("chr1", 10, 20), ("chr2", 5, 9)]
    bad = tmp_path / "bad.bed"
    bad.write_text("chr1\t20\t10\n")
    with pytest.raises(ValueError, match=r"bad.bed:1: empty or negative interval 20-10"):
        read_bed(bad)
