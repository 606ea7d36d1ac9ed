"""Matching: the rule over a batch, and reading the benchmark back from a rejection."""
from __future__ import annotations

import pytest

from tests import factories as f
from transforms.core import Drop, make_rejection
from transforms.decontam.config import BenchmarkConfig, DecontamConfig
from transforms.decontam.matching import MatchBenchmarks, benchmark_of


@pytest.mark.parametrize("reason,detail,expected", [
    ("contaminated", "contaminated:aime24 item=60 shared=3/40 ngram=13 field=prompt", "aime24"),
    ("contaminated", "contaminated:math500 item=x", "math500"),
    ("near_duplicate", "contaminated:aime24 item=1", None),
    ("contaminated", "something else", None),
])
def test_benchmark_of(reason, detail, expected):
    assert benchmark_of(make_rejection(f.verified(), "curate", "decontaminate", reason, detail)) == expected



def test_match_benchmarks_keeps_clean_records_and_drops_copies(tmp_path):
    path = tmp_path / "bench.jsonl"
    item = "A train leaves the station at noon and travels at sixty miles per hour toward the coast."
    path.write_text('{"id": "q1", "problem": "%s"}\n' % item, encoding="utf-8")
    config = DecontamConfig(benchmarks=(BenchmarkConfig("mine", str(path)),), ngram=8, check_responses=True)
    rule = MatchBenchmarks(config, "curate")
    clean = f.verified(0, source_id="1", prompt="What is 2 + 3?")
    copied = f.verified(0, source_id="2", prompt="Solve: " + item.upper())
    quoted = f.verified(0, source_id="3", prompt="Solve a problem.", completion="Recall: " + item)
    outcomes = rule([clean, copied, quoted])
    assert outcomes[0] is clean
    assert outcomes[1] == Drop("contaminated", "contaminated:mine item=q1 shared=10/10 ngram=8 field=prompt",
                               record=copied)
    assert outcomes[2] == Drop("contaminated", "contaminated:mine item=q1 shared=10/10 ngram=8 field=response",
                               record=quoted)
