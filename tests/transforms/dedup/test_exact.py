"""Exact dedup: the group rule (smallest rollout id survives) and its counted drops."""
from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from tests import factories as f
from tests.factories import verified
from transforms.core import Drop
from transforms.dedup.config import DedupConfig
from transforms.dedup.exact import DedupExact, exact_key, normalize_text, split_group


def test_split_group_keeps_the_smallest_id_and_drops_the_rest():
    records = [f.verified(i, completion="x = 5" + " " * i) for i in range(3)]
    key = exact_key(records[0])
    survivor = min(records, key=lambda r: r.rollout_id)
    outcomes = list(split_group((key, records)))
    assert outcomes[0] is survivor
    assert outcomes[1:] == [
        Drop("duplicate", f"same normalized completion as {survivor.rollout_id} (cluster {key[:16]})", record=r)
        for r in sorted((r for r in records if r is not survivor), key=lambda r: r.rollout_id)]


def test_dedup_exact_counts_its_drops():
    records = [f.verified(i, completion="x = 5" + " " * i) for i in range(3)] + [f.verified(3, completion="y")]
    p = beam.Pipeline(runner="FnApiRunner")
    out = p | beam.Create(records) | DedupExact(DedupConfig())
    assert_that(out.rejected | beam.Map(lambda r: (r.stage, r.step, r.reason)),
                equal_to([("curate", "dedup_exact", "duplicate")] * 2))
    assert_that(out.dead, equal_to([]), label="NoDead")
    result = p.run()
    result.wait_until_finish()
    counters = {c.key.metric.name: c.committed for c in result.metrics().query()["counters"]
                if c.key.metric.namespace == "curate"}
    assert counters == {"dedup_exact.dropped_duplicate": 2}


@pytest.mark.parametrize("a, b, same", [
    ("The answer is 5.", "the  answer is 5.", True),
    ("The answer is 5.", "The answer is 5.\n", True),
    ("ｔｈｅ answer", "the answer", True),
    ("The answer is 5.", "The answer is 6.", False),
])
def test_normalize_text(a, b, same):
    assert (normalize_text(a) == normalize_text(b)) is same


def test_exact_key_is_per_problem():
    a = verified(completion="x = 5", source_id="1")
    b = verified(completion="X  = 5", source_id="1", sample_index=1)
    c = verified(completion="x = 5", source_id="2")
    assert exact_key(a) == exact_key(b) != exact_key(c)
