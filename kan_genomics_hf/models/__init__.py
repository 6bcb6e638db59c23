"""Model building, saving/loading, batched prediction and profiling (above modeling and data)."""
