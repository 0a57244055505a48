"""Benchmarks: each prints its figures with ratios to a baseline measured in the same run."""
