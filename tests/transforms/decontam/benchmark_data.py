"""The real benchmarks (``../shared/data``) and config the decontamination tests share."""
from __future__ import annotations

import json
from pathlib import Path

from transforms.decontam.config import BenchmarkConfig, DecontamConfig

DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
BENCHMARKS = (
    BenchmarkConfig("aime24", "../shared/data/qwen_math_eval/aime24/test.jsonl"),
    BenchmarkConfig("amc23", "../shared/data/qwen_math_eval/amc23/test.jsonl"),
    BenchmarkConfig("math500", "../shared/data/math500/test.jsonl"),
    BenchmarkConfig("gsm8k", "../shared/data/gsm8k/test.jsonl"),
)
CONFIG = DecontamConfig(benchmarks=BENCHMARKS, ngram=13, min_overlap=0.1)


def read_field(relative: str, field: str):
    with open(DATA / relative, encoding="utf-8") as fh:
        return [json.loads(line)[field] for line in fh]
