"""Exact dedup: what "the same text" means, and ``DedupExact``.

Responses within a prompt whose normalized completion is the same: the smallest
rollout id survives, the others are rejected (step ``dedup_exact``, reason
``duplicate``, counter ``dedup_exact.dropped_duplicate``)."""
from __future__ import annotations

import unicodedata

import apache_beam as beam

from transforms.core import Drop, RuleStep, StageOutputs, stable_hash
from transforms.dedup.config import DedupConfig
from transforms.dedup.survivor import pick_survivor

STEP = "dedup_exact"


def normalize_text(text: str) -> str:
    """NFKC, lower case, whitespace collapsed: what "the same text" means for exact dedup."""
    return " ".join(unicodedata.normalize("NFKC", text or "").lower().split())


def text_key(text: str) -> str:
    """Equal keys = the same normalized text."""
    return stable_hash(normalize_text(text), length=32)


def exact_key(record) -> str:
    """Records with equal keys are exact duplicates (same problem, same normalized completion)."""
    return stable_hash(record.problem_id, normalize_text(record.completion), length=32)


def split_group(element):
    """Rule: one ``(exact key, rollouts)`` group → its survivor (the smallest rollout
    id) kept, every other rollout dropped as a ``duplicate`` of it."""
    key, records = element
    survivor, duplicates = pick_survivor(list(records))
    yield survivor
    for dup in duplicates:
        yield Drop("duplicate", f"same normalized completion as {survivor.rollout_id} (cluster {key[:16]})",
                   record=dup)


class DedupExact(beam.PTransform):
    """Rollouts → one per (problem, normalized completion), the rest rejected."""

    def __init__(self, config: DedupConfig, stage: str = "curate"):
        super().__init__()
        self.config = config
        self.stage = stage

    def expand(self, records):
        if not self.config.exact:
            empty = records.pipeline | "NoRejections" >> beam.Create([])
            return StageOutputs(records, empty, records.pipeline | "NoDead" >> beam.Create([]))
        return (
            records
            | "Key" >> beam.Map(lambda r: (exact_key(r), r))
            | "Group" >> beam.GroupByKey()
            | "Split" >> RuleStep(self.stage, STEP, split_group)
        )
