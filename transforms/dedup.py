"""Dedup: exact duplicate removal on normalized text.

Responses are compared within a prompt: of the rollouts of one problem whose
normalized completion is the same, the one with the smallest rollout id survives and
the others are rejected with reason ``duplicate`` naming the survivor.
"""
from __future__ import annotations

import dataclasses
import re
import unicodedata

import apache_beam as beam

from transforms.common import StageOutputs, make_rejection, stable_hash


@dataclasses.dataclass(frozen=True)
class DedupConfig:
    exact: bool = True  # drop responses identical (after normalization) to another of the same prompt


def normalize_text(text: str) -> str:
    """NFKC, lower case, whitespace collapsed: what "the same text" means for exact dedup."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return re.sub(r"\s+", " ", text).strip()


def exact_key(record) -> str:
    """Records with equal keys are exact duplicates (same problem, same normalized completion)."""
    return stable_hash(record.problem_id, normalize_text(record.completion), length=32)


def pick_survivor(records):
    """(survivor, duplicates): the smallest rollout id survives."""
    ordered = sorted(records, key=lambda r: r.rollout_id)
    return ordered[0], ordered[1:]


class _SplitGroup(beam.DoFn):
    def __init__(self, stage: str):
        self.stage = stage

    def process(self, element):
        key, records = element
        survivor, duplicates = pick_survivor(list(records))
        yield survivor
        for dup in duplicates:
            beam.metrics.Metrics.counter(self.stage, "dropped_duplicate").inc()
            yield beam.pvalue.TaggedOutput(
                "rejected",
                make_rejection(dup, self.stage, "dedup_exact", "duplicate",
                               f"same normalized completion as {survivor.rollout_id} (cluster {key[:16]})"),
            )


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
        out = (
            records
            | "Key" >> beam.Map(lambda r: (exact_key(r), r))
            | "Group" >> beam.GroupByKey()
            | "Split" >> beam.ParDo(_SplitGroup(self.stage)).with_outputs("rejected", main="kept")
        )
        return StageOutputs(out.kept, out.rejected, records.pipeline | "NoDead" >> beam.Create([]))
