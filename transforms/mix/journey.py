"""Journey learning: examples that go wrong, notice it, and recover (O1 Replication Journey).

Inputs are a problem's wrong attempts (the curate stage's ``wrong_attempts`` output,
see :mod:`transforms.mix.attempts`) and its curated correct rollouts. Each wrong
attempt (at most ``max_per_problem`` per problem, the lowest hashed scores) becomes
one journey in a mode picked by hash among the configured ones:

* ``splice``: the wrong attempt up to its first wrong step, a reflection transition,
  then a correct rollout of the same problem (picked by hash);
* ``reflect``: the teacher gets the same prompt with the wrong prefix and the
  transition already written as its answer (a prefill) and continues; the
  continuation must state an answer that verifies correct.

The first wrong step is located in the spirit of Math-Shepherd: the attempt is split
into steps (lines, and sentences within a line); for each prefix, ending at step k,
the teacher samples ``continuations`` completions; the first step whose completions
never reach the gold answer is the first wrong step, and the prefix is cut right
after it. Where no step is found (or ``locate`` is off), the prefix is the whole
attempt, whose final answer is wrong. ``journey`` on the example records the mode and
the cut: ``splice:step``, ``splice:attempt``, ``reflect:step``, ``reflect:attempt``
(see :mod:`transforms.mix.journey_build`).

Transitions come from ``transitions``, picked by hash of the wrong rollout's id.
Every journey's final answer is verified with the curate verifier before it is kept;
``rollout_ids`` lists the wrong rollout first (then, for splice, the correct one).
Every wrong attempt ends as a journey example, a Rejection (stage ``mix``, step
``journey_select``/``journey_splice``/``journey_reflect``, counted as
``mix.<step>.dropped_<reason>``) or a DeadLetter (step ``journey``): the step is a
:class:`~transforms.core.RuleStep`.
Determinism: every choice and every teacher seed is derived from the run seed and ids.
"""
from __future__ import annotations

import dataclasses
from typing import Iterator, List, Optional, Sequence

import apache_beam as beam

from transforms.core import Dead, Drop, RuleStep, error_text, hash_score
from transforms.mix.journey_build import Checker, build_journey
from transforms.mix.journey_config import JourneyConfig
from transforms.models.backends.base import GenerationRequest, Sample
from transforms.sample.config import SampleConfig, make_backend
from transforms.sample.prompts import build_messages
from transforms.verify.config import VerifyConfig
from transforms.verify.dispatch import verify_rollout_fields
from transforms.verify.mathcheck import MathVerifierProcess

STAGE = "mix"
#: The journey step (its dead letters'); rejections name the step that decided.
STEP = "journey"


# -- the teacher and the checker --------------------------------------------------------


class Teacher:
    """A loaded sampler backend that continues a partly written assistant turn."""

    def __init__(self, backend, config: SampleConfig):
        self.backend = backend
        self.config = config

    @classmethod
    def load(cls, config: SampleConfig) -> "Teacher":
        backend = make_backend(config)
        backend.load()
        return cls(backend, config)

    def continue_from(self, prompt: str, prefill: str, seeds: Sequence[int]) -> List[Sample]:
        """One sample per seed of the teacher's answer to ``prompt`` that starts with ``prefill``."""
        rendered = self.backend.render(build_messages(prompt, self.config)) + prefill
        return self.backend.generate([GenerationRequest(rendered, tuple(seeds))])[0].samples


def make_checker(verifier, config: VerifyConfig = VerifyConfig()) -> Checker:
    """A Checker that verifies text like a rollout (``verifier``: a MathVerifierProcess)."""

    def check(record, text: str) -> dict:
        return verify_rollout_fields(record._replace(answer=text, completion=text), verifier, config)

    return check


# -- the rule ---------------------------------------------------------------------------


def problem_journeys(correct: Sequence, wrong: Sequence, teacher: Optional[Teacher], check: Checker,
                     config: JourneyConfig, seed: int) -> Iterator:
    """An outcome for every wrong attempt of one problem: its journey SftExample, a
    :class:`~transforms.core.Drop` of the attempt (under the step that decided) or a
    :class:`~transforms.core.Dead` (the attempt failed; the others go on)."""
    ordered = sorted(wrong, key=lambda w: (hash_score(seed, f"journey:{w.rollout_id}"), w.rollout_id))
    for i, attempt in enumerate(ordered):
        if i >= config.max_per_problem:
            yield Drop("journey_per_problem_cap", f"{len(ordered)} wrong attempts, cap {config.max_per_problem}",
                       record=attempt, step="journey_select")
            continue
        try:
            outcome = build_journey(attempt, correct, teacher, check, config, seed)
        except Exception as exc:  # noqa: BLE001 - one failed attempt must not fail the bundle
            yield Dead(error_text(exc), attempt)
            continue
        if outcome.example is not None:
            yield outcome.example
        else:
            yield Drop(outcome.reason, outcome.detail, record=attempt, step=outcome.step)


class JourneyRule:
    """(problem id, {"correct": [...], "wrong": [...]}) → :func:`problem_journeys`'s outcomes.

    A RuleStep rule with heavy state: ``setup`` starts the verifier (and loads the teacher
    when the config needs one), ``teardown`` stops the verifier."""

    def __init__(self, config: JourneyConfig, teacher: SampleConfig, verify: VerifyConfig, seed: int):
        self._config = config
        self._teacher_config = dataclasses.replace(teacher, max_tokens=config.max_tokens)
        self._verify = verify
        self._seed = seed
        self._teacher = None
        self._verifier = None

    def setup(self):
        self._verifier = MathVerifierProcess(self._verify.start_timeout_s, self._verify.memory_limit_mb)
        if self._config.needs_teacher:
            self._teacher = Teacher.load(self._teacher_config)

    def __call__(self, element) -> Iterator:
        _, groups = element
        wrong = sorted(groups["wrong"], key=lambda r: r.rollout_id)
        if not wrong:
            return
        correct = sorted(groups["correct"], key=lambda r: r.rollout_id)
        check = make_checker(self._verifier, self._verify)
        yield from problem_journeys(correct, wrong, self._teacher, check, self._config, self._seed)

    def teardown(self):
        if self._verifier is not None:
            self._verifier.close()
            self._verifier = None


class BuildJourneys(beam.PTransform):
    """{"correct": VerifiedRollouts, "wrong": VerifiedRollouts} → StageOutputs(kept=journey
    SftExamples, rejected=Rejections of wrong attempts, dead=DeadLetters)."""

    def __init__(self, config: JourneyConfig, teacher: SampleConfig, verify: VerifyConfig, seed: int):
        super().__init__()
        self._config = config
        self._teacher = teacher
        self._verify = verify
        self._seed = seed

    def expand(self, inputs):
        keyed = {
            name: inputs[name] | f"Key {name}" >> beam.Map(lambda r: (r.problem_id, r))
            for name in ("correct", "wrong")
        }
        return (
            keyed
            | "ByProblem" >> beam.CoGroupByKey()
            | "Build" >> RuleStep(STAGE, STEP, JourneyRule(self._config, self._teacher, self._verify, self._seed))
        )
