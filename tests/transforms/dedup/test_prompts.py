"""Prompt scope: DedupMinHash on planted duplicates of real problems (recall, precision,
duplicate vs near_duplicate), and the rule that applies a cluster's decisions."""
from __future__ import annotations

import json

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests import factories as f
from tests.transforms.dedup.planted import NOISE_BAND, THRESHOLD, planted, recall_of, score
from transforms.core import Drop
from transforms.dedup.config import DedupConfig
from transforms.dedup.exact import normalize_text
from transforms.dedup.prompts import apply_decision, keyed_by_decision
from transforms.dedup.survivor import Decision
from transforms.dedup.transform import DedupMinHash


def _rejection_row(r):
    return json.dumps([r.record_id, r.problem_id, r.step, r.reason, r.detail])


def test_planted_duplicates_recall_and_precision(tmp_path):
    records, truth = planted()
    out = tmp_path / "rejected.jsonl"
    with TestPipeline() as p:
        result = p | beam.Create(records) | DedupMinHash(DedupConfig(threshold=THRESHOLD, responses=False))
        result.rejected | beam.Map(_rejection_row) | beam.io.WriteToText(str(out), shard_name_template="")
        counted = ((result.kept, result.rejected) | "All" >> beam.Flatten()
                   | beam.combiners.Count.Globally())
        assert_that(counted, equal_to([len(records)]), label="NothingLost")
        assert_that(result.dead, equal_to([]), label="NoDead")
    rejected = [json.loads(line) for line in out.read_text().splitlines()]
    assert {(step, reason) for _, _, step, reason, _ in rejected} == {
        ("dedup_prompts", "duplicate"), ("dedup_prompts", "near_duplicate")}
    recall, strict, precision, predicted, false = score(records, truth, rejected)
    sure = sum(j >= THRESHOLD + NOISE_BAND for _, _, j in truth.values())
    below = sum(j < THRESHOLD - NOISE_BAND for _, _, j in truth.values())
    print(f"\nplanted: recall {recall:.3f} on {sure} pairs with J >= t+{NOISE_BAND} ({strict:.3f} on all "
          f"J >= t), precision {precision:.3f} over {predicted} predicted pairs; {below} planted below t")
    assert sure > 300 and below > 150
    assert recall >= 0.95
    assert precision >= 0.99, false
    assert strict >= 0.9
    prompts = {r.problem_id: r.prompt for r in records}
    for _, problem_id, _, reason, detail in rejected:  # duplicate = same normalized text as the survivor
        survivor = dict(part.split("=") for part in detail.split())["survivor"]
        same_text = normalize_text(prompts[problem_id]) == normalize_text(prompts[survivor])
        assert (reason == "duplicate") == same_text
    copies = [pid for pid, (_, kind, _) in truth.items() if kind in ("exact", "format")]
    assert recall_of(truth, rejected, copies) == 1.0



def test_apply_decision_keeps_or_drops_every_record_of_a_problem():
    records = [f.verified(i) for i in range(2)]
    decision = Decision("near_duplicate", "cluster=c survivor=s jaccard=0.900 scope=prompt")
    element = keyed_by_decision(("p", {"records": records, "decision": [decision]}))
    assert list(apply_decision(element)) == [Drop("near_duplicate", decision.detail, record=r) for r in records]
    kept = keyed_by_decision(("p", {"records": records, "decision": []}))
    assert list(apply_decision(kept)) == records
