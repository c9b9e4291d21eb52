"""Benchmarks, run by `sojourn bench …`; never part of `make test` (timings on shared machines are noise)."""
