"""Journey learning: every wrong attempt of a problem ends as a journey, a rejection or a
dead letter, through the journey RuleStep.

Fast tests use the fake teacher; the slow ones sample real rollouts of the tiny model
(SmolLM2-135M, transformers backend, one torch thread) once per module."""
import dataclasses
import json
import os

import apache_beam as beam
import pytest
from apache_beam.testing import test_pipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.records import SCHEMA_VERSION, Problem, SftExample
from tests.transforms.mix.test_journey_build import FAKE, assert_journey, correct, fake_teacher, teacher_of, wrong
from tests.transforms.verify.test_attempts import _rejection
from transforms.core import Dead, Drop, stable_hash
from transforms.core.stage import dead_letters_for
from transforms.mix.attempts import takes_attempt
from transforms.mix.journey import STAGE, STEP, BuildJourneys, Checked, failed_probes, failed_reflect, splice_rule
from transforms.mix.journey_build import plan_journey
from transforms.mix.journey_config import JourneyConfig
from transforms.mix.journey_teacher import (
    Teacher,
    build_journey,
    problem_journeys,
    reflect_request,
    teacher_samples,
)
from transforms.models.config import make_backend
from transforms.sample.config import FewShot, SampleConfig
from transforms.verify.attempts import wrong_attempt
from transforms.verify.checker import AnswerChecker

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def test_every_wrong_attempt_ends_somewhere(check):
    config = JourneyConfig(share=0.5, modes=("splice",), max_per_problem=2, locate=False)
    attempts = [wrong(i) for i in range(4)] + [wrong(9, source_id="2")]
    out = list(problem_journeys([correct()], attempts[:4], None, check, config, seed=1))
    out += list(problem_journeys([], attempts[4:], None, check, config, seed=1))
    assert len(out) == len(attempts)
    assert sum(isinstance(o, SftExample) for o in out) == 2
    drops = [o for o in out if isinstance(o, Drop)]
    assert sorted(d.reason for d in drops) == ["journey_per_problem_cap", "journey_per_problem_cap",
                                               "no_correct_rollout"]
    assert {d.step for d in drops} == {"journey_select"}
    assert {d.record.rollout_id for d in drops} <= {a.rollout_id for a in attempts}  # payload: the attempt


def test_a_failing_teacher_dead_letters_the_attempt(check):
    config = JourneyConfig(share=0.5, modes=("reflect",), locate=False)
    broken = wrong(prompt="FAIL: What is 2 + 3?")
    [dead] = list(problem_journeys([], [broken], fake_teacher(), check, config, seed=1))
    assert isinstance(dead, Dead) and dead.record == broken and "FAIL" in dead.error
    [letter] = dead_letters_for(STAGE, STEP, dead.record, dead.error)  # as the RuleStep writes it
    assert (letter.stage, letter.step, letter.record_id) == ("mix", "journey", broken.rollout_id)


def _all_correct(verdicts):
    assert verdicts and set(verdicts) == {"correct"}, verdicts


def test_build_journeys_transform_accounts_for_every_attempt():
    config = JourneyConfig(share=0.5, modes=("splice", "reflect"), max_per_problem=3)
    correct_records = [correct(10, "1"), correct(11, "1"), correct(10, "2")]
    wrong_records = [wrong(i, "1") for i in range(4)] + [wrong(i, "2") for i in range(2)] + [wrong(0, "3")]
    with test_pipeline.TestPipeline() as p:
        inputs = {"correct": p | "C" >> beam.Create(correct_records),
                  "wrong": p | "W" >> beam.Create(wrong_records)}
        out = inputs | BuildJourneys(config, teacher_of(FAKE), AnswerChecker(), seed=1)
        ids = ((out.kept | "K" >> beam.Map(lambda e: e.rollout_ids[0])),
               (out.rejected | "R" >> beam.Map(lambda r: r.record_id)),
               (out.dead | "D" >> beam.Map(lambda d: d.record_id))) | beam.Flatten()
        assert_that(ids, equal_to([w.rollout_id for w in wrong_records]))
        assert_that(out.kept | "V" >> beam.Map(lambda e: e.verdict), _all_correct, label="all correct")


def test_journey_drops_are_counted_per_step_and_reason(tmp_path):
    config = JourneyConfig(share=0.5, modes=("splice", "reflect"), max_per_problem=2, locate=False)
    wrong_records = [wrong(i, "1") for i in range(5)] + [wrong(0, "2", prompt="FAIL: What is 2 + 3?")]
    path = tmp_path / "rejections.json"
    p = beam.Pipeline(runner="FnApiRunner")
    inputs = {"correct": p | "C" >> beam.Create([correct(10, "1")]), "wrong": p | "W" >> beam.Create(wrong_records)}
    out = inputs | BuildJourneys(config, teacher_of(FAKE), AnswerChecker(), seed=1)
    _ = (out.rejected | beam.Map(lambda r: f"{r.step}.dropped_{r.reason}") | beam.combiners.ToList()
         | beam.Map(lambda keys: path.write_text(json.dumps(sorted(keys)))))
    result = p.run()
    result.wait_until_finish()
    counters = {c.key.metric.name: c.committed for c in result.metrics().query()["counters"]
                if c.key.metric.namespace == "mix"}
    rejected = json.loads(path.read_text())
    assert "journey_select.dropped_journey_per_problem_cap" in rejected
    assert {k: v for k, v in counters.items() if ".dropped_" in k} == {k: rejected.count(k) for k in rejected}
    assert counters["journey.dead"] == 1  # the FAIL prompt: its attempt dead-lettered, counted


def test_the_beam_step_gives_what_the_plain_driver_gives(check):
    """Probes and reflect continuations through the model steps, every decision through a
    RuleStep: the same examples, rejections and dead letters as asking the teacher directly."""
    config = JourneyConfig(share=0.5, modes=("splice", "reflect"), max_per_problem=3, continuations=2, max_steps=3)
    correct_records = [correct(10, "1"), correct(11, "1"), correct(10, "2")]
    wrong_records = ([wrong(i, "1") for i in range(4)] + [wrong(i, "2") for i in range(3)] + [wrong(0, "3")]
                     + [wrong(1, "3", prompt="FAIL: What is 2 + 3?")])
    plain = []
    for problem in ("1", "2", "3"):
        mine = sorted((c for c in correct_records if c.source_id == problem), key=lambda r: r.rollout_id)
        theirs = sorted((w for w in wrong_records if w.source_id == problem), key=lambda r: r.rollout_id)
        plain += list(problem_journeys(mine, theirs, fake_teacher(), check, config, seed=1))
    examples = [o for o in plain if isinstance(o, SftExample)]
    drops = [(o.record.rollout_id, o.step, o.reason, o.detail) for o in plain if isinstance(o, Drop)]
    dead = [(o.record.rollout_id, o.error) for o in plain if isinstance(o, Dead)]
    assert examples and drops and dead and len(examples) + len(drops) + len(dead) == len(wrong_records)
    assert {e.journey for e in examples} >= {"splice:step", "reflect:step"}
    with test_pipeline.TestPipeline() as p:
        inputs = {"correct": p | "C" >> beam.Create(correct_records),
                  "wrong": p | "W" >> beam.Create(wrong_records)}
        out = inputs | BuildJourneys(config, teacher_of(FAKE), AnswerChecker(), seed=1)
        assert_that(out.kept, equal_to(examples), label="examples")
        assert_that(out.rejected | "R" >> beam.Map(lambda r: (r.record_id, r.step, r.reason, r.detail)),
                    equal_to(drops), label="rejections")
        assert_that(out.dead | "D" >> beam.Map(lambda d: (d.record_id, d.step, d.error)),
                    equal_to([(i, STEP, e) for i, e in dead]), label="dead letters")


def test_failed_model_batches_dead_letter_their_attempts():
    config = JourneyConfig(share=0.5, modes=("reflect",))
    plan = plan_journey(wrong(), [], config, seed=1)
    request = reflect_request(plan, teacher_of(FAKE), seed=1)
    error = (RuntimeError, "RuntimeError('GPU lost')", ["Traceback ...\n"])
    [(rollout_id, (k, answer))] = failed_probes(([((plan.attempt.rollout_id, 2), request)], error))
    assert (rollout_id, k) == (plan.attempt.rollout_id, 2) and "GPU lost" in teacher_samples(answer)[1]
    [dead] = failed_reflect(([(plan, request)], error))
    assert dead.record == plan.attempt and "GPU lost" in dead.error


class _Checker:
    def __init__(self):
        self.calls = []

    def setup(self):
        self.calls.append("setup")

    def teardown(self):
        self.calls.append("teardown")

    def __call__(self, record, text):
        raise ValueError("bad metadata")


def test_checked_rules_own_the_checker_and_dead_letter_the_attempt():
    checker = _Checker()
    rule = Checked(splice_rule, checker)
    rule.setup()
    plan = plan_journey(wrong(), [correct()], JourneyConfig(share=0.5, locate=False), seed=1)
    dead = rule(plan)
    rule.teardown()
    assert checker.calls == ["setup", "teardown"]
    assert isinstance(dead, Dead) and dead.record == wrong() and "bad metadata" in dead.error


def test_journeys_that_ask_the_teacher_need_one():
    with pytest.raises(ValueError, match="need a teacher"):
        BuildJourneys(JourneyConfig(share=0.5), None, AnswerChecker(), seed=1)
    BuildJourneys(JourneyConfig(share=0.5, locate=False), None, AnswerChecker(), seed=1)  # splice alone: none


# -- real rollouts of the tiny model ------------------------------------------------------

DEMO_SHOT = FewShot(
    user="What is 12 + 7?\nPlease reason step by step, and put your final answer within \\boxed{}.",
    assistant="We add 12 and 7.\n12 + 7 = 19.\n\nThe answer is \\boxed{19}.")
TINY = SampleConfig(backend="transformers", model="smollm2", n=4, max_tokens=40, torch_threads=1,
                    few_shot=(DEMO_SHOT,))


def _problems(count, seed):
    from transforms.ingest.generators import generate_problems

    out = []
    for p in generate_problems("arithmetic", count, seed, [1]):
        out.append(Problem(problem_id=stable_hash("arithmetic", p["id"]), source="arithmetic", source_id=p["id"],
                           domain="math", kind="reasoning", prompt=p["prompt"], reference_answer=p["answer"],
                           choices=[], tests=None, difficulty=p["difficulty"], language="en",
                           metadata=json.dumps(p["metadata"]), seed=seed, config_hash="test",
                           schema_version=SCHEMA_VERSION))
    return out


@pytest.fixture(scope="module")
def tiny(check):
    """(teacher, correct rollouts, wrong rollouts) of a handful of trivial sums, sampled once."""
    from schemas.records import VerifiedRollout, project
    from tests.backend_support import converted_model
    from transforms.sample.handler import generate_for_problems, make_rollouts

    # the converted HF directory: no GGUF dequantisation per load (test_transform.py checks
    # it generates what the GGUF does; test_hf.py loads the GGUF)
    backend = make_backend(dataclasses.replace(TINY, model=converted_model()).model_config())
    backend.load()
    teacher = Teacher(backend, teacher_of(TINY))
    # small sums: the tiny model gets them right some of the time (differences hardly ever)
    problems = [p for p in _problems(8, seed=5) if "+" in p.prompt and int(p.reference_answer) < 60]
    generated = generate_for_problems(teacher.backend, problems, TINY, seed=1)
    rollouts = [r for g in generated for r in make_rollouts(g, TINY, 1, "test")]
    verified_rollouts = [project(VerifiedRollout, r, pass_rate=0.0, **check(r, r.answer or r.completion))
                         for r in rollouts]
    correct_records = [v for v in verified_rollouts if v.verdict == "correct"]
    wrong_records = [v for v in verified_rollouts
                     if wrong_attempt(_rejection(v)) is not None and takes_attempt(v, JourneyConfig())]
    return teacher, correct_records, wrong_records


@pytest.mark.slow
def test_real_splice_journeys(tiny, check):
    teacher, correct_records, wrong_records = tiny
    assert correct_records and wrong_records, "the sampled set needs both correct and wrong rollouts"
    solved = {c.problem_id for c in correct_records}
    attempts = [w for w in wrong_records if w.problem_id in solved]
    assert attempts
    config = JourneyConfig(share=0.5, max_per_problem=1, continuations=2, max_steps=3, max_tokens=24)
    examples = []
    for problem_id in sorted({w.problem_id for w in attempts}):
        mine = [c for c in correct_records if c.problem_id == problem_id]
        theirs = [w for w in attempts if w.problem_id == problem_id]
        out = list(problem_journeys(mine, theirs, teacher, check, config, seed=1))
        assert len(out) == len(theirs)  # each attempt built, rejected or dead-lettered
        examples += [(r, next(w for w in theirs if w.rollout_id == r.rollout_ids[0]), mine)
                     for r in out if isinstance(r, SftExample)]
    assert examples
    for example, source, mine in examples:
        assert example.journey in ("splice:step", "splice:attempt")
        assert_journey(example, source, [c.rollout_id for c in mine], config, check)


@pytest.mark.slow
def test_real_reflect_journeys_are_verified_or_rejected(tiny, check):
    teacher, _, wrong_records = tiny
    config = JourneyConfig(share=0.5, modes=("reflect",), locate=False, max_tokens=40)
    attempts = sorted(wrong_records, key=lambda w: w.rollout_id)[:2]
    outcomes = [build_journey(w, [], teacher, check, config, seed=1) for w in attempts]
    for attempt, outcome in zip(attempts, outcomes):
        if isinstance(outcome, SftExample):
            assert_journey(outcome, attempt, [], config, check)
        else:
            assert isinstance(outcome, Drop)
            assert outcome.step == "journey_reflect" and outcome.reason.startswith("reflect_")
