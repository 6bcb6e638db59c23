"""Files in and out: FASTA/BED/tables/sequence files and atomic writes (above modeling, below data)."""
from .bed import read_bed
from .fasta import FASTA_SUFFIXES, FastaRecord, is_fasta_path, iter_fasta, read_fasta, write_fasta
from .sequences import read_sequence_records, read_sequences
from .tables import TABLE_SUFFIXES, read_dataframe

__all__ = ["FASTA_SUFFIXES", "TABLE_SUFFIXES", "FastaRecord", "is_fasta_path", "iter_fasta", "read_bed",
           "read_dataframe", "read_fasta", "read_sequence_records", "read_sequences", "write_fasta"]
