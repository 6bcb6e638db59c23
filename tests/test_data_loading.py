"""load_genomic_dataset: every source format, the synthetic set, error messages and the summary."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kan_genomics_hf.data.loading import UnknownDatasetError, load_genomic_dataset, valid_dataset_names
from kan_genomics_hf.data.summary import format_summary, summarize_dataset
from kan_genomics_hf.data.synthetic import load_synthetic
from kan_genomics_hf.sequence import gc_content


def _df(n, seed=0, length=30):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"sequence": ["".join(rng.choice(list("ACGT"), length)) for _ in range(n)],
                         "label": [i % 2 for i in range(n)]})


def test_synthetic_deterministic_and_gc_matched():
    a = load_synthetic(n_train=400, n_validation=50, n_test=50, length=80, seed=3)
    b = load_synthetic(n_train=400, n_validation=50, n_test=50, length=80, seed=3)
    c = load_synthetic(n_train=400, n_validation=50, n_test=50, length=80, seed=4)
    assert a["train"]["sequence"] == b["train"]["sequence"] and a["train"]["sequence"] != c["train"]["sequence"]
    gc = gc_content(a["train"]["sequence"])
    y = np.array(a["train"]["label"])
    assert abs(gc[y == 0].mean() - gc[y == 1].mean()) < 0.02  # GC does not give the label away
    assert a["train"].features["label"].names == ["background", "motif"]
    three = load_synthetic(n_train=90, n_validation=30, n_test=30, length=60, num_classes=3)
    assert sorted(set(three["train"]["label"])) == [0, 1, 2]
    with pytest.raises(ValueError, match="difficulty"):
        load_synthetic(difficulty=2)


def test_split_folder_csv_tsv_parquet(tmp_path):
    for i, (split, suffix) in enumerate((("train", "csv"), ("dev", "tsv"), ("test", "parquet"))):
        df = _df(40, seed=i)
        if suffix == "csv":
            df.to_csv(tmp_path / f"{split}.csv", index=False)
        elif suffix == "tsv":
            df.to_csv(tmp_path / f"{split}.tsv", sep="\t", index=False)
        else:
            df.to_parquet(tmp_path / f"{split}.parquet")
    dd = load_genomic_dataset(str(tmp_path))
    assert list(dd) == ["train", "validation", "test"] and len(dd["validation"]) == 40
    assert dd["train"].features["label"].num_classes == 2


def test_gue_layouts_and_env(tmp_path, monkeypatch):
    flat = tmp_path / "flat" / "tf_0"
    grouped = tmp_path / "authors" / "tf" / "0"
    for folder in (flat, grouped):
        folder.mkdir(parents=True)
        for split in ("train", "dev", "test"):
            _df(20).to_csv(folder / f"{split}.csv", index=False)
    assert len(load_genomic_dataset("gue/tf_0", data_dir=tmp_path / "flat")["train"]) == 20
    monkeypatch.setenv("KAN_GENOMICS_GUE_ROOT", str(tmp_path / "authors"))
    assert len(load_genomic_dataset("gue/tf_0")["validation"]) == 20
    with pytest.raises(FileNotFoundError, match="train.csv"):
        load_genomic_dataset("gue/tf_1")
    with pytest.raises(UnknownDatasetError, match="gue/tf_0"):
        load_genomic_dataset("gue/not_a_task")


def test_unknown_name_lists_valid_names():
    with pytest.raises(UnknownDatasetError) as err:
        load_genomic_dataset("no_such_dataset")
    for name in ("synthetic", "gb/human_nontata_promoters", "gue/prom_core_all", "gue_plus/fungi"):
        assert name in str(err.value)
    assert len(valid_dataset_names()) > 40


def test_single_csv_with_split_column_and_string_labels(tmp_path):
    df = _df(60)
    df["label"] = np.where(df["label"] == 1, "g4", "random")
    df["split"] = ["train"] * 40 + ["valid"] * 10 + ["test"] * 10
    df.to_csv(tmp_path / "flipons.csv", index=False)
    dd = load_genomic_dataset(tmp_path / "flipons.csv")
    assert [len(dd[s]) for s in dd] == [40, 10, 10]
    assert dd["train"].features["label"].names == ["g4", "random"]


def test_missing_column_error_names_file(tmp_path):
    pd.DataFrame({"dna": ["ACGT"] * 5, "y_value": [0, 1, 0, 1, 0]}).to_csv(tmp_path / "x.csv", index=False)
    with pytest.raises(ValueError, match="no label column"):
        load_genomic_dataset(tmp_path / "x.csv")


def test_dnadiffusion_table_chromosome_split(tmp_path):
    rows = []
    for chrom in ("chr1", "chr2", "chr3", "chr4"):
        for cell in ("K562_X", "GM12878_Y"):
            rows.append({"dhs_id": f"{chrom}_{cell}", "chr": chrom, "start": 1, "end": 2,
                         "sequence": "ACGT" * 5, "cell_type": cell, "split": "train"})
    pd.DataFrame(rows).to_csv(tmp_path / "dhs.csv", index=False)
    dd = load_genomic_dataset("dnadiffusion", data_dir=tmp_path / "dhs.csv")
    assert set(dd["test"]["chr"]) == {"chr1"} and set(dd["validation"]["chr"]) == {"chr2"}
    assert dd["train"].features["label"].names == ["GM12878", "K562"]


def test_fasta_header_labels_and_per_class(tmp_path):
    fa = tmp_path / "seqs.fa"
    fa.write_text("".join(f">s{i} label={i % 2}\nACGTACGT\nAC{'G' * (i % 3)}\n" for i in range(40)))
    dd = load_genomic_dataset(fa)
    assert sum(len(d) for d in dd.values()) == 40 and dd["train"][0]["sequence"].startswith("ACGTACGTAC")
    per = tmp_path / "per_class"
    per.mkdir()
    for cls in ("pos", "neg"):
        (per / f"{cls}.fasta").write_text("".join(f">{cls}{i}\nACGTTT{i}\n".replace(str(i), "A" * (i % 4))
                                                  for i in range(30)))
    dd = load_genomic_dataset(per)
    assert dd["train"].features["label"].names == ["neg", "pos"]
    bad = tmp_path / "bad.fa"
    bad.write_text("ACGT\n>x 1\nAC\n")
    with pytest.raises(ValueError, match="before the first"):
        load_genomic_dataset(bad)


def test_genomic_benchmarks_via_hub_loader(monkeypatch, tmp_path):
    """The GB path calls datasets.load_dataset on the Hub repo; here it is served from local parquet."""
    import datasets

    _df(50).rename(columns={"sequence": "seq"}).to_parquet(tmp_path / "train.parquet")
    _df(20).rename(columns={"sequence": "seq"}).to_parquet(tmp_path / "test.parquet")
    calls = []
    real_load_dataset = datasets.load_dataset

    def fake_load_dataset(repo, data_dir=None, **kw):
        calls.append(repo)
        return real_load_dataset("parquet", data_files={"train": str(tmp_path / "train.parquet"),
                                                            "test": str(tmp_path / "test.parquet")})

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    dd = load_genomic_dataset("gb/human_nontata_promoters", seed=1)
    assert calls == ["katarinagresova/Genomic_Benchmarks_human_nontata_promoters"]
    assert (len(dd["train"]), len(dd["validation"]), len(dd["test"])) == (45, 5, 20)
    with pytest.raises(UnknownDatasetError):
        load_genomic_dataset("gb/nope")


def test_summary_reports_leakage_and_invalid_rows():
    import datasets

    dd = datasets.DatasetDict({
        "train": datasets.Dataset.from_dict({"sequence": ["ACGTA", "GGGNN", "AXGT"], "label": [0, 1, 0]}),
        "test": datasets.Dataset.from_dict({"sequence": ["TACGT", "CCCC"], "label": [0, 1]}),
    })
    s = summarize_dataset(dd)
    assert s["splits"]["train"]["rows_with_N"] == 1
    assert s["splits"]["train"]["invalid_examples"][0] == {"row": 2, "char": "X", "position": 1}
    assert s["leakage"]["train/test"] == {"shared_sequences": 0, "shared_incl_reverse_complement": 1}
    text = format_summary(s, "toy")
    assert "LEAKAGE" in text and "invalid character 'X'" in text
