"""Reliability tooling shared by the tests and the benchmark: importer fuzzing and its seed files."""
