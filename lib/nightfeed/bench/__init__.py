"""Benchmarks: `nightfeed benchmark --suite models|scoring|all` (JSON), outside the nightly runtime path."""
