"""DNATokenizer: vocabulary, case, IUPAC, errors, padding/truncation, save/load, speed."""
from __future__ import annotations

import json
import random
import time

import pytest
import torch

from kan_genomics_hf import DNATokenizer


def test_ids_case_and_iupac():
    tok = DNATokenizer()
    assert tok("ACGTN")["input_ids"] == [0, 1, 2, 3, 4]
    assert tok("acgtn")["input_ids"] == [0, 1, 2, 3, 4]  # soft-masked lowercase
    assert tok("ARYu")["input_ids"] == [0, 4, 4, 3]  # IUPAC -> N, U -> T
    assert tok.pad_token_id == 5 and tok.vocab_size == 10
    assert tok.decode(tok("ACGTN")["input_ids"]) == "ACGTN"
    assert tok.decode([0, 1, 5, 5], skip_special_tokens=True) == "AC"
    strict = DNATokenizer(iupac="error")
    with pytest.raises(ValueError, match="sequence 1: invalid character 'R' at position 3 .*IUPAC"):
        strict(["ACGT", "ACGR"])
    with pytest.raises(ValueError, match="iupac must be"):
        DNATokenizer(iupac="drop")


def test_errors_name_sequence_position_and_char():
    tok = DNATokenizer()
    with pytest.raises(ValueError, match="sequence 2: invalid character '-' at position 4"):
        tok(["ACGT", "GG", "ACGT-A"])
    with pytest.raises(ValueError, match="sequence 0: invalid character 'é' at position 1"):
        tok(["Aé"])
    assert tok(["A", ""], padding=True) == {"input_ids": [[0], [5]], "attention_mask": [[1], [0]]}
    assert tok("") == {"input_ids": [], "attention_mask": []}  # as transformers tokenizers do
    with pytest.raises(TypeError, match="sequence 1: expected a str"):
        from kan_genomics_hf.modeling.dna_encoding import encode_padded

        encode_padded(["A", 3], pad_value=5)


def test_padding_truncation_and_mask():
    tok = DNATokenizer()
    enc = tok(["ACGTAC", "GG"], padding=True, return_tensors="pt")
    assert enc["input_ids"].tolist() == [[0, 1, 2, 3, 0, 1], [2, 2, 5, 5, 5, 5]]
    assert enc["attention_mask"].tolist() == [[1] * 6, [1, 1, 0, 0, 0, 0]]
    left = tok(["ACGTAC", "GG"], padding=True, padding_side="left", return_tensors="pt")
    assert left["input_ids"][1].tolist() == [5, 5, 5, 5, 2, 2]
    cut = tok(["ACGTAC", "GG"], padding="max_length", truncation=True, max_length=4, return_tensors="pt")
    assert cut["input_ids"].tolist() == [[0, 1, 2, 3], [2, 2, 5, 5]]
    assert tok(["ACGTAC"], padding=True, pad_to_multiple_of=4, return_tensors="pt")["input_ids"].shape == (1, 8)
    ragged = tok(["ACG", "A"])
    assert ragged["input_ids"] == [[0, 1, 2], [0]] and ragged["attention_mask"] == [[1, 1, 1], [1]]
    with pytest.raises(ValueError, match="pass padding=True"):
        tok(["ACG", "A"], return_tensors="pt")
    batch = tok.pad([{"input_ids": [0, 1, 2]}, {"input_ids": [3]}], return_tensors="pt")  # data collators use pad()
    assert batch["input_ids"].tolist() == [[0, 1, 2], [3, 5, 5]]
    tok.truncation_side = "left"
    assert tok(["ACGTAC"], truncation=True, max_length=2)["input_ids"] == [[0, 1]]


def test_save_load_vocab_and_reverse_complement(tmp_path):
    tok = DNATokenizer(iupac="error", model_max_length=100)
    tok.save_pretrained(tmp_path)
    vocab = json.loads((tmp_path / "vocab.json").read_text())
    assert vocab["A"] == 0 and vocab["[PAD]"] == 5
    cfg = json.loads((tmp_path / "tokenizer_config.json").read_text())
    assert cfg["auto_map"]["AutoTokenizer"][0] == "tokenization_dna.DNATokenizer"
    again = DNATokenizer.from_pretrained(tmp_path)
    assert again.iupac == "error" and again.model_max_length == 100
    assert again("ACGT")["input_ids"] == [0, 1, 2, 3]
    (tmp_path / "vocab.json").write_text(json.dumps({"A": 1, "C": 0}))
    with pytest.raises(ValueError, match="does not match the fixed DNA vocabulary"):
        DNATokenizer.from_pretrained(tmp_path)
    assert DNATokenizer.reverse_complement("AACGTn") == "nACGTT"
    assert DNATokenizer.reverse_complement(["AC", "GGT"]) == ["GT", "ACC"]


def test_tokenizing_many_sequences_is_fast():
    rng = random.Random(0)
    seqs = ["".join(rng.choices("ACGT", k=200)) for _ in range(20_000)]
    tok = DNATokenizer()
    start = time.perf_counter()
    enc = tok(seqs, padding=True, return_tensors="pt")
    elapsed = time.perf_counter() - start
    assert enc["input_ids"].shape == (20_000, 200) and enc["input_ids"].dtype == torch.long
    assert elapsed < 5.0  # ~0.15 s on one free core; generous for a shared CI machine
