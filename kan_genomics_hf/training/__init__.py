"""training subpackage of kan_genomics_hf."""
