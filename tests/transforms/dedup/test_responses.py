"""Response scope: clusters within a prompt, the most diverse survivors under the cap."""
from __future__ import annotations

import numpy as np

from tests import factories as f
from tests.transforms.text.samples import read_field
from transforms.dedup import minhash
from transforms.dedup.config import DedupConfig
from transforms.dedup.responses import diverse_order, response_decisions


def test_diverse_order_prefers_correct_then_least_similar():
    similarity = np.array([[1.0, 0.9, 0.1, 0.2], [0.9, 1.0, 0.3, 0.1], [0.1, 0.3, 1.0, 0.5], [0.2, 0.1, 0.5, 1.0]])
    assert diverse_order(similarity, [True, True, True, True], 3) == [0, 2, 3]
    assert diverse_order(similarity, [True, True, False, True], 3) == [0, 3, 1]
    assert diverse_order(similarity, [True] * 4, 9) == [0, 2, 3, 1]


def test_response_decisions_cluster_then_cap():
    solutions = read_field("math500/test.jsonl", "solution", 4)
    completions = [solutions[0], solutions[0].upper() + "  ", solutions[0] + " Done.", solutions[1], solutions[2],
                   solutions[3]]
    records = sorted((f.verified(i, completion=c) for i, c in enumerate(completions)), key=lambda r: r.rollout_id)
    hasher = minhash.MinHasher()
    decisions = response_decisions(records, hasher.signatures([r.completion for r in records]), DedupConfig())
    by_text = {r.completion: d for r, d in zip(records, decisions)}
    assert by_text[solutions[0]] is None  # shortest of its cluster
    assert by_text[solutions[0].upper() + "  "].reason == "duplicate"
    assert by_text[solutions[0] + " Done."].reason == "near_duplicate"
    assert "survivor=" + records[[r.completion for r in records].index(solutions[0])].rollout_id in \
        by_text[solutions[0] + " Done."].detail
    capped = response_decisions(records, hasher.signatures([r.completion for r in records]),
                                DedupConfig(max_responses_per_prompt=2))
    reasons = sorted(d.reason if d else "kept" for d in capped)
    assert reasons == ["duplicate", "kept", "kept", "near_duplicate", "response_cap", "response_cap"]
