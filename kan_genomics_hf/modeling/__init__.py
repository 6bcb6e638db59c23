"""Model code. Flat and self-contained (only `from .x import y` between files) so the folder can be
shipped verbatim as Hugging Face Hub remote code."""
