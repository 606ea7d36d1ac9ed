"""Prompt nodes: one signed :class:`~transforms.dedup.survivor.Node` per problem, from
records with ``problem_id``/``prompt`` (VerifiedRollout, SftExample…)."""
from __future__ import annotations

from typing import Iterable, Tuple

import apache_beam as beam

from transforms.dedup import minhash
from transforms.dedup.config import DedupConfig
from transforms.dedup.exact import text_key
from transforms.dedup.survivor import Node, candidate, survivor_rank


def _problem_facts(values: Iterable[Tuple[str, str, bool]]) -> Tuple[str, str, bool]:
    """(prompt, source, any rollout correct) of one problem (associative: a combiner)."""
    values = list(values)
    return min(v[0] for v in values), min(v[1] for v in values), any(v[2] for v in values)


def _facts(record) -> Tuple[str, Tuple[str, str, bool]]:
    return record.problem_id, (record.prompt or "", record.source or "", getattr(record, "verdict", "") == "correct")


class _SignPrompts(beam.DoFn):
    """Batches of (problem id, (prompt, source, correct)) → Nodes."""

    def __init__(self, config: DedupConfig):
        self.config = config

    def setup(self):
        self.hasher = self.config.hasher()

    def process(self, batch):
        signatures = self.hasher.signatures([prompt for _, (prompt, _, _) in batch])
        for (problem_id, (prompt, source, correct)), signature in zip(batch, signatures):
            rank = survivor_rank(candidate(problem_id, prompt, correct), self.config.survivor_policy)
            yield Node(problem_id, problem_id, source, text_key(prompt), minhash.to_bytes(signature), rank, False)


class PromptNodes(beam.PTransform):
    """Records with ``problem_id``/``prompt`` (VerifiedRollout, SftExample…) → one Node per problem."""

    def __init__(self, config: DedupConfig):
        super().__init__()
        self.config = config

    def expand(self, records):
        return (
            records
            | "Facts" >> beam.Map(_facts)
            | "PerProblem" >> beam.CombinePerKey(_problem_facts)
            | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=self.config.batch_size)
            | "Sign" >> beam.ParDo(_SignPrompts(self.config))
        )
