"""Batch jobs: one task per input file, run on Ray (extra ``[cluster]``) or a local process pool.

Every task calls the same per-file function as its single-file command, so a
batch output is byte for byte what the single-file command writes.
"""
