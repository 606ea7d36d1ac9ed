"""DecontamConfig and BenchmarkConfig: which benchmarks, the n-gram size, the overlap share."""
from __future__ import annotations

import dataclasses
import re
from typing import Tuple

_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")


@dataclasses.dataclass(frozen=True)
class BenchmarkConfig:
    name: str  # named in rejections and counts: letters, digits, "_", "-", "."
    path: str  # JSONL/Parquet file or glob, a save_to_disk directory, or hf:ORG/NAME[:SPLIT]
    fields: Tuple[str, ...] = ("problem", "question", "prompt", "Question", "input")  # first present = item text

    def __post_init__(self):
        if not _NAME.match(self.name or ""):
            raise ValueError(f"benchmark name {self.name!r}: use letters, digits, '_', '-', '.'")
        if not self.path:
            raise ValueError(f"benchmark {self.name!r}: path is required")
        if not self.fields:
            raise ValueError(f"benchmark {self.name!r}: fields must name at least one field")


@dataclasses.dataclass(frozen=True)
class DecontamConfig:
    benchmarks: Tuple[BenchmarkConfig, ...] = ()
    ngram: int = 13  # tokens per shared sequence (8-13 typical)
    min_overlap: float = 0.1  # share of an item's n-grams the text must contain (0: any one)
    check_responses: bool = False  # also check the completions
    batch_size: int = 64  # records matched per batch

    def __post_init__(self):
        if self.ngram < 1:
            raise ValueError(f"ngram: expected at least 1, got {self.ngram}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size: expected at least 1, got {self.batch_size}")
        if not 0.0 <= self.min_overlap <= 1.0:
            raise ValueError(f"min_overlap: expected a share in [0, 1], got {self.min_overlap}")
        names = [b.name for b in self.benchmarks]
        if len(set(names)) != len(names):
            raise ValueError(f"benchmarks: names must be unique, got {names}")
