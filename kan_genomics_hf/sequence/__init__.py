"""DNA string operations shared by data, evaluation and the commands: GC content, reverse complement,
composition-preserving shuffles. GC content and reverse complement are the implementations in
``modeling.dna_encoding`` (which must stay self-contained as Hub remote code), re-exported here as
their one home for the rest of the package."""
from ..modeling.dna_encoding import gc_content, reverse_complement
from .shuffle import dinucleotide_shuffle, permute_bases, shuffle_nucleotides


def gc_fraction(seq: str) -> float:
    """GC content of one sequence (fraction of G+C among A/C/G/T; 0 for none)."""
    return float(gc_content([seq])[0])


__all__ = ["dinucleotide_shuffle", "gc_content", "gc_fraction", "permute_bases", "reverse_complement", "shuffle_nucleotides"]
