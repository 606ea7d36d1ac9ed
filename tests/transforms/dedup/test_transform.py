"""DedupMinHash as a whole: the kept set is a function of the input set (shuffles,
runner modes, PYTHONHASHSEED), and every drop is counted per step.

Run as a script (``python -m tests.transforms.dedup.test_transform OUT [beam args]``)
it runs DedupMinHash on the planted set and writes the kept ids and rejections to OUT:
the determinism test compares such runs across runner modes and PYTHONHASHSEED values.
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests import factories as f
from tests.transforms.dedup.planted import planted
from transforms.dedup import minhash
from transforms.dedup.components import union_find_roots
from transforms.dedup.config import DedupConfig
from transforms.dedup.exact import text_key
from transforms.dedup.lsh import bucket_edges
from transforms.dedup.responses import response_decisions
from transforms.dedup.survivor import Node, candidate, cluster_decisions, survivor_rank
from transforms.dedup.transform import DedupMinHash

ROOT = Path(__file__).resolve().parents[3]


def _small_planted():
    records, _ = planted(bases_per_source=12, unrelated=20, seed=11)
    extra = []  # several rollouts per problem, some near-duplicate responses
    for r in records[:40]:
        extra.append(f.verified(1, source=r.source, source_id=r.source_id, prompt=r.prompt,
                                completion=r.completion + " (again)"))
    return records + extra


def _kept_sets(p, records, shuffles: int):
    """One DedupMinHash branch per shuffle of ``records``: a PCollection of sorted kept-id tuples."""
    sets = []
    for i in range(shuffles):
        shuffled = records[:]
        random.Random(i).shuffle(shuffled)
        out = p | f"Create{i}" >> beam.Create(shuffled) | f"Dedup{i}" >> DedupMinHash(DedupConfig(cc_rounds=1))
        sets.append(out.kept | f"Ids{i}" >> beam.Map(lambda r: r.rollout_id) | f"List{i}" >> beam.combiners.ToList()
                    | f"Sort{i}" >> beam.Map(lambda ids: tuple(sorted(ids))))
    return sets | "AllSets" >> beam.Flatten()


def test_kept_set_identical_under_shuffles():
    records = _small_planted()
    with TestPipeline() as p:
        sets = _kept_sets(p, records, 2)
        assert_that(sets | beam.Distinct() | beam.combiners.Count.Globally(), equal_to([1]))
        assert_that(sets | "Sizes" >> beam.Map(len), lambda sizes: _check_sizes(sizes, len(records)), label="Sizes")


def _check_sizes(sizes, total):
    assert len(sizes) == 2 and 0 < sizes[0] < total - 20  # duplicates were dropped


@pytest.mark.slow
def test_kept_set_identical_under_ten_shuffles():
    with TestPipeline() as p:
        sets = _kept_sets(p, _small_planted(), 10)
        assert_that(sets | beam.Distinct() | beam.combiners.Count.Globally(), equal_to([1]))


def test_plain_steps_ignore_input_order():
    """The order-sensitive steps (bucket confirmation, union-find, cluster and response
    decisions) give the same result for ten shuffles of their input."""
    records = _small_planted()
    hasher = minhash.MinHasher()
    sigs = hasher.signatures([r.prompt for r in records])
    members = [(r.problem_id, minhash.to_bytes(s)) for r, s in zip(records, sigs)]
    pairs = [(a, b) for (a, _), (b, _) in zip(members, members[1:])][:30]
    nodes = [Node(r.problem_id, r.problem_id, r.source, text_key(r.prompt), minhash.to_bytes(s),
                  survivor_rank(candidate(r.problem_id, r.prompt, True), ("correct", "readable", "shortest")), False)
             for r, s in zip(records[:12], sigs[:12])]
    group = records[:8]
    results = set()
    for i in range(10):
        rng = random.Random(i)
        shuffled = [members[:], pairs[:], nodes[:], group[:]]
        for part in shuffled:
            rng.shuffle(part)
        rollouts = sorted(shuffled[3], key=lambda r: r.rollout_id)
        results.add(json.dumps([
            sorted(bucket_edges(shuffled[0], 0, 9, 0.3, 40)),
            sorted(union_find_roots(shuffled[1]).items()),
            [(n.key, d) for n, d in cluster_decisions(shuffled[2], "prompt")],
            response_decisions(rollouts, hasher.signatures([r.completion for r in rollouts]), DedupConfig()),
        ]))
    assert len(results) == 1


def run_and_dump(out_path: str, beam_args) -> None:
    """DedupMinHash over the small planted set; kept ids and rejections (sorted) to a JSON file."""
    records = _small_planted()
    rows_out = out_path + ".rows"
    with beam.Pipeline(options=PipelineOptions(beam_args)) as p:
        out = p | beam.Create(records) | DedupMinHash(DedupConfig(cc_rounds=1))
        kept = out.kept | beam.Map(lambda r: json.dumps(["kept", r.rollout_id]))
        rejected = out.rejected | beam.Map(lambda r: json.dumps(["rejected", r.record_id, r.reason, r.detail]))
        (kept, rejected) | beam.Flatten() | beam.io.WriteToText(rows_out, shard_name_template="")
    with open(rows_out, encoding="utf-8") as fh:
        rows = sorted(fh.read().splitlines())
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(rows, fh)


def _run_subprocess(out: Path, hash_seed: str, beam_args):
    env = dict(os.environ, PYTHONHASHSEED=hash_seed, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    subprocess.run([sys.executable, "-m", "tests.transforms.dedup.test_transform", str(out)] + beam_args,
                   cwd=ROOT, env=env, check=True, timeout=300, capture_output=True)
    return json.loads(out.read_text())


@pytest.mark.slow
def test_same_result_in_both_runner_modes_and_hash_seeds(tmp_path):
    run_and_dump(str(tmp_path / "in_process.json"), [])
    expected = json.loads((tmp_path / "in_process.json").read_text())
    assert any(row.startswith('["rejected"') for row in expected)
    multi = _run_subprocess(tmp_path / "multi.json", "1",
                            ["--direct_running_mode=multi_processing", "--direct_num_workers=2"])
    other_seed = _run_subprocess(tmp_path / "seed.json", "12345", [])
    assert multi == expected
    assert other_seed == expected



# -- counters: every drop counted as <stage>.<step>.dropped_<reason> ---------------------------


def test_every_drop_is_counted_per_step_and_reason(tmp_path):
    prompt = "Compute the sum of the first ten positive integers, and explain each step you take."
    solution = "Add them in pairs: 1 + 10, 2 + 9, and so on give five pairs of 11, so the sum is 55."
    records = [f.verified(0, source_id="a", prompt=prompt, completion=solution),
               f.verified(0, source_id="b", prompt=prompt.upper() + "  ", completion=solution),  # same, longer
               f.verified(1, source_id="a", prompt=prompt, completion=solution.upper() + "  "),  # same response
               f.verified(2, source_id="a", prompt=prompt, completion="The sum is 55.")]
    out = tmp_path / "rejected.jsonl"
    p = beam.Pipeline(runner="FnApiRunner")
    result = p | beam.Create(records) | DedupMinHash(DedupConfig())
    (result.rejected | beam.Map(lambda r: json.dumps([r.stage, r.step, r.reason]))
     | beam.io.WriteToText(str(out), shard_name_template=""))
    run = p.run()
    run.wait_until_finish()
    rejected = [tuple(json.loads(line)) for line in out.read_text().splitlines()]
    assert sorted(rejected) == [("curate", "dedup_prompts", "duplicate"), ("curate", "dedup_responses", "duplicate")]
    counters = {f"{c.key.metric.namespace}.{c.key.metric.name}": c.committed
                for c in run.metrics().query()["counters"] if ".dropped_" in c.key.metric.name}
    expected = {}
    for stage, step, reason in rejected:
        key = f"{stage}.{step}.dropped_{reason}"
        expected[key] = expected.get(key, 0) + 1
    assert counters == expected


if __name__ == "__main__":
    run_and_dump(sys.argv[1], sys.argv[2:])
