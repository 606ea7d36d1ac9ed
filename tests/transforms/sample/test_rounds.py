"""Adaptive sampling through Beam (``sample.adaptive``): rounds stop a problem at k
correct, top up the others to n, continue the fixed-n sample indexes (same ids, same
text), spend a bucket's budget, and give the same rows however the work is batched.

The teacher is the fake backend (about half of its sums right, a made-up answer to
anything else); the verifier is the real curate checker (math-verify in a child process)."""
from __future__ import annotations

import dataclasses

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests import factories
from transforms.models.backends.fake import FakeBackend
from transforms.sample import adaptive
from transforms.sample.adaptive import AdaptiveConfig
from transforms.sample.config import SampleConfig
from transforms.sample.handler import generate_for_problems, make_rollouts
from transforms.sample.rounds import AdaptiveRollouts
from transforms.verify.checker import AnswerChecker

SEED = 1234
HASH = "cfghash"
CONFIG = SampleConfig(backend="fake", model="fake-model", n=6, max_tokens=64, batch_size=2,
                      adaptive=AdaptiveConfig(enabled=True, first=2, step=2, k=2))


def _problems():
    sums = [factories.problem(source_id=str(i), prompt=f"What is {i} + {i + 1}?", reference_answer=str(2 * i + 1))
            for i in range(5)]
    never = factories.problem(source_id="never", prompt="What is 9 - 4?", reference_answer="5")  # fake: made up
    return sums + [never]


def _expected(config, problems, checker):
    """What rounds must keep, computed without Beam: the fixed-n rollouts (every index),
    verified, cut where the rules close each problem."""
    fixed = dataclasses.replace(config, adaptive=AdaptiveConfig())
    kept = []
    for generated in generate_for_problems(FakeBackend(fixed), problems, fixed, SEED):
        rollouts = make_rollouts(generated, fixed, SEED, HASH)
        verdicts = [checker(r, r.answer)["verdict"] for r in rollouts]
        state = adaptive.start(config.adaptive, config.n, (generated.problem, []))
        while not state.closed:
            new = [rollouts[i] for i in state.indices]
            state = adaptive.after_round(config.adaptive, config.n, state, new, [verdicts[i] for i in state.indices])
        kept.extend(state.rollouts)
    return kept


def _run(config, problems, checker):
    pipeline = BeamPipeline()
    out = pipeline | beam.Create(problems) | AdaptiveRollouts(config, SEED, HASH, checker)
    return pipeline, out


@pytest.mark.slow  # two whole pipelines (~40 s on 2 cores)
def test_rounds_stop_at_k_top_up_to_n_and_keep_the_fixed_n_rows():
    checker = AnswerChecker()
    problems = _problems()
    expected = _expected(CONFIG, problems, checker)
    per_problem = {p.problem_id: sum(r.problem_id == p.problem_id for r in expected) for p in problems}
    assert min(per_problem.values()) == 2 and per_problem[problems[-1].problem_id] == 6  # stopped early, topped up
    assert sum(per_problem.values()) < 6 * len(problems)
    failing = factories.problem(source_id="bad", prompt="Please FAIL here")
    for batch_size in (1, 3):  # the same rows however problems share batches
        config = dataclasses.replace(CONFIG, batch_size=batch_size)
        pipeline, out = _run(config, problems[:3] + [failing] + problems[3:], checker)
        assert_that(out.kept, equal_to(expected), label="Kept")
        assert_that(out.dead | beam.Map(lambda d: (d.record_id, d.step)), equal_to([(failing.problem_id, "generate")]),
                    label="Dead")
        assert_that(out.rejected, equal_to([]), label="Rejected")
        pipeline.run().wait_until_finish()
    checker.teardown()


def test_a_bucket_budget_caps_the_samples_and_rejects_problems_granted_none():
    checker = AnswerChecker()
    problems = _problems()
    config = dataclasses.replace(CONFIG, adaptive=dataclasses.replace(CONFIG.adaptive, budget={"test": 9}))
    pipeline, out = _run(config, problems, checker)
    total = out.kept | "Count" >> beam.combiners.Count.Globally()
    assert_that(total, equal_to([9]), label="Total")  # 6 problems want 12 in round 0: 9 granted
    granted = sorted(problems, key=lambda p: adaptive.rank(SEED, p.problem_id))
    rejected = out.rejected | beam.Map(lambda r: (r.record_id, r.step, r.reason))
    assert_that(rejected, equal_to([(p.problem_id, "budget", "over_budget") for p in granted[5:]]),
                label="Rejected")
    pipeline.run().wait_until_finish()
    checker.teardown()
