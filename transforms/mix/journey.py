"""Journey learning: examples that go wrong, notice it, and recover (O1 Replication Journey).

Inputs are a problem's wrong attempts (those the mix stage takes from the curate stage's
``wrong_attempts`` output, see :mod:`transforms.mix.attempts`) and its curated correct
rollouts. Each wrong attempt (at most ``max_per_problem`` per problem, the lowest hashed
scores) becomes one journey in a mode picked by hash among the configured ones:

* ``splice``: the wrong attempt up to its first wrong step, a reflection transition,
  then a correct rollout of the same problem (picked by hash);
* ``reflect``: the teacher gets the same prompt with the wrong prefix and the
  transition already written as its answer (a prefill) and continues; the
  continuation must state an answer that verifies correct.

The first wrong step is located in the spirit of Math-Shepherd: the attempt is split
into steps (lines, and sentences within a line); for each prefix ending at step k (the
first ``max_steps``), the teacher samples ``continuations`` completions; the first step
whose completions never reach the gold answer is the first wrong step, and the prefix is
cut right after it. Where no step is found (or ``locate`` is off), the prefix is the
whole attempt, whose final answer is wrong. Every step up to ``max_steps`` is probed at
once, in one model step: each probe's seeds derive from ids and a sample never depends
on its batch-mates, so the step found is the one probing step by step and stopping at
the first wrong step would find, at the cost of the probes past it (at most
``max_steps - 1`` extra requests per attempt). ``journey`` on the example records the
mode and the cut: ``splice:step``, ``splice:attempt``, ``reflect:step``,
``reflect:attempt``.

Transitions come from ``transitions``, picked by hash of the wrong rollout's id. Every
journey's final answer (and every probe's) is verified with the checker the launcher
injects (the curate verifier, :class:`transforms.verify.checker.AnswerChecker`);
``rollout_ids`` lists the wrong rollout first (then, for splice, the correct one).

Steps of :class:`BuildJourneys` (every teacher call a
:class:`~transforms.models.step.ModelStep` over the teacher's ModelConfig, so the
launcher's ``--model_resource_hint`` lands on them and on nothing else; every decision a
:class:`~transforms.core.RuleStep`):

* ``ByProblem`` → ``Select`` (:func:`select_rule`): each wrong attempt planned
  (:class:`~transforms.mix.journey_build.Plan`) or dropped (step ``journey_select``);
* with ``locate``: ``ProbeRequests`` → ``JourneyProbes`` (model step) → ``ByAttempt``
  (the plan and its probes' answers) → ``Locate`` (:func:`locate_rule`);
* ``ByMode`` → ``Splice`` (:func:`splice_rule`, drops under ``journey_splice``);
* with ``reflect``: ``ReflectRequests`` → ``JourneyReflect`` (model step) → ``Reflect``
  (:func:`reflect_rule`, drops under ``journey_reflect``), ``ReflectFailed``.

Every wrong attempt ends as a journey example, a Rejection (stage ``mix``, counted as
``mix.<step>.dropped_<reason>``) or a DeadLetter (step ``journey``: a rule that failed
on it, a teacher request that failed before its answer was needed).
Determinism: every choice and every teacher seed is derived from the run seed and ids.
"""
from __future__ import annotations

import functools
from typing import Iterator, List, Optional, Tuple

import apache_beam as beam
from apache_beam.ml.inference.base import KeyedModelHandler

from transforms.core import Dead, RuleStep, error_text, merge, truncate
from transforms.core.progress import tap
from transforms.mix.journey_build import Checker, Plan, plan_problem, splice
from transforms.mix.journey_config import JourneyConfig
from transforms.mix.journey_teacher import (
    JourneyTeacher,
    locate,
    probe_requests,
    reflect_answer,
    reflect_request,
    teacher_model,
)
from transforms.models.handler import ChatModelHandler, Generation, answer_progress
from transforms.models.step import ModelStep

STAGE = "mix"
#: The journey step (its dead letters'); rejections name the step that decided.
STEP = "journey"


# -- rules ------------------------------------------------------------------------------


def select_rule(element, config: JourneyConfig, seed: int) -> Iterator:
    """(problem id, {"correct": [...], "wrong": [...]}) → a Plan, Drop or Dead per wrong attempt."""
    _, groups = element
    wrong = sorted(groups["wrong"], key=lambda r: r.rollout_id)
    correct = sorted(groups["correct"], key=lambda r: r.rollout_id)
    yield from plan_problem(correct, wrong, config, seed)


def _plan_of(element) -> Plan:
    """The plan an element of a per-attempt rule is about."""
    if isinstance(element, Plan):
        return element
    if isinstance(element[0], Plan):  # (plan, answer)
        return element[0]
    return element[1]["plan"][0]  # (rollout id, {"plan": [plan], "probes": [...]})


class Checked:
    """A per-attempt rule that verifies answers: ``rule(element, check, *args)``.

    Holds the injected checker and runs its ``setup``/``teardown`` on the worker (the
    verifier process); an exception dead-letters the element's wrong attempt (never a
    plan or a teacher answer) and lets the other attempts go on."""

    def __init__(self, rule, check: Checker, *args):
        self.rule = rule
        self.check = check
        self.args = args

    def setup(self) -> None:
        if hasattr(self.check, "setup"):
            self.check.setup()

    def teardown(self) -> None:
        if hasattr(self.check, "teardown"):
            self.check.teardown()

    def __call__(self, element):
        try:
            return self.rule(element, self.check, *self.args)
        except Exception as exc:  # noqa: BLE001 - the attempt is dead-lettered, never a crash
            return Dead(error_text(exc), _plan_of(element).attempt)


def locate_rule(element, check: Checker, config: JourneyConfig):
    """(rollout id, {"plan": [plan], "probes": [(k, Generation)]}) → the located Plan, or Dead."""
    _, groups = element
    [plan] = groups["plan"]
    return locate(plan, dict(groups["probes"]), check, config)


def splice_rule(plan: Plan, check: Checker):
    return splice(plan, check)


def reflect_rule(answered: Tuple[Plan, Generation], check: Checker, teacher_name: str, seed: int):
    plan, generation = answered
    return reflect_answer(plan, generation, check, teacher_name, seed)


def _failure(exception) -> str:
    _, exc_repr, trace = exception
    return f"teacher: {exc_repr}\n{truncate(''.join(trace), 1500)}"


def failed_probes(failed) -> List[Tuple[str, Tuple[int, Generation]]]:
    """The probes of a batch the probe model step failed on, as failed answers:
    ``(batch of ((rollout id, k), request), (type, repr, traceback))``."""
    batch, exception = failed
    return [(rollout_id, (k, Generation(request, "", None, _failure(exception))))
            for (rollout_id, k), request in batch]


def failed_reflect(failed) -> List[Dead]:
    """A dead letter per attempt of a batch the reflect model step failed on."""
    batch, exception = failed
    return [Dead(_failure(exception), plan.attempt) for plan, _ in batch]


def _mode_index(plan: Plan, _partitions: int) -> int:
    return 0 if plan.mode == "splice" else 1


def _keyed_probes(plan: Plan, teacher: JourneyTeacher, config: JourneyConfig, seed: int):
    return [((plan.attempt.rollout_id, k), request) for k, request in probe_requests(plan, teacher, config, seed)]


def _keyed_plan(plan: Plan) -> Tuple[str, Plan]:
    return plan.attempt.rollout_id, plan


def _reflect_task(plan: Plan, teacher: JourneyTeacher, seed: int) -> Tuple[Plan, object]:
    return plan, reflect_request(plan, teacher, seed)


def _by_attempt(answered):
    (rollout_id, k), generation = answered
    return rollout_id, (k, generation)


# -- the step -----------------------------------------------------------------------------


class BuildJourneys(beam.PTransform):
    """{"correct": VerifiedRollouts, "wrong": VerifiedRollouts} → StageOutputs(kept=journey
    SftExamples, rejected=Rejections of wrong attempts, dead=DeadLetters).

    ``teacher``: the teacher's model and chat turns (needed with ``locate`` or the
    reflect mode); ``check``: the injected answer checker, ``(record, text)`` → verdict
    fields, with optional ``setup``/``teardown`` run on the workers; ``progress``: the
    launcher's progress folder, where the teacher's answers are reported as they come
    (``requests`` and tokens, see :mod:`transforms.core.progress`) and every wrong
    attempt once decided, built, rejected or dead-lettered (``journeys``)."""

    def __init__(self, config: JourneyConfig, teacher: Optional[JourneyTeacher], check: Checker, seed: int,
                 progress: Optional[str] = None):
        super().__init__()
        if config.needs_teacher and teacher is None:
            raise ValueError("journeys: locate and reflect need a teacher")
        self._config = config
        self._teacher = teacher
        self._check = check
        self._seed = seed
        self._progress = progress

    def _handler(self, teacher: JourneyTeacher) -> KeyedModelHandler:
        return KeyedModelHandler(ChatModelHandler(teacher_model(teacher, self._config), namespace=STAGE))

    def _locate(self, plans, teacher: JourneyTeacher):
        config, seed = self._config, self._seed
        asked = plans | "ProbeRequests" >> beam.FlatMap(_keyed_probes, teacher, config, seed)
        model = asked | "JourneyProbes" >> ModelStep("JourneyProbes", self._handler(teacher))
        tap(model.results, "ProbeProgress", self._progress, "journey_probes", answer_progress)
        answers = ((model.results | "KeyProbes" >> beam.Map(_by_attempt),
                    model.failed | "FailedProbes" >> beam.FlatMap(failed_probes))
                   | "Probes" >> beam.Flatten())
        keyed = plans | "KeyPlans" >> beam.Map(_keyed_plan)
        return ({"plan": keyed, "probes": answers}
                | "ByAttempt" >> beam.CoGroupByKey()
                | "Locate" >> RuleStep(STAGE, STEP, Checked(locate_rule, self._check, config)))

    def _reflect(self, plans, teacher: JourneyTeacher) -> List:
        seed = self._seed
        asked = plans | "ReflectRequests" >> beam.Map(_reflect_task, teacher, seed)
        model = asked | "JourneyReflect" >> ModelStep("JourneyReflect", self._handler(teacher))
        tap(model.results, "ReflectProgress", self._progress, "journey_reflect", answer_progress)
        reflected = model.results | "Reflect" >> RuleStep(
            STAGE, STEP, Checked(reflect_rule, self._check, teacher.model.model, seed))
        failed = model.failed | "ReflectFailed" >> RuleStep(STAGE, STEP, failed_reflect)
        return [reflected, failed]

    def expand(self, inputs):
        config = self._config
        keyed = {
            name: inputs[name] | f"Key {name}" >> beam.Map(lambda r: (r.problem_id, r))
            for name in ("correct", "wrong")
        }
        selected = (keyed
                    | "ByProblem" >> beam.CoGroupByKey()
                    | "Select" >> RuleStep(STAGE, STEP, functools.partial(select_rule, config=config, seed=self._seed)))
        parts = [selected]
        plans = selected.kept
        if config.locate and self._teacher is not None:
            located = self._locate(plans, self._teacher)
            parts.append(located)
            plans = located.kept
        to_splice, to_reflect = plans | "ByMode" >> beam.Partition(_mode_index, 2)
        built = []
        if "splice" in config.modes:
            spliced = to_splice | "Splice" >> RuleStep(STAGE, STEP, Checked(splice_rule, self._check))
            parts.append(spliced)
            built.append(spliced.kept)
        if "reflect" in config.modes and self._teacher is not None:
            reflected = self._reflect(to_reflect, self._teacher)
            parts += reflected
            built += [r.kept for r in reflected]
        kept = tuple(built) | "Built" >> beam.Flatten()
        # live progress: each wrong attempt once decided, straight from the step that decided it
        decided = built + [p.rejected for p in parts] + [p.dead for p in parts]
        for i, pcoll in enumerate(decided):
            tap(pcoll, f"Decided {i}", self._progress, "journeys")
        return merge(inputs["wrong"].pipeline, "Journey", parts, kept=kept)
