#!/usr/bin/env python
"""Train one LegNet classifier with the package's Accelerate loop; same options as `kan-genomics train`.

Single process:   python scripts/train_classifier.py --dataset gue/tf_0 --data-dir <gue root> --output-dir runs/tf0
Multi-GPU:        accelerate launch --num_processes 4 scripts/train_classifier.py --dataset ... --output-dir ...
Two CPU procs:    ACCELERATE_USE_CPU=true accelerate launch --multi_gpu --num_processes 2 scripts/train_classifier.py ...
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kan_genomics_hf.commands._common import parse_with_given_flags  # noqa: E402
from kan_genomics_hf.commands.train import add_arguments, run  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run(parse_with_given_flags(parser, argv))


if __name__ == "__main__":
    sys.exit(main())
