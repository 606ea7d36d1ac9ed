"""Building one journey (fake teacher): steps, choices, splice and reflect, and the cut
at the first wrong step."""
import functools

import pytest

from schemas.records import SftExample
from tests.factories import verified
from transforms.core import Drop, stable_hash
from transforms.mix.examples import assistant_content
from transforms.mix.journey_build import (
    attempt_text,
    pick_mode,
    pick_transition,
    step_ends,
)
from transforms.mix.journey_config import DEFAULT_TRANSITIONS, JourneyConfig
from transforms.mix.journey_teacher import JourneyTeacher, Teacher, build_journey
from transforms.models.backends.base import GenerationResult, Sample
from transforms.models.backends.fake import FakeBackend
from transforms.sample.config import SampleConfig
from transforms.sample.prompts import build_messages

FAKE = SampleConfig(backend="fake", model="fake-teacher", n=1, max_tokens=64)


def teacher_of(sample: SampleConfig) -> JourneyTeacher:
    """The teacher as the mix launcher hands it over: the sample stage's model and chat turns."""
    return JourneyTeacher(sample.model_config(), functools.partial(build_messages, config=sample))


def wrong(i=0, source_id="1", **kw):
    values = dict(completion=f"wrong {i}", reasoning="We add 2 and 3.\n2 + 3 = 6.",
                  answer="The answer is \\boxed{6}.", extracted_answer="6", verdict="incorrect",
                  pass_rate=0.5)
    values.update(kw)
    return verified(i, source_id=source_id, **values)


def correct(i=10, source_id="1"):
    return verified(i, source_id=source_id, completion=f"right {i}", reasoning="We add 2 and 3.\n2 + 3 = 5.",
                    answer="The answer is \\boxed{5}.", pass_rate=0.5)


def fake_teacher():
    return Teacher(FakeBackend(FAKE), teacher_of(FAKE))


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


def test_choices_are_deterministic_and_varied():
    config = JourneyConfig(modes=("splice", "reflect"))
    ids = [stable_hash("w", i) for i in range(60)]
    transitions = [pick_transition(config, 1, i) for i in ids]
    assert transitions == [pick_transition(config, 1, i) for i in ids]
    assert len(set(transitions)) == len(DEFAULT_TRANSITIONS)
    assert {pick_mode(config, 1, i, True) for i in ids} == {"splice", "reflect"}
    assert {pick_mode(config, 1, i, False) for i in ids} == {"reflect"}
    assert pick_mode(JourneyConfig(), 1, ids[0], False) is None


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
    ex = build_journey(wrong(), [correct()], None, check, config, seed=1)
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
    out = build_journey(wrong(), [correct()], Teacher(ScriptedBackend(FAKE), teacher_of(FAKE)), check, config,
                        seed=1)
    transition = pick_transition(config, 1, wrong().rollout_id)
    assert out.journey == "splice:step"
    assert out.reasoning == f"We add 2 and 3.\n2 + 3 = 6.\n\n{transition}\n\n{correct().reasoning}"
    assert_journey(out, wrong(), [correct().rollout_id], config, check)


def test_locating_with_the_fake_teacher_is_deterministic(check):
    config = JourneyConfig(share=0.5, continuations=2)
    first = build_journey(wrong(), [correct()], fake_teacher(), check, config, seed=1)
    assert first == build_journey(wrong(), [correct()], fake_teacher(), check, config, seed=1)
    assert_journey(first, wrong(), [correct().rollout_id], config, check)


def test_reflect_keeps_only_verified_continuations(check):
    config = JourneyConfig(share=0.5, modes=("reflect",), locate=False)
    outcomes = [build_journey(wrong(i), [], fake_teacher(), check, config, seed=1) for i in range(12)]
    built = [o for o in outcomes if isinstance(o, SftExample)]
    failed = [o for o in outcomes if not isinstance(o, SftExample)]
    assert built and failed  # the fake teacher is right about half of the time
    assert all(isinstance(o, Drop) for o in failed)
    for i, outcome in enumerate(outcomes):
        if isinstance(outcome, SftExample):
            assert outcome.journey == "reflect:attempt"
            assert outcome.rollout_ids == [wrong(i).rollout_id]
            assert_journey(outcome, wrong(i), [], config, check)
    assert {(o.step, o.reason) for o in failed} == {("journey_reflect", "reflect_incorrect")}
