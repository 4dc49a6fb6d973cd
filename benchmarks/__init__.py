"""Benchmarks: run `python -m benchmarks.run` (never part of the test suite)."""
