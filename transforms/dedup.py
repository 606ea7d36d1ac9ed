"""Dedup: exact duplicate removal (stub: config only)."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class DedupConfig:
    exact: bool = True  # drop responses identical (after normalization) to another of the same prompt
