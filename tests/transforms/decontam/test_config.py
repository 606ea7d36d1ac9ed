"""BenchmarkConfig and DecontamConfig check their values (and benchmark paths)."""
from __future__ import annotations

import pytest

from tests.transforms.decontam.benchmark_data import BENCHMARKS
from transforms.decontam.config import BenchmarkConfig, DecontamConfig
from transforms.decontam.transform import DecontaminateBenchmarks


@pytest.mark.parametrize("kwargs,message", [
    (dict(name="bad name", path="x.jsonl"), "benchmark name"),
    (dict(name="ok", path=""), "path is required"),
    (dict(name="ok", path="x.jsonl", fields=()), "fields"),
])
def test_benchmark_config_is_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BenchmarkConfig(**kwargs)


def test_config_is_checked():
    with pytest.raises(ValueError, match="unique"):
        DecontamConfig(benchmarks=(BENCHMARKS[0], BENCHMARKS[0]))
    with pytest.raises(ValueError, match="min_overlap"):
        DecontamConfig(min_overlap=1.5)
    with pytest.raises(ValueError, match="matches no file"):
        DecontaminateBenchmarks(DecontamConfig(benchmarks=(BenchmarkConfig("gone", "../shared/data/none*.jsonl"),)))
