"""Run the upstream common test suites (transformers / diffusers) against our classes and summarise the results.

This script fetches nothing and contains no upstream code. It expects a local, *uncommitted* tree of transcribed
upstream test files plus our small tester classes (see bench_results/upstream_contract/README.md, "Procedure"):

    <root>/hf_transformers/tests/{test_modeling_common.py, test_configuration_common.py, models/kan_legnet/..., ...}
    <root>/hf_diffusers/tests/{testing_utils.py, models/..., pipelines/...}

It runs each configured pass with pytest (--junitxml), then writes one JSON with, per pass and per test class,
passed / failed / skipped counts and every failing or skipped test with its message and, where known, the reason
it does not apply (REASONS below, keyed by test name).

    OMP_NUM_THREADS=1 .venv/bin/python scripts/run_upstream_contract.py --root /tmp/upstream_tests \
        --out bench_results/upstream_contract/results.json
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

# (name, suite folder, pytest target, extra environment, extra pytest args)
PASSES = [
    ("transformers-raw", "hf_transformers", "tests/models", {}, []),
    ("transformers-v5-adapted", "hf_transformers", "tests/models", {"UPSTREAM_V5_ADAPT": "1", "RUN_SLOW": "1"}, []),
    # the torch.compile / AOT tests run inductor on CPU (~10 min on 2 busy cores): --with-compile to include them
    ("diffusers-models", "hf_diffusers", "tests/models", {}, ["-k", "not compile"]),
    ("diffusers-pipeline-ddim", "hf_diffusers", "tests/pipelines", {}, []),
    ("diffusers-pipeline-ddpm", "hf_diffusers", "tests/pipelines", {"DNA_PIPE_SCHEDULER": "ddpm"}, ["-k", "Upstream"]),
]

_VERSION = "version artifact (a v4.47 test against transformers 5.24; the ResNet control fails identically)"
_EMBED = "not applicable: LegNet has no token-embedding matrix (input ids are one-hot encoded), so there is nothing to get/set/resize"
REASONS = {
    # transformers, raw pass
    "test_model_get_set_embeddings": _EMBED,
    "test_inputs_embeds": _EMBED + "; LegNet's inputs_embeds is the (B, 4, L) one-hot, not an embedding lookup",
    "test_inputs_embeds_matches_input_ids": _EMBED,
    "test_resize_tokens_embeddings": _EMBED + " (vocabulary resize)",
    "test_hidden_states_output": "not applicable: asserts token-major (B, L, hidden) states; a CNN returns per-stage "
                                 "feature maps (B, C_i, L) (upstream ResNet/ConvNext testers override it; ResNet control fails too)",
    "test_initialization": "not applicable: assumes every weight is drawn with config.initializer_range; LegNet convs "
                           "use fan-based init like ResNet (whose upstream tester overrides it; control fails too)",
    "test_load_with_mismatched_shapes": "not applicable sub-check: expects AutoModel.from_pretrained(vocab_size=10) to "
                                        "raise a size mismatch; LegNet has no vocab-sized weight",
    "test_mismatched_shapes_have_properly_initialized_weights": _VERSION + " (load-report wording; after that, the "
                                                                 "_config_zero_init/_range convention as test_initialization)",
    "test_can_use_safetensors": _VERSION + " (missing_keys is a set, compared with [])",
    "test_load_save_without_tied_weights": _VERSION + " (missing_keys is a set, compared with [])",
    "test_config": _VERSION + " (PretrainedConfig.is_composition and generation kwargs were removed)",
    "test_config_arguments_init": _VERSION + " (generation kwargs such as max_length are no longer config attributes)",
    "test_config_can_be_init_without_params": _VERSION + " (PretrainedConfig.is_composition was removed)",
    "test_save_load_fast_init_from_base": _VERSION + " (_fast_init and config.pruned_heads were removed)",
    "test_save_load_fast_init_to_base": _VERSION + " (_fast_init and config.pruned_heads were removed)",
    "test_matched_shapes_have_loaded_weights_when_some_mismatched_shapes_exist": _VERSION + " (its own MyClass lacks post_init)",
    "test_model_weights_reload_no_missing_tied_weights": _VERSION + " (missing keys are reported with their prefixed names)",
    "test_save_load_keys_to_ignore_on_save": _VERSION + " (_tied_weights_keys defaults to None)",
    "test_torchscript_simple": "TorchScript: transformers 5 no longer returns tuples under torchscript=True (control fails "
                               "too); adapted pass: baseline traces+saves, lkan/ckan cannot be saved because the KAN layers call "
                               "a Python autograd.Function (kan_autograd.py); torch.export works (our own test)",
    "test_torchscript_output_attentions": "as test_torchscript_simple",
    "test_torchscript_output_hidden_state": "as test_torchscript_simple",
    # diffusers
    "test_torch_compile_repeated_blocks": "version artifact: the 0.37 test skips when _repeated_blocks is None, but "
                                          "diffusers 0.42 defaults it to [] (UNet2DModel control fails identically)",
    "test_compile_with_group_offloading": "accelerator-only: group offloading with use_stream=True needs a device with "
                                          "streams (UNet2DModel control fails identically); gated by @require_accelerator upstream",
    "test_pipeline_call_signature": "raw pass only: `num_images_per_prompt` is image/prompt naming; the pipeline's "
                                    "equivalent is `num_sequences_per_label` (diffusers' own non-image testers drop it)",
}


def run_pass(root: Path, name: str, folder: str, target: str, env: dict, args: list, xml_dir: Path) -> Path:
    xml = xml_dir / f"{name}.xml"
    cmd = [sys.executable, "-m", "pytest", target, "-q", "-p", "no:cacheprovider", f"--junitxml={xml}", *args]
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", **env}
    subprocess.run(cmd, cwd=root / folder, env=full_env, check=False, stdout=subprocess.DEVNULL)
    return xml


def summarise(xml: Path) -> dict:
    classes: dict[str, dict] = defaultdict(lambda: {"passed": 0, "failed": 0, "skipped": 0, "failures": [], "skips": []})
    for case in ET.parse(xml).getroot().iter("testcase"):
        cls = case.get("classname", "").rsplit(".", 1)[-1]
        test = case.get("name", "")
        base = re.sub(r"\[.*\]$", "", test)
        row = classes[cls]
        bad = case.find("failure") if case.find("failure") is not None else case.find("error")
        skip = case.find("skipped")
        if bad is not None:
            row["failed"] += 1
            row["failures"].append({"test": test, "message": (bad.get("message") or "")[:300],
                                    "reason": REASONS.get(base, "UNCLASSIFIED")})
        elif skip is not None:
            row["skipped"] += 1
            row["skips"].append({"test": test, "message": (skip.get("message") or "")[:200]})
        else:
            row["passed"] += 1
    return dict(classes)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=Path("/tmp/upstream_tests"))
    ap.add_argument("--out", type=Path, default=Path("bench_results/upstream_contract/results.json"))
    ap.add_argument("--with-compile", action="store_true", help="also run the diffusers torch.compile/AOT tests")
    ap.add_argument("--only", nargs="*", help="run only these passes (names as in PASSES)")
    a = ap.parse_args(argv)
    xml_dir = a.root / "junit"
    xml_dir.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, folder, target, env, args in PASSES:
        if a.only and name not in a.only:
            continue
        if a.with_compile and name == "diffusers-models":
            args = []
        results[name] = summarise(run_pass(a.root, name, folder, target, env, args, xml_dir))
        print(name, {c: (r["passed"], r["failed"], r["skipped"]) for c, r in results[name].items()})
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
