"""Near-duplicate responses within a prompt (step ``dedup_responses``).

A prompt's rollouts are few, so all pairs are compared (exact, no LSH misses); one
survivor per cluster (reason ``duplicate`` or ``near_duplicate`` for the others), then
at most ``max_responses_per_prompt`` of the survivors, the most diverse (greedy: each
next pick is the least similar to those already picked; reason ``response_cap``).
Every drop is counted as ``dedup_responses.dropped_<reason>``."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import apache_beam as beam
import numpy as np

from transforms.core import Drop, RuleStep
from transforms.dedup import minhash
from transforms.dedup.components import union_find_roots
from transforms.dedup.config import DedupConfig
from transforms.dedup.exact import normalize_text
from transforms.dedup.survivor import Decision, cluster_id, duplicate_detail, rollout_candidate, survivor_rank

STEP = "dedup_responses"


def diverse_order(similarity: np.ndarray, correct: Sequence[bool], cap: int) -> List[int]:
    """Indexes of at most ``cap`` items, picked greedily: item 0 first (the best ranked),
    then each time the correct item (any item once no correct one is left) least similar
    to those picked, ties to the best ranked (the lowest index)."""
    picked = [0]
    closest = similarity[0].copy()
    while len(picked) < min(cap, len(correct)):
        left = [i for i in range(len(correct)) if i not in picked]
        best = min(left, key=lambda i: (not correct[i], closest[i], i))
        picked.append(best)
        closest = np.maximum(closest, similarity[best])
    return picked


def response_decisions(records: Sequence, signatures: np.ndarray, config: DedupConfig) -> List[Optional[Decision]]:
    """One decision per rollout of one prompt (None: kept)."""
    cands = [rollout_candidate(r) for r in records]
    keys = [normalize_text(r.completion) for r in records]
    similarity = minhash.jaccard_matrix(signatures, signatures)
    ids = [c.record_id for c in cands]
    text_ids = np.unique(keys, return_inverse=True)[1]
    linked = (similarity >= config.threshold) | (text_ids[:, None] == text_ids[None, :])
    roots = union_find_roots((ids[i], ids[j]) for i, j in np.argwhere(np.triu(linked, 1)).tolist())
    clusters: Dict[str, List[int]] = {}
    for index, rid in enumerate(ids):
        clusters.setdefault(roots.get(rid, rid), []).append(index)
    decisions: List[Optional[Decision]] = [None] * len(records)
    survivors = []
    for root, members in clusters.items():
        members.sort(key=lambda i: survivor_rank(cands[i], config.survivor_policy))
        best = members[0]
        survivors.append(best)
        for index in members[1:]:
            reason = "duplicate" if keys[index] == keys[best] else "near_duplicate"
            detail = duplicate_detail(cluster_id("response", root), ids[best], similarity[index, best], "response")
            decisions[index] = Decision(reason, detail)
    cap = config.max_responses_per_prompt
    if cap and len(survivors) > cap:
        survivors.sort(key=lambda i: survivor_rank(cands[i], config.survivor_policy))
        sub = similarity[np.ix_(survivors, survivors)]
        picked = {survivors[i] for i in diverse_order(sub, [cands[i].correct for i in survivors], cap)}
        for index in survivors:
            if index not in picked:
                closest = max(similarity[index, p] for p in picked)
                decisions[index] = Decision("response_cap", f"cap={cap} survivors={len(survivors)} "
                                                            f"max_jaccard_to_kept={closest:.3f}")
    return decisions


class DedupResponseGroup:
    """Rule: one prompt's ``(problem id, rollouts)`` → each rollout kept or dropped by
    ``response_decisions`` (holds the MinHasher: built in ``setup``)."""

    def __init__(self, config: DedupConfig):
        self.config = config
        self.hasher = None

    def setup(self):
        self.hasher = self.config.hasher()

    def __call__(self, element):
        if self.hasher is None:
            self.setup()
        _, records = element
        records = sorted(records, key=lambda r: r.rollout_id)
        signatures = self.hasher.signatures([r.completion or "" for r in records])
        decisions = response_decisions(records, signatures, self.config)
        return [record if decision is None else Drop(decision.reason, decision.detail, record=record)
                for record, decision in zip(records, decisions)]


class DedupResponses(beam.PTransform):
    def __init__(self, config: DedupConfig, stage: str):
        super().__init__()
        self.config, self.stage = config, stage

    def expand(self, records):
        return (
            records
            | "ByProblem" >> beam.Map(lambda r: (r.problem_id, r))
            | "Group" >> beam.GroupByKey()
            | "Dedup" >> RuleStep(self.stage, STEP, DedupResponseGroup(self.config))
        )
