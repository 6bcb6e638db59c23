"""Stand-alone remote code (package hidden), the text-classification and dna-classification pipelines."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap

import pytest
import torch
from safetensors.torch import load_file

from kan_genomics_hf import DNATokenizer, save_classifier

SEQS = ["ACGTACGTAAGGCTTAGC", "ACG", "TTTTGGGGCCCCAAAATTACGT", "nnACGTRYAcg"]

STANDALONE = textwrap.dedent(
    """
    import importlib.abc, json, sys

    class _Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name == "kan_genomics_hf" or name.startswith("kan_genomics_hf."):
                raise ImportError("kan_genomics_hf is hidden in this test: " + name)

    sys.meta_path.insert(0, _Blocker())
    try:
        import kan_genomics_hf  # noqa: F401
        raise SystemExit("kan_genomics_hf must not be importable here")
    except ImportError:
        pass
    import torch
    from safetensors.torch import save_file
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer, pipeline

    folder, out = sys.argv[1], sys.argv[2]
    seqs = json.loads(sys.argv[3])
    config = AutoConfig.from_pretrained(folder, trust_remote_code=True)
    model = AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True).eval()
    tok = AutoTokenizer.from_pretrained(folder, trust_remote_code=True)
    assert type(model).__module__.startswith("transformers_modules"), type(model).__module__
    assert type(tok).__name__ == "DNATokenizer" and type(config).__name__ == "LegNetConfig"
    with torch.no_grad():
        logits = model(**tok(seqs, padding=True, return_tensors="pt")).logits
    save_file({"logits": logits.contiguous()}, out)
    pipe = pipeline("text-classification", model=folder, trust_remote_code=True)
    print(json.dumps(pipe(seqs, top_k=None)))
    """
)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, tiny_legnet, dna_tokenizer):
    model = tiny_legnet("lkan", id2label={0: "neg", 1: "pos"})
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            m.running_mean.normal_()
    folder = tmp_path_factory.mktemp("hub") / "ckpt"
    save_classifier(model, dna_tokenizer, folder)
    with torch.no_grad():
        ref = model(**dna_tokenizer(SEQS, padding=True, return_tensors="pt")).logits
    return folder, model, ref


def test_standalone_remote_code_without_the_package(checkpoint, tmp_path):
    folder, _, ref = checkpoint
    script = tmp_path / "standalone.py"
    script.write_text(STANDALONE)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(HF_HUB_OFFLINE="1", HF_MODULES_CACHE=str(tmp_path / "modules"), TRANSFORMERS_VERBOSITY="error")
    out = tmp_path / "logits.safetensors"
    proc = subprocess.run(
        [sys.executable, "-I", str(script), str(folder), str(out), json.dumps(SEQS)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert torch.equal(load_file(str(out))["logits"], ref)  # bit-identical to the package model
    from transformers import pipeline

    remote = json.loads(proc.stdout.strip().splitlines()[-1])
    local = pipeline("text-classification", model=str(folder))(SEQS, top_k=None)
    assert remote == local


def test_text_classification_pipeline(checkpoint):
    from transformers import pipeline

    folder, _, ref = checkpoint
    pipe = pipeline("text-classification", model=str(folder))
    out = pipe(SEQS, top_k=None)
    probs = ref.softmax(-1)
    for row, p in zip(out, probs):
        scores = {d["label"]: d["score"] for d in row}
        assert scores["pos"] == pytest.approx(float(p[1]), abs=1e-6)


def test_dna_classification_pipeline(checkpoint, tmp_path):
    from transformers import pipeline

    folder, model, ref = checkpoint
    pipe = pipeline("dna-classification", model=str(folder))
    assert type(pipe).__name__ == "DNAClassificationPipeline"
    one = pipe(SEQS[0])
    assert one["label"] in ("neg", "pos")
    assert one["scores"]["pos"] == pytest.approx(float(ref.softmax(-1)[0, 1]), abs=1e-6)
    many = pipe(SEQS, batch_size=2)
    assert [r["scores"]["pos"] for r in many] == pytest.approx(ref.softmax(-1)[:, 1].tolist(), abs=1e-6)
    # reverse-complement averaging: a sequence and its reverse complement score the same
    rc = pipe([SEQS[2], DNATokenizer.reverse_complement(SEQS[2])], rc_averaging=True)
    assert rc[0]["scores"]["pos"] == pytest.approx(rc[1]["scores"]["pos"], abs=1e-6)
    # FASTA path and records
    fasta = tmp_path / "x.fa"
    fasta.write_text(">r1 some description\nACGTACGTAA\nGGCTTAGC\n>r2\nACG\n")
    recs = pipe(str(fasta))
    assert [r["id"] for r in recs] == ["r1", "r2"]
    assert recs[0]["scores"]["pos"] == pytest.approx(float(ref.softmax(-1)[0, 1]), abs=1e-6)
    assert pipe([("x", SEQS[1]), {"id": "y", "sequence": SEQS[3]}])[1]["id"] == "y"
    # sliding-window scan with coordinates; every window equals classifying that slice alone
    long_seq = "".join(SEQS) * 3
    scan = pipe([("chrT", long_seq)], window=20, stride=15)[0]
    spans = [(w["start"], w["end"]) for w in scan["windows"]]
    assert spans[0] == (0, 20) and spans[-1][1] == len(long_seq) and all(e - s == 20 for s, e in spans)
    s, e = spans[1]
    assert scan["windows"][1]["scores"]["pos"] == pytest.approx(pipe(long_seq[s:e])["scores"]["pos"], abs=1e-6)


def test_pipeline_bad_inputs(checkpoint, tmp_path, tiny_legnet, dna_tokenizer, caplog):
    from transformers import pipeline

    folder, _, _ = checkpoint
    pipe = pipeline("dna-classification", model=str(folder))
    with pytest.raises(ValueError, match="sequence 1: invalid character 'X' at position 2"):
        pipe(["ACGT", "ACXT"])
    with pytest.raises(ValueError, match="empty sequence"):
        pipe(["ACGT", ""])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        pipe(str(tmp_path / "missing.fa"))
    with pytest.raises(ValueError, match="window must be >= 1"):
        pipe("ACGT", window=0)
    with pytest.raises(TypeError, match="record 0"):
        pipe([3.5])
    limited = tiny_legnet("baseline", block_sizes=[8, 8], max_sequence_length=12)
    save_classifier(limited, dna_tokenizer, tmp_path / "limited")
    small = pipeline("dna-classification", model=str(tmp_path / "limited"))
    with pytest.raises(ValueError, match="max_sequence_length=12; pass window=12"):
        small("ACGT" * 5)
    assert len(small("ACGT" * 5, window=12, stride=4)["windows"]) == 3
    with caplog.at_level(logging.WARNING, logger="kan_genomics_hf.modeling.tokenization_dna"):
        ids = DNATokenizer.from_pretrained(tmp_path / "limited")(["ACGT" * 5])["input_ids"]  # warns, like transformers
    assert len(ids[0]) == 20
    assert [r.getMessage()[:60] for r in caplog.records] == [
        "DNATokenizer: sequence 0 has length 20, longer than the mode"]


@pytest.mark.parametrize("first", [
    "from kan_genomics_hf import *",  # the pipeline module itself imports transformers.pipelines (a former trap)
    "import transformers.pipelines, kan_genomics_hf",  # the library first: registered at once
    "import kan_genomics_hf, transformers.pipelines",  # the package first: registered by the import hook
])
def test_pipeline_task_registered_whatever_the_import_order(first):
    code = (
        f"{first}\n"
        "from transformers.pipelines import PIPELINE_REGISTRY\n"
        "assert 'dna-classification' in PIPELINE_REGISTRY.get_supported_tasks()\n"
        "from transformers import AutoConfig\n"
        "assert type(AutoConfig.for_model('kan_legnet')).__name__ == 'LegNetConfig'\n"
    )
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=repo,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "kan_genomics_hf: registering" not in proc.stderr
