"""What the journey step asks its teacher, and how it reads the answers.

The teacher is the sample stage's model, asked the way the sample stage asks a problem;
the mix stage gets both from its launcher as a :class:`JourneyTeacher` (a
:class:`~transforms.models.config.ModelConfig` and a prompt → chat turns callable), so
it never imports the sample stage. Every teacher call is a
:class:`~transforms.models.handler.ChatRequest` (the problem's chat turns, a prefill the
teacher continues, seeds derived from ids):

* :func:`probe_requests`: locate probes, one request per probed step (the attempt up to
  that step as the prefill, ``continuations`` seeds ``derive_seed(seed, "locate",
  rollout_id, k, j)``);
* :func:`reflect_request`: the reflect continuation (the wrong prefix and the
  transition as the prefill, one seed ``derive_seed(seed, "reflect", rollout_id)``).

:func:`locate` and :func:`reflect_answer` read the answers (the
:class:`~transforms.models.handler.Generation` of each request) into the plain
functions of :mod:`transforms.mix.journey_build`. In Beam the requests go through the
journey's model steps (:mod:`transforms.mix.journey`); outside Beam, :func:`journey_of`,
:func:`build_journey` and :func:`problem_journeys` ask an already loaded backend
(:class:`Teacher`) directly with the same requests and rules (tests, small runs).
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

from transforms.core import Dead, Drop, derive_seed, error_text
from transforms.mix.journey_build import (
    Checker,
    Plan,
    Record,
    lead,
    plan_journey,
    plan_problem,
    probe_prefixes,
    reaches_gold,
    reflect,
    splice,
)
from transforms.mix.journey_config import JourneyConfig
from transforms.models.backends.base import Backend, Sample
from transforms.models.chat import ChatRequest, Generation, generate_chat
from transforms.models.config import ModelConfig


class JourneyTeacher(NamedTuple):
    """The teacher journeys ask: its model (the sample stage's,
    ``SampleConfig.model_config()``) and ``messages(problem prompt)`` → the chat turns the
    sample stage sends for it (e.g. ``functools.partial(build_messages, config=sample)``)."""

    model: ModelConfig
    messages: Callable[[str], List[dict]]


def teacher_model(teacher: JourneyTeacher, config: JourneyConfig) -> ModelConfig:
    """The teacher's model with the journey's token limit (probes and reflect continuations)."""
    return dataclasses.replace(teacher.model, max_tokens=config.max_tokens)


def probe_requests(plan: Plan, teacher: JourneyTeacher, config: JourneyConfig,
                   seed: int) -> List[Tuple[int, ChatRequest]]:
    """(k, request) for each probed step k of the attempt: all of them at once (a sample
    never depends on its batch-mates, so :func:`locate` finds the step that asking one
    step at a time and stopping at the first wrong one would, with some extra probes)."""
    wrong = plan.attempt
    turns = teacher.messages(wrong.prompt)
    return [(k, ChatRequest(turns, tuple(derive_seed(seed, "locate", wrong.rollout_id, k, j)
                                         for j in range(config.continuations)), prefix))
            for k, prefix in enumerate(probe_prefixes(plan.text, config))]


def reflect_seed(seed: int, rollout_id: str) -> int:
    return derive_seed(seed, "reflect", rollout_id)


def reflect_request(plan: Plan, teacher: JourneyTeacher, seed: int) -> ChatRequest:
    """The request whose answer continues the journey after the wrong prefix and the transition."""
    wrong = plan.attempt
    return ChatRequest(teacher.messages(wrong.prompt), (reflect_seed(seed, wrong.rollout_id),), lead(plan) + "\n")


def teacher_samples(generation: Optional[Generation]) -> Tuple[List[Sample], Optional[str]]:
    """(the samples of a teacher answer, None), or ([], why there are none: the request
    failed, or its answer never came back)."""
    if generation is None:
        return [], "teacher: no answer"
    if generation.error is not None or generation.result is None:
        return [], generation.error or "teacher: no result"
    return list(generation.result.samples), None


def locate(plan: Plan, answers: Dict[int, Generation], check: Checker,
           config: JourneyConfig) -> Union[Plan, Dead]:
    """The plan with its first wrong step (the first probed step none of whose
    continuations reaches the gold answer; None when every probed step has one), from
    the answers to :func:`probe_requests` by step. Steps after it are not looked at, so
    a failed probe there changes nothing; one before it dead-letters the attempt."""
    for k, prefix in enumerate(probe_prefixes(plan.text, config)):
        samples, error = teacher_samples(answers.get(k))
        if error is not None:
            return Dead(error, plan.attempt)
        if not reaches_gold(plan.attempt, prefix, samples, check):
            return plan._replace(step=k)
    return plan


def reflect_answer(plan: Plan, generation: Generation, check: Checker, teacher_name: str,
                   seed: int) -> Union[Record, Drop, Dead]:
    """The reflect journey from the answer to :func:`reflect_request` (a failed request
    dead-letters the attempt)."""
    samples, error = teacher_samples(generation)
    if error is not None:
        return Dead(error, plan.attempt)
    return reflect(plan, samples[0], check, teacher_name, reflect_seed(seed, plan.attempt.rollout_id))


# -- outside Beam -------------------------------------------------------------------------


class Teacher(NamedTuple):
    """The teacher outside Beam: an already loaded backend and how it is asked."""

    backend: Backend
    spec: JourneyTeacher

    def answer(self, requests: Sequence[ChatRequest]) -> List[Generation]:
        return generate_chat(self.backend, requests)


def journey_of(plan: Plan, teacher: Optional[Teacher], check: Checker, config: JourneyConfig,
               seed: int) -> Union[Record, Drop, Dead]:
    """A planned attempt → its journey example, a Drop or a Dead: the journey step's
    requests and rules, with ``teacher`` answering them directly (None: no teacher needed)."""
    if teacher is None:
        if config.locate or plan.mode == "reflect":
            raise ValueError("journeys: locate and reflect need a teacher")
        return splice(plan, check)
    if config.locate:
        asked = probe_requests(plan, teacher.spec, config, seed)
        answers = dict(zip((k for k, _ in asked), teacher.answer([r for _, r in asked])))
        located = locate(plan, answers, check, config)
        if isinstance(located, Dead):
            return located
        plan = located
    if plan.mode == "splice":
        return splice(plan, check)
    [generation] = teacher.answer([reflect_request(plan, teacher.spec, seed)])
    return reflect_answer(plan, generation, check, teacher.spec.model.model, seed)


def build_journey(wrong, correct: Sequence, teacher: Optional[Teacher], check: Checker,
                  config: JourneyConfig, seed: int) -> Union[Record, Drop, Dead]:
    """One wrong attempt → its journey example, a Drop or a Dead."""
    plan = plan_journey(wrong, correct, config, seed)
    return plan if isinstance(plan, Drop) else journey_of(plan, teacher, check, config, seed)


def problem_journeys(correct: Sequence, wrong: Sequence, teacher: Optional[Teacher], check: Checker,
                     config: JourneyConfig, seed: int) -> Iterator:
    """An outcome for every wrong attempt of one problem, as the journey step gives them:
    its journey SftExample, a Drop or a Dead (the attempt failed; the others go on)."""
    for outcome in plan_problem(correct, wrong, config, seed):
        if not isinstance(outcome, Plan):
            yield outcome
            continue
        try:
            yield journey_of(outcome, teacher, check, config, seed)
        except Exception as exc:  # noqa: BLE001 - one failed attempt must not fail the others
            yield Dead(error_text(exc), outcome.attempt)
