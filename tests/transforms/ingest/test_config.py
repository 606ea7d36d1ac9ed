"""Ingest's config checks: each bad field raises a ValueError naming it."""
import pytest

from transforms.ingest.config import FieldMapping, IngestConfig, SourceConfig


@pytest.mark.parametrize("kwargs, message", [
    ({}, "name: every source needs a name"),
    ({"name": "a"}, "path: source 'a' needs a path"),
    ({"name": "a", "path": "x.jsonl", "format": "csv"}, "format: must be one of auto, jsonl"),
    ({"name": "a", "path": "x.jsonl", "preset": "trivia"}, "preset: must be one of gsm8k, math"),
    ({"name": "a", "path": "x.jsonl", "kind": "chat"}, "kind: must be reasoning or knowledge"),
    ({"name": "a", "path": "x.jsonl", "limit": -1}, "limit: must be >= 0"),
    ({"name": "a", "format": "generator"}, "generator: a generator source needs a generator name"),
    ({"name": "a", "generator": "arithmetic"}, "count: a generator source needs count > 0"),
    ({"name": "a", "generator": "calculus", "count": 2}, "generator: unknown generator 'calculus'"),
    ({"name": "a", "generator": "countdown", "count": 2, "difficulty": (0,)}, "difficulty: countdown levels"),
    ({"name": "a", "generator": "countdown", "count": 2, "rule": "twice"}, "rule: countdown rules are exactly_once"),
    ({"name": "a", "generator": "unit_rate", "count": 2, "rule": "at_most_once"}, "rule: unit_rate has no rules"),
    ({"name": "a", "path": "x.jsonl", "rule": "at_most_once"}, "rule: only a generator source has a rule"),
])
def test_bad_sources_name_the_field(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SourceConfig(**kwargs)


def test_good_sources_and_defaults():
    generated = SourceConfig(name="g", generator="arithmetic", count=3, difficulty=(0, 1))
    assert generated.is_generator and generated.domain == "math" and generated.kind == "reasoning"
    read = SourceConfig(name="r", path="x.jsonl", preset="mcq", fields=FieldMapping(prompt="q"), limit=0)
    assert not read.is_generator and read.fields.prompt == "q" and read.fields.answer is None


def test_ingest_config_checks_max_line_bytes():
    assert IngestConfig().max_line_bytes == 1_000_000
    with pytest.raises(ValueError, match="max_line_bytes: must be > 0"):
        IngestConfig(max_line_bytes=0)
