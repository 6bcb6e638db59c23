"""Train a KANUNet1DModel; runnable with `accelerate launch scripts/train_diffusion.py --data ... --output-dir ...`."""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from kan_genomics_hf.commands.train_diffusion import add_arguments, run  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Parse the same flags as `kan-genomics train-diffusion` and train."""
    parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
