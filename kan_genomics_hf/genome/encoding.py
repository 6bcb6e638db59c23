"""Genome slices to base codes, with errors in genome coordinates."""
from __future__ import annotations

import re

import numpy as np

from ..modeling.dna_encoding import encode_sequence


def encode_genome_slice(seq: str, chrom: str, start: int) -> np.ndarray:
    """uint8 codes (A,C,G,T,N = 0..4; other IUPAC codes -> N) of a slice read at 0-based ``start`` of ``chrom``;
    an invalid character raises a ValueError naming its genome position (1-based)."""
    try:
        return encode_sequence(seq, iupac="n")
    except ValueError as err:
        m = re.search(r"at position (\d+)", str(err))
        where = f"{chrom}:{start + int(m.group(1)) + 1}" if m else f"{chrom}:{start + 1}-{start + len(seq)}"
        detail = str(err).split(": ", 1)[-1]
        raise ValueError(f"genome {where}: {detail}; fix the FASTA (only A, C, G, T, N and IUPAC codes are read)") from None
