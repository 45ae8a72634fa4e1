"""Benchmarks and performance budgets (`make bench`, issue 10); see bench/README.md."""
