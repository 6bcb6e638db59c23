"""Interpretability: KAN edge functions (evaluate, plot, rank, prune) and in-silico mutagenesis."""
from .kan_edges import (
    InputRecorder,
    edge_functions,
    edge_importance,
    kan_linear_layers,
    plot_edge_functions,
    prune_edges,
    rank_edges,
)
from .mutagenesis import in_silico_mutagenesis, plot_mutagenesis, reference_importance

__all__ = [
    "InputRecorder",
    "edge_functions",
    "edge_importance",
    "in_silico_mutagenesis",
    "kan_linear_layers",
    "plot_edge_functions",
    "plot_mutagenesis",
    "prune_edges",
    "rank_edges",
    "reference_importance",
]
