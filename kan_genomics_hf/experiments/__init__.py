"""Experiments: benchmark runners above training and evaluation."""
