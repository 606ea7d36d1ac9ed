"""What journeys ask the teacher (requests, seeds, prefills, the teacher's model) and how
its answers are read: probing every step at once locates the step that probing one step at
a time and stopping at the first wrong one finds."""
import dataclasses

from schemas.records import SftExample
from tests.transforms.mix.test_journey_build import FAKE, ScriptedBackend, correct, fake_teacher, teacher_of, wrong
from transforms.core import Dead, derive_seed
from transforms.mix.journey_build import Plan, attempt_text, plan_journey, step_ends
from transforms.mix.journey_config import JourneyConfig
from transforms.mix.journey_teacher import (
    Teacher,
    locate,
    probe_requests,
    reflect_answer,
    reflect_request,
    teacher_model,
    teacher_samples,
)
from transforms.models.handler import ChatRequest, Generation
from transforms.sample.prompts import build_messages

LONG = "We add 2 and 3. First 2.\n2 + 3 = 6.\nSo it is 6.\n\nThe answer is \\boxed{6}."


def _plan(config, **kw):
    plan = plan_journey(wrong(**kw), [correct()], config, seed=1)
    assert isinstance(plan, Plan)
    return plan


def test_probe_requests_ask_every_step_up_to_max_steps_with_seeds_from_ids():
    config = JourneyConfig(share=0.5, continuations=3, max_steps=3)
    plan = _plan(config, reasoning=LONG, answer="")
    asked = probe_requests(plan, teacher_of(FAKE), config, seed=7)
    text = attempt_text(plan.attempt)
    assert [k for k, _ in asked] == [0, 1, 2] and len(step_ends(text)) > 3
    for k, request in asked:
        assert request.messages == build_messages(plan.attempt.prompt, FAKE)  # as the sample stage asks
        assert request.prefill == text[:step_ends(text)[k]].rstrip() + "\n"
        assert request.seeds == tuple(derive_seed(7, "locate", plan.attempt.rollout_id, k, j) for j in range(3))
    short = _plan(config, answer="")  # two steps: two probes
    assert [k for k, _ in probe_requests(short, teacher_of(FAKE), config, seed=7)] == [0, 1]


def test_reflect_request_continues_after_the_wrong_prefix_and_the_transition():
    config = JourneyConfig(share=0.5, modes=("reflect",))
    plan = plan_journey(wrong(), [], config, seed=1)._replace(step=0)
    request = reflect_request(plan, teacher_of(FAKE), seed=3)
    assert request.prefill == f"We add 2 and 3.\n\n{plan.transition}\n"
    assert request.seeds == (derive_seed(3, "reflect", plan.attempt.rollout_id),)
    assert request.messages == build_messages(plan.attempt.prompt, FAKE)


def test_the_teacher_model_is_the_sample_model_with_the_journey_token_limit():
    model = teacher_model(teacher_of(FAKE), JourneyConfig(max_tokens=33))
    assert model == dataclasses.replace(FAKE.model_config(), max_tokens=33)


def _sequential(plan, teacher, check, config, seed):
    """The first wrong step as found before the model steps: one step at a time, stopping
    at the first step none of whose continuations reaches the gold answer."""
    text, wrong_record = plan.text, plan.attempt
    for k, end in enumerate(step_ends(text)[: config.max_steps]):
        prefix = text[:end].rstrip() + "\n"
        seeds = [derive_seed(seed, "locate", wrong_record.rollout_id, k, j) for j in range(config.continuations)]
        [answer] = teacher.answer([ChatRequest(build_messages(wrong_record.prompt, FAKE), tuple(seeds), prefix)])
        if not any(check(wrong_record, prefix + s.text)["verdict"] == "correct" for s in answer.result.samples):
            return k
    return None


def _located(plan, teacher, check, config, seed):
    asked = probe_requests(plan, teacher.spec, config, seed)
    answers = dict(zip([k for k, _ in asked], teacher.answer([r for _, r in asked])))
    return locate(plan, answers, check, config)


def test_probing_every_step_at_once_finds_the_step_found_one_at_a_time(check):
    config = JourneyConfig(share=0.5, continuations=2, max_steps=4)
    found = set()
    for teacher in (fake_teacher(), Teacher(ScriptedBackend(FAKE), teacher_of(FAKE))):
        for i in range(12):
            plan = _plan(config, i=i, reasoning=LONG if i % 2 else "We add 2 and 3.\n2 + 3 = 6.")
            located = _located(plan, teacher, check, config, seed=1)
            assert located.step == _sequential(plan, teacher, check, config, seed=1)
            found.add(located.step)
    assert len(found) > 1  # located at different steps, and not always


def test_a_failed_probe_matters_only_up_to_the_located_step(check):
    config = JourneyConfig(share=0.5, continuations=2, max_steps=4)
    teacher = Teacher(ScriptedBackend(FAKE), teacher_of(FAKE))
    plan = _plan(config, reasoning=LONG, answer="")
    asked = probe_requests(plan, teacher.spec, config, seed=1)
    answers = dict(zip([k for k, _ in asked], teacher.answer([r for _, r in asked])))
    step = locate(plan, answers, check, config).step
    assert step == 2  # "2 + 3 = 6." is the third step of LONG
    failed = Generation(asked[0][1], "", None, "RuntimeError: boom")
    assert locate(plan, {**answers, 3: failed}, check, config).step == step  # never needed
    dead = locate(plan, {**answers, 1: failed}, check, config)
    assert isinstance(dead, Dead) and dead.record == plan.attempt and dead.error == "RuntimeError: boom"
    missing = {k: g for k, g in answers.items() if k != 0}
    assert isinstance(locate(plan, missing, check, config), Dead)


def test_reflect_answers_are_read_into_journeys_drops_or_dead_letters(check):
    config = JourneyConfig(share=0.5, modes=("reflect",), locate=False)
    teacher = fake_teacher()
    outcomes = []
    for i in range(8):
        plan = plan_journey(wrong(i), [], config, seed=1)
        [answer] = teacher.answer([reflect_request(plan, teacher.spec, seed=1)])
        outcomes.append(reflect_answer(plan, answer, check, "fake-teacher", seed=1))
    examples = [o for o in outcomes if isinstance(o, SftExample)]
    assert examples and all(e.teacher_model == "fake-teacher" for e in examples)
    failed = Generation(reflect_request(plan, teacher.spec, seed=1), "", None, "teacher: gave up")
    dead = reflect_answer(plan, failed, check, "fake-teacher", seed=1)
    assert isinstance(dead, Dead) and dead.record == plan.attempt
    assert teacher_samples(None)[1] and teacher_samples(failed) == ([], "teacher: gave up")
