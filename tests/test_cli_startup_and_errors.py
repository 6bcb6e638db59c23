"""The CLI starts without torch / transformers, every option says what it does and its default, and user
mistakes end in one `error:` line (predict given a checkpoint, a missing path, a bad FASTA record, ...)."""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

import kan_genomics_hf
from kan_genomics_hf import save_classifier
from kan_genomics_hf.cli import build_parser, main
from kan_genomics_hf.data.input_checks import out_of_distribution_warning

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "diffusers", "datasets", "accelerate")
OURS = ("demo", "train", "evaluate", "predict", "benchmark")  # the diffusion commands are tested with them


def test_the_package_and_the_parsers_import_no_heavy_library():
    code = ("import sys, kan_genomics_hf.cli as cli\ncli.build_parser()\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[]"


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"kan-genomics {kan_genomics_hf.__version__}\n"


def _options(command: str) -> list[argparse.Action]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return [a for a in sub.choices[command]._actions if a.option_strings and not isinstance(a, argparse._HelpAction)]


@pytest.mark.parametrize("command", OURS)
def test_every_option_has_help_and_shows_its_default_once(command):
    problems = []
    for action in _options(command):
        text = action.help or ""
        shows = text.count("(default")
        valued = action.nargs != 0 and action.default not in (None, False, [], argparse.SUPPRESS)
        if not text or shows > 1 or (valued and shows == 0 and "--preset" not in text):
            problems.append(f"{action.option_strings[0]}: {text!r}")
    assert problems == []


def test_dataset_option_help_names_the_column_options():
    (action,) = [a for a in _options("train") if "--dataset-option" in a.option_strings]
    assert "label_column=<col>" in action.help and "sequence_column=<col>" in action.help


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory, tiny_legnet, dna_tokenizer) -> Path:
    folder = tmp_path_factory.mktemp("model") / "best"
    model = tiny_legnet("baseline", id2label={0: "neg", 1: "pos"})
    model.config.training_length = 20
    save_classifier(model, dna_tokenizer, folder)
    return folder


def test_predict_names_the_fasta_record_of_a_bad_character(saved_model, tmp_path, capsys):
    fasta = tmp_path / "x.fa"
    fasta.write_text(">ok\nACGTACGTACGTACGTACGT\n>chr2:10-30\nACGTACGTAXGTACGTACGT\n")
    assert main(["predict", str(saved_model), "-i", str(fasta)]) == 1
    assert capsys.readouterr().err == (
        "error: record chr2:10-30 (sequence 1): invalid character 'X' at position 9; allowed: A, C, G, T, N (any case), "
        "U, and IUPAC codes RYSWKMBDHV\n")


def test_predict_refuses_a_training_checkpoint_and_a_missing_local_folder(tmp_path, monkeypatch, capsys):
    checkpoint = tmp_path / "run" / "checkpoints" / "checkpoint-00000010"
    checkpoint.mkdir(parents=True)
    (checkpoint / "trainer_state.json").write_text("{}")
    assert main(["predict", str(checkpoint), "-s", "ACGT"]) == 1
    assert capsys.readouterr().err == (
        f"error: could not load a classifier from '{checkpoint}': {checkpoint} is a training checkpoint (it resumes "
        "training with --resume), not a saved model; "
        "pass the run's best/ folder (<output-dir>/best)\n")
    monkeypatch.chdir(tmp_path)
    assert main(["predict", "run/best", "-s", "ACGT"]) == 1  # "run" exists here: a local path, not a Hub id
    assert capsys.readouterr().err == (
        "error: could not load a classifier from 'run/best': model folder run/best does not exist; pass a folder "
        "written by `kan-genomics train` "
        "(<output-dir>/best) or a Hub id user/name\n")


def test_predict_warns_once_for_inputs_unlike_the_training_data(saved_model, capsys):
    assert main(["predict", str(saved_model), "-s", "ACGT", "-s", "N" * 20, "-s", "ACGTACGTACGTACGTACGT"]) == 0
    err = capsys.readouterr().err
    assert err == ("warning: inputs unlike the training data (trained on 20 bp sequences): 1 shorter than 10 bp "
                   "(first: 0); 1 more than 50% N (first: 1); their scores are unreliable\n")


def test_out_of_distribution_check():
    assert out_of_distribution_warning(["ACGT" * 5, "ACGTN" * 4], training_length=20) is None
    assert out_of_distribution_warning(["ACGT" * 30], ["long"], training_length=20) == (
        "inputs unlike the training data (trained on 20 bp sequences): 1 longer than 40 bp (scored as one window; "
        "the pipeline's window=... scans them) (first: long); their scores are unreliable")
    assert out_of_distribution_warning(["NNNA"]) == (
        "inputs unlike the training data (trained on DNA): 1 more than 50% N (first: 0); their scores are unreliable")


def test_a_table_without_labels_points_to_the_label_column_option(saved_model, tmp_path, capsys):
    table = tmp_path / "t.csv"
    table.write_text("seq,cls,split\n" + "".join(f"ACGTACGT,{i % 2},{s}\n" for i, s in
                                                  enumerate(["train"] * 4 + ["validation"] * 2 + ["test"] * 2)))
    assert main(["evaluate", str(saved_model), "--dataset", str(table)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "--dataset-option label_column=<column>" in err
