"""scripts/recipe_search.py: the summary pairs every arm with its variant's reference arm (same task, same seed)."""
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("recipe_search", ROOT / "scripts" / "recipe_search.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(path: Path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_summary_pairs_with_the_named_reference(tmp_path):
    rs = _script()
    rows = [{"task": "t", "arm": arm, "seed": seed, "val_mcc": mcc, "train_seconds": 1.0}
            for arm, seed, mcc in [("lkan/norm=layernorm", 0, 0.50), ("lkan/norm=layernorm", 1, 0.60),
                                   ("lkan/norm=tanh", 0, 0.53), ("lkan/norm=tanh", 1, 0.61)]]
    _write(tmp_path / "runs.jsonl", rows)
    table = rs.summarize(tmp_path, {"lkan": "lkan/norm=layernorm"})
    tanh = next(line for line in table.splitlines() if "lkan/norm=tanh" in line)
    cells = [c.strip() for c in tanh.strip("|").split("|")]
    assert cells[2] == "2" and cells[3] == "57.0 ± 5.7"
    assert cells[4] == "+2.0 ± 1.4" and cells[5] == "2/2"  # paired: (53-50, 61-60)
    ref = next(line for line in table.splitlines() if "| lkan/norm=layernorm |" in line)
    assert ref.split("|")[5].strip() == "-"  # the reference is not paired with itself
    # without the mapping the reference is lkan/ref, absent here: no paired figures
    plain = next(line for line in rs.summarize(tmp_path).splitlines() if "lkan/norm=tanh" in line)
    assert plain.split("|")[5].strip() == "-"


def test_cpu_full_flags_match_the_benchmark_preset():
    from kan_genomics_hf.experiments.benchmark import PRESETS

    rs = _script()
    preset = PRESETS["cpu-full"]
    flags = rs.COMMON_CPU_FULL

    def value(flag):
        return flags[flags.index(flag) + 1]

    assert int(value("--epochs")) == preset["epochs"] and int(value("--max-train")) == preset["max_train"]
    assert int(value("--patience")) == preset["early_stopping_patience"]
    assert float(value("--lr")) == preset["learning_rate"] and int(value("--batch-size")) == preset["batch_size"]
    assert value("--scheduler") == preset["scheduler"] and value("--mixed-precision") == preset["mixed_precision"]
