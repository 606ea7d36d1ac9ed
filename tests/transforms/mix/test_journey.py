"""Journey learning: wrong prefix + transition + recovery, built from verified rollouts.

Fast tests use the fake teacher; the slow ones sample real rollouts of the tiny model
(SmolLM2-135M, transformers backend, one torch thread) once per module."""
import json
import os

import apache_beam as beam
import pytest
from apache_beam.testing import test_pipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.records import SCHEMA_VERSION, Problem
from tests.factories import verified
from transforms.core import make_rejection, stable_hash
from transforms.mix.examples import assistant_content
from transforms.mix.journey import (
    DEFAULT_TRANSITIONS,
    BuildJourneys,
    JourneyConfig,
    Teacher,
    attempt_text,
    build_journey,
    make_checker,
    pick_mode,
    pick_transition,
    problem_journeys,
    step_ends,
    wrong_attempt,
)
from transforms.sample.transform import FakeBackend, FewShot, GenerationResult, Sample, SampleConfig
from transforms.verify.transform import MathVerifierProcess, VerifyConfig

os.environ.setdefault("HF_HUB_OFFLINE", "1")

FAKE = SampleConfig(backend="fake", model="fake-teacher", n=1, max_tokens=64)


def wrong(i=0, source_id="1", **kw):
    values = dict(completion=f"wrong {i}", reasoning="We add 2 and 3.\n2 + 3 = 6.",
                  answer="The answer is \\boxed{6}.", extracted_answer="6", verdict="incorrect",
                  pass_rate=0.5)
    values.update(kw)
    return verified(i, source_id=source_id, **values)


def correct(i=10, source_id="1"):
    return verified(i, source_id=source_id, completion=f"right {i}", reasoning="We add 2 and 3.\n2 + 3 = 5.",
                    answer="The answer is \\boxed{5}.", pass_rate=0.5)


@pytest.fixture(scope="module")
def check():
    verifier = MathVerifierProcess()
    yield make_checker(verifier)
    verifier.close()


def fake_teacher():
    return Teacher(FakeBackend(FAKE), FAKE)


# -- rules --------------------------------------------------------------------------


@pytest.mark.parametrize("text, steps", [
    ("We add 2 and 3.\n2 + 3 = 6.\n\nThe answer is 6.", ["We add 2 and 3.", "2 + 3 = 6.", "The answer is 6."]),
    ("First we add. Then 2 + 3 = 5. So 5.", ["First we add.", "Then 2 + 3 = 5.", "So 5."]),
    ("It costs 3.5 dollars.", ["It costs 3.5 dollars."]),  # no break inside a number
    ("one step, no period", ["one step, no period"]),
    ("\n\n", []),
])
def test_steps(text, steps):
    ends = step_ends(text)
    starts = [0] + ends[:-1]
    assert [text[s:e].strip() for s, e in zip(starts, ends)] == steps


def test_attempt_text_joins_reasoning_and_answer():
    assert attempt_text(wrong()) == "We add 2 and 3.\n2 + 3 = 6.\n\nThe answer is \\boxed{6}."
    assert attempt_text(wrong(reasoning="")) == "The answer is \\boxed{6}."


def _rejection(record, stage="curate"):
    return make_rejection(record, stage, "filter_verdict", record.verdict)


@pytest.mark.parametrize("record, stage, taken", [
    (wrong(), "curate", True),
    (wrong(verdict="no_answer"), "curate", False),  # not in wrong_verdicts by default
    (wrong(finish_reason="length"), "curate", False),  # cut off: not an attempt
    (wrong(kind="knowledge"), "curate", False),
    (correct(), "curate", False),  # dropped for another reason, but correct
    (wrong(), "mix", False),
])
def test_wrong_attempts_come_from_curate_rejections(record, stage, taken):
    assert (wrong_attempt(_rejection(record, stage), JourneyConfig()) is not None) is taken


def test_wrong_attempt_ignores_the_record_type_name():
    rejection = _rejection(wrong())._replace(record_type="BeamSchema_0f3a")
    assert wrong_attempt(rejection, JourneyConfig()) == wrong()


def test_choices_are_deterministic_and_varied():
    config = JourneyConfig(modes=("splice", "reflect"))
    ids = [stable_hash("w", i) for i in range(60)]
    transitions = [pick_transition(config, 1, i) for i in ids]
    assert transitions == [pick_transition(config, 1, i) for i in ids]
    assert len(set(transitions)) == len(DEFAULT_TRANSITIONS)
    assert {pick_mode(config, 1, i, True) for i in ids} == {"splice", "reflect"}
    assert {pick_mode(config, 1, i, False) for i in ids} == {"reflect"}
    assert pick_mode(JourneyConfig(), 1, ids[0], False) is None


@pytest.mark.parametrize("kwargs, message", [
    ({"modes": ("splice", "rewrite")}, "modes"), ({"modes": ()}, "modes"), ({"share": 1.5}, "share"),
    ({"wrong_verdicts": ("correct",)}, "wrong_verdicts"), ({"wrong_verdicts": ("wrong",)}, "unknown verdict"), ({"continuations": 0}, "continuations"),
    ({"transitions": ("",)}, "transitions"),
])
def test_bad_journey_configs_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        JourneyConfig(**kwargs)


# -- building journeys (fake teacher) -------------------------------------------------


def assert_journey(example, wrong_record, correct_ids, config, check):
    """The acceptance checks of one journey example."""
    content = example.messages[1].content
    assert example.verdict == "correct"
    assert check(wrong_record, content)["verdict"] == "correct"  # the final answer verifies
    first_step = attempt_text(wrong_record)[: step_ends(attempt_text(wrong_record))[0]]
    assert content.startswith("<think>\n" + first_step)  # a wrong prefix
    assert pick_transition(config, 1, wrong_record.rollout_id) in content  # a transition
    assert example.rollout_ids[0] == wrong_record.rollout_id  # links back to its sources
    assert set(example.rollout_ids[1:]) <= set(correct_ids)
    assert example.problem_id == wrong_record.problem_id and example.kind == "reasoning"


def test_splice_without_locating_keeps_the_whole_attempt(check):
    config = JourneyConfig(share=0.5, locate=False)
    out = build_journey(wrong(), [correct()], None, check, config, seed=1)
    ex = out.example
    assert ex.journey == "splice:attempt"
    assert ex.rollout_ids == [wrong().rollout_id, correct().rollout_id]
    transition = pick_transition(config, 1, wrong().rollout_id)
    assert ex.reasoning == f"{attempt_text(wrong())}\n\n{transition}\n\n{correct().reasoning}"
    assert ex.messages[1].content == assistant_content(ex.reasoning, correct().answer)
    assert_journey(ex, wrong(), [correct().rollout_id], config, check)


class ScriptedBackend(FakeBackend):
    """Continues to the right sum unless the text so far already says "= 6" (the wrong step)."""

    def generate(self, requests):
        results = []
        for request in requests:
            value = 6 if "= 6" in request.prompt.rsplit("<|assistant|>", 1)[1] else 5
            text = f"So the result is {value}.\n\nThe answer is \\boxed{{{value}}}."
            results.append(GenerationResult([Sample(text, "stop", 12)] * len(request.seeds), 20, 0.0))
        return results


def test_splice_cuts_right_after_the_first_wrong_step(check):
    config = JourneyConfig(share=0.5, continuations=2)
    out = build_journey(wrong(), [correct()], Teacher(ScriptedBackend(FAKE), FAKE), check, config, seed=1)
    transition = pick_transition(config, 1, wrong().rollout_id)
    assert out.example.journey == "splice:step"
    assert out.example.reasoning == f"We add 2 and 3.\n2 + 3 = 6.\n\n{transition}\n\n{correct().reasoning}"
    assert_journey(out.example, wrong(), [correct().rollout_id], config, check)


def test_locating_with_the_fake_teacher_is_deterministic(check):
    config = JourneyConfig(share=0.5, continuations=2)
    first = build_journey(wrong(), [correct()], fake_teacher(), check, config, seed=1)
    assert first == build_journey(wrong(), [correct()], fake_teacher(), check, config, seed=1)
    assert_journey(first.example, wrong(), [correct().rollout_id], config, check)


def test_reflect_keeps_only_verified_continuations(check):
    config = JourneyConfig(share=0.5, modes=("reflect",), locate=False)
    outcomes = [build_journey(wrong(i), [], fake_teacher(), check, config, seed=1) for i in range(12)]
    built = [o.example for o in outcomes if o.example is not None]
    failed = [o for o in outcomes if o.example is None]
    assert built and failed  # the fake teacher is right about half of the time
    for i, outcome in enumerate(outcomes):
        if outcome.example is not None:
            assert outcome.example.journey == "reflect:attempt"
            assert outcome.example.rollout_ids == [wrong(i).rollout_id]
            assert_journey(outcome.example, wrong(i), [], config, check)
    assert {(o.step, o.reason) for o in failed} == {("journey_reflect", "reflect_incorrect")}


def test_every_wrong_attempt_ends_somewhere(check):
    config = JourneyConfig(share=0.5, modes=("splice",), max_per_problem=2, locate=False)
    attempts = [wrong(i) for i in range(4)] + [wrong(9, source_id="2")]
    out = list(problem_journeys([correct()], attempts[:4], None, check, config, seed=1))
    out += list(problem_journeys([], attempts[4:], None, check, config, seed=1))
    tags = [tag for tag, _ in out]
    assert len(out) == len(attempts)
    assert tags.count("kept") == 2
    reasons = sorted(r.reason for tag, r in out if tag != "kept")
    assert reasons == ["journey_per_problem_cap", "journey_per_problem_cap", "no_correct_rollout"]


def test_a_failing_teacher_dead_letters_the_attempt(check):
    config = JourneyConfig(share=0.5, modes=("reflect",), locate=False)
    broken = wrong(prompt="FAIL: What is 2 + 3?")
    [(tag, dead)] = list(problem_journeys([], [broken], fake_teacher(), check, config, seed=1))
    assert tag == "dead" and dead.stage == "mix" and "FAIL" in dead.error


def _all_correct(verdicts):
    assert verdicts and set(verdicts) == {"correct"}, verdicts


def test_build_journeys_transform_accounts_for_every_attempt():
    config = JourneyConfig(share=0.5, modes=("splice", "reflect"), max_per_problem=3)
    correct_records = [correct(10, "1"), correct(11, "1"), correct(10, "2")]
    wrong_records = [wrong(i, "1") for i in range(4)] + [wrong(i, "2") for i in range(2)] + [wrong(0, "3")]
    with test_pipeline.TestPipeline() as p:
        inputs = {"correct": p | "C" >> beam.Create(correct_records),
                  "wrong": p | "W" >> beam.Create(wrong_records)}
        out = inputs | BuildJourneys(config, FAKE, VerifyConfig(), seed=1)
        ids = ((out.kept | "K" >> beam.Map(lambda e: e.rollout_ids[0])),
               (out.rejected | "R" >> beam.Map(lambda r: r.record_id)),
               (out.dead | "D" >> beam.Map(lambda d: d.record_id))) | beam.Flatten()
        assert_that(ids, equal_to([w.rollout_id for w in wrong_records]))
        assert_that(out.kept | "V" >> beam.Map(lambda e: e.verdict), _all_correct, label="all correct")


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
    from transforms.sample.transform import generate_for_problems, make_rollouts

    teacher = Teacher.load(TINY)
    # small sums: the tiny model gets them right some of the time (differences hardly ever)
    problems = [p for p in _problems(8, seed=5) if "+" in p.prompt and int(p.reference_answer) < 60]
    generated = generate_for_problems(teacher.backend, problems, TINY, seed=1)
    rollouts = [r for g in generated for r in make_rollouts(g, TINY, 1, "test")]
    verified_rollouts = [project(VerifiedRollout, r, pass_rate=0.0, **check(r, r.answer or r.completion))
                         for r in rollouts]
    correct_records = [v for v in verified_rollouts if v.verdict == "correct"]
    wrong_records = [v for v in verified_rollouts
                     if wrong_attempt(_rejection(v), JourneyConfig()) is not None]
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
                     for tag, r in out if tag == "kept"]
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
        if outcome.example is not None:
            assert_journey(outcome.example, attempt, [], config, check)
        else:
            assert outcome.step == "journey_reflect" and outcome.reason.startswith("reflect_")
