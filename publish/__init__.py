"""Launcher-side read-back between pipelines/ and transforms/: accounting, the dataset card,
manifest checks, the file verifier."""
