"""`python -m kan_genomics_hf ...` runs the `kan-genomics` CLI (so `accelerate launch -m kan_genomics_hf scan ...` works)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
