"""The model variants, in a module without imports so the CLI can offer them as choices without loading torch."""
from __future__ import annotations

VARIANTS = ("baseline", "lkan", "ckan")
