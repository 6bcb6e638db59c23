"""Genome-scale prediction: scanning a genome FASTA (bedGraph, peaks, bigWig) and scoring VCF variants."""
