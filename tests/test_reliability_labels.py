"""Issue 13, item 3: labels are validated when a dataset is loaded (no silent relabelling)."""
from __future__ import annotations

import pandas as pd
import pytest

from kan_genomics_hf.data.loading import load_genomic_dataset

SEQS = ["ACGTACGTAC", "TTGACCATGA", "GGGCCCAATT", "CATGCATGCA"]


def table(path, labels, seqs=None):
    seqs = seqs or [SEQS[i % 4] for i in range(len(labels))]
    pd.DataFrame({"sequence": seqs, "label": labels}).to_csv(path, index=False)
    return path


def folder(tmp_path, train, test):
    table(tmp_path / "train.csv", train)
    table(tmp_path / "test.csv", test)
    return tmp_path


def test_free_text_fasta_headers_are_not_labels(tmp_path):
    fa = tmp_path / "genes.fa"
    fa.write_text("".join(f">NM_{i:06d}.1 Homo sapiens gene {i % 7}\nACGTACGT\n" for i in range(30)))
    with pytest.raises(ValueError, match=r"record 1 header 'NM_000000.1 Homo sapiens gene 0' carries no label"):
        load_genomic_dataset(str(fa))


def test_header_labels_that_are_all_distinct_look_like_free_text(tmp_path):
    fa = tmp_path / "x.fa"
    fa.write_text("".join(f">s{i} desc{i}\nACGTACGT\n" for i in range(30)))
    with pytest.raises(ValueError, match=r"look like free text \(30 distinct values for 30 records"):
        load_genomic_dataset(str(fa))


def test_fasta_label_syntax_is_read(tmp_path):
    fa = tmp_path / "ok.fa"
    fa.write_text("".join(f">s{i} label={'pos' if i % 2 else 'neg'}\nACGTACGT\n" for i in range(40)))
    dd = load_genomic_dataset(str(fa))
    assert dd["train"].features["label"].names == ["neg", "pos"]


def test_non_integer_number_is_an_error(tmp_path):
    with pytest.raises(ValueError, match=r"\[train\]: label 0.5 is not an integer class id.*problem_type='regression'"):
        load_genomic_dataset(str(folder(tmp_path, [0, 1, 0.5, 1] * 5, [0, 1])))


def test_continuous_labels_only_as_regression(tmp_path):
    path = folder(tmp_path, [i / 7 for i in range(20)], [0.25, 0.5])
    with pytest.raises(ValueError, match="is not an integer class id"):
        load_genomic_dataset(str(path))
    dd = load_genomic_dataset(str(path), problem_type="regression")
    assert dd["test"]["label"] == [0.25, 0.5] and dd["train"].features["label"].dtype == "float32"


def test_empty_class_is_an_error(tmp_path):
    with pytest.raises(ValueError, match=r"class ids must be 0..K-1 but \[0\] have no rows \(found \[1, 2\]\)"):
        load_genomic_dataset(str(folder(tmp_path, [1, 2] * 10, [1, 2])))


def test_integer_train_string_test_is_an_error(tmp_path):
    with pytest.raises(ValueError, match=r"label kinds differ between splits \(strings in test, integers in train\)"):
        load_genomic_dataset(str(folder(tmp_path, [0, 1] * 10, ["pos", "neg"])))


def test_class_in_test_but_not_train_is_an_error(tmp_path):
    with pytest.raises(ValueError, match=r"\[test\]: label\(s\) \['maybe'\] are not in train"):
        load_genomic_dataset(str(folder(tmp_path, ["neg", "pos"] * 10, ["pos", "maybe"])))


def test_label_map_declares_the_same_ids_in_every_split(tmp_path):
    dd = load_genomic_dataset(str(folder(tmp_path, ["pos", "neg"] * 10, ["neg", "pos"])),
                              label_map={"pos": 0, "neg": 1})
    assert dd["train"].features["label"].names == ["pos", "neg"] and dd["test"]["label"] == [1, 0]


def test_label_map_with_unknown_label_is_an_error(tmp_path):
    with pytest.raises(ValueError, match=r"\[test\]: label\(s\) \['x'\] are not in train"):
        load_genomic_dataset(str(folder(tmp_path, ["pos", "neg"] * 10, ["x"])), label_map=["neg", "pos"])


def test_nan_sequence_cell_is_an_error(tmp_path):
    table(tmp_path / "train.csv", [0, 1] * 10, seqs=["ACGT"] * 5 + [""] + ["ACGT"] * 14)
    table(tmp_path / "test.csv", [0, 1])
    with pytest.raises(ValueError, match=r"\[train\]: row 5 has no sequence \(an empty or NaN 'sequence' cell; 1 rows"):
        load_genomic_dataset(str(tmp_path))
