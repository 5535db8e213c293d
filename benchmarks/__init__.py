"""Benchmarks: each prints its numbers next to a floor measured in the same run."""
