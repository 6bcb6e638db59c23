"""Files in and out: FASTA/BED/tables and atomic writes (above modeling, below data)."""
