#!/usr/bin/env python
"""Reproduce the paper's classifier tables (baseline / LKAN / CKAN at equal size, MCC mean ± std) with
the classical baselines, the grid-size sweep and the blocks-replaced ablation.

GPU, paper settings (2M parameters, 10 epochs, 5 runs), GUE tasks from a local root:
    python scripts/reproduce_paper.py --suite gue --data-dir <gue root> --output-dir paper-gue --preset paper
CPU-sized check on the six GUE tasks shipped with this project's data:
    python scripts/reproduce_paper.py --suite gue6 --data-dir <gue root> --output-dir gue-cpu --preset cpu
Any option of `kan-genomics benchmark` can follow (e.g. --runs 3 --max-train 4000 --grid-sizes 3 5 10 20 --ablation).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kan_genomics_hf.commands.benchmark import add_arguments, run  # noqa: E402
from kan_genomics_hf.data.loading import GB_DATASETS, GUE_TASKS  # noqa: E402

SUITES = {
    "gue": [f"gue/{t}" for t in GUE_TASKS if not t.startswith("H")],  # the paper's Table 3 (+ EMP / covid)
    "gue6": ["gue/tf_0", "gue/tf_2", "gue/mouse_0", "gue/mouse_2", "gue/prom_core_all", "gue/prom_300_tata"],
    "gb": [f"gb/{n}" for n in GB_DATASETS],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", choices=sorted(SUITES), default=None,
                        help="dataset list: gue (paper Table 3 tasks), gue6 (the six local tasks), gb (Genomic Benchmarks)")
    add_arguments(parser)
    args = parser.parse_args(argv)
    if args.suite:
        args.datasets = SUITES[args.suite]
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
