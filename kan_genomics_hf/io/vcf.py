"""The VCF reader (cyvcf2 over htslib: plain, bgzipped or BCF): one ``Variant`` per ALT allele, file order."""
from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Variant:
    """One ALT allele of a VCF record; ``pos`` is the VCF's 1-based position of the first REF base."""

    chrom: str
    pos: int
    id: str
    ref: str
    alt: str

    @property
    def start(self) -> int:
        """0-based position of the first REF base."""
        return self.pos - 1

    def __str__(self) -> str:
        return f"{self.chrom}:{self.pos} {self.ref}>{self.alt}"


@contextlib.contextmanager
def _quiet_stderr_fd() -> Iterator[None]:
    """Silence file descriptor 2 (htslib prints its own '[E::hts_open...]' lines) while opening a file."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def iter_variants(path: str | os.PathLike) -> Iterator[Variant]:
    """Variants of a VCF/BCF file, one per ALT allele (a record without ALT yields one with alt '.')."""
    from cyvcf2 import VCF

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"VCF file {path} does not exist; check --vcf")
    try:
        with _quiet_stderr_fd():
            reader = VCF(str(path), lazy=True)
    except OSError:
        raise ValueError(f"{path} is not a readable VCF/BCF file; it needs a '##fileformat=VCF...' header and a "
                         "'#CHROM POS ID REF ALT ...' line (bgzip, not plain gzip, for a compressed one)") from None
    try:
        for record in reader:
            alts = list(record.ALT) or ["."]
            for alt in alts:
                yield Variant(str(record.CHROM), int(record.POS), record.ID or ".", str(record.REF), str(alt))
    finally:
        reader.close()
