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

    assert int(value("--epochs")) == preset["epochs"] and "--max-train" not in flags and preset["max_train"] is None
    assert int(value("--patience")) == preset["early_stopping_patience"]
    assert float(value("--lr")) == preset["learning_rate"] and int(value("--batch-size")) == preset["batch_size"]
    assert value("--scheduler") == preset["scheduler"] and value("--mixed-precision") == preset["mixed_precision"] == "no"
    bf16 = rs.COMMONS["cpu-full-bf16"]
    assert bf16[len(bf16) - bf16[::-1].index("--mixed-precision")] == "bf16"  # the last occurrence wins
    assert bf16[bf16.index("--max-train") + 1] == "20000"


def test_budget_comparison_pairs_by_seed_and_counts_identical_reruns(tmp_path):
    spec = importlib.util.spec_from_file_location("compare_budget_screen", ROOT / "scripts" / "compare_budget_screen.py")
    cb = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cb)
    bench = tmp_path / "bench"
    bench.mkdir()
    _write(bench / "runs.jsonl", [
        {"run_key": f"gue/t|main|{v}|seed{s}", "kind": "main", "dataset": "gue/t", "variant": v, "seed": s,
         "validation": {"mcc": m}, "best_epoch": 4, "train_seconds": 100.0}
        for v, s, m in [("baseline", 0, 0.50), ("baseline", 1, 0.60), ("lkan", 0, 0.52), ("lkan", 1, 0.64)]])
    screen = tmp_path / "screen"
    screen.mkdir()
    _write(screen / "runs.jsonl", [
        {"task": "t", "arm": a, "variant": a.split("/")[0], "seed": s, "val_mcc": m, "best_epoch": 7}
        for a, s, m in [("baseline/epochs10", 0, 0.55), ("baseline/epochs10", 1, 0.61),
                        ("lkan/norm=tanh+epochs10", 0, 0.56), ("lkan/norm=tanh+epochs10", 1, 0.60),
                        ("baseline/ref", 0, 0.50)]])  # a rerun identical to the benchmark's
    text = cb.compare(screen, [bench])
    assert text.startswith("4-epoch reruns in the screen: 1 bit-identical") and ", 0 different" in text
    row = next(line for line in text.splitlines() if line.startswith("| t |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "2" and cells[4] == "+3.0 ± 1.4 (2/2)"  # 4 ep: (52-50, 64-60)
    assert cells[7] == "+0.0 ± 1.4 (1/2)"  # 10 ep: (56-55, 60-61)
    assert cells[8] == "+3.0 / +0.0"  # 10 - 4 ep: baseline (5, 1), LKAN (4, -4)
    # another variation of the recipe: the arms named by their suffix, the label in the header
    _write(screen / "runs.jsonl", [
        {"task": "t", "arm": a, "variant": a.split("/")[0], "seed": s, "val_mcc": m, "best_epoch": 3,
         "train_seconds": 80.0 if a.startswith("lkan") else 90.0}
        for a, s, m in [("baseline/fp32", 0, 0.51), ("baseline/fp32", 1, 0.60),
                        ("lkan/norm=tanh+fp32", 0, 0.55), ("lkan/norm=tanh+fp32", 1, 0.63)]])
    text = cb.compare(screen, [bench], "fp32", "fp32")
    assert "| baseline fp32 | LKAN fp32 |" in text and "(10 = the last allowed)" not in text
    row = next(line for line in text.splitlines() if line.startswith("| t |"))
    assert [c.strip() for c in row.strip("|").split("|")][7] == "+3.5 ± 0.7 (2/2)"  # (55-51, 63-60)
    assert "paired benchmark run (mean of per-run ratios): baseline 0.90x (2 runs), lkan 0.80x (2 runs)." in text
    assert "4-epoch run, all tasks pooled: baseline +0.5 ± 0.7 (2 runs), lkan +1.0 ± 2.8 (2 runs)." in text
