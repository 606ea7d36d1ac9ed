"""Verify: Rollouts → VerifiedRollouts, each with a verdict and its problem's pass rate.

Every rollout comes out with a verdict (the filters decide what to drop), except
those of problems outside the configured pass-rate band (rejected, with the rate):

* ``correct`` / ``incorrect``: the answer was compared with the reference (or, for
  code, the program's outputs with the tests' expected outputs);
* ``no_answer``: no answer (or no code block) could be found in the response;
* ``timeout``: the check ran past its time or memory bound; never ``incorrect``;
* ``unverifiable``: nothing to check against (no reference, no tests, no
  majority), or the rules could not decide and no judge is configured (reason
  ``needs_judge: …``);
* ``infra_unavailable``: the checker could not run (math-verify child, sandbox or
  judge unavailable); never ``correct`` or ``incorrect``;
* ``error``: the checker failed on this answer (math-verify raised or crashed).

Steps (stage ``curate``), each decision a :class:`~transforms.core.RuleStep`:

* ``verify`` (:class:`VerifyRollouts`): each rollout through its route
  (:mod:`transforms.verify.dispatch`: maths, multiple choice, knowledge, code,
  countdown); a rollout the rules fail on (broken metadata …) is dead-lettered;
  counters ``verdict_<verdict>``;
* with the judge on, the rollouts the rules left undecided, and the knowledge
  answers without a reference (scored by the judge's rubric: :mod:`transforms.verify.rubric`)
  (:func:`~transforms.verify.batch.needs_judge`, split off by ``NeedsJudge``) go
  through the judge's own model step and rule (:mod:`transforms.verify.judge_step`:
  ``JudgeRequests`` → ``Judge`` (a ``ModelStep``) → ``JudgeVerdicts``, step
  ``verify_judge``; a failed model batch dead-letters its rollouts in ``JudgeFailed``)
  and rejoin the others (``Rejoin``);
* ``verify_pass_rate`` (:func:`finish_rule`): the rollouts of one problem together:
  majority vote when there is no reference, pass rate, and the band
  (:mod:`transforms.verify.majority`); a problem outside the band is rejected
  whole, reason ``pass_rate_too_high`` / ``pass_rate_too_low``, counted as
  ``verify_pass_rate.dropped_<reason>``.

Safety: model text never reaches sympy's ``sympify``/``parse_expr``, and untrusted
code only ever runs in the sandbox (:mod:`transforms.verify.sandbox`).
"""
from __future__ import annotations

import functools
from typing import Iterable, Iterator, List, Optional, Tuple

import apache_beam as beam

from schemas.records import VerifiedRollout, project
from transforms.core import Dead, Drop, RuleStep, StageOutputs, merge
from transforms.verify.batch import Verifiers, needs_judge, verify_rules_batch
from transforms.verify.config import VerifyConfig
from transforms.verify.majority import finish_problem

STAGE, STEP = "curate", "verify"
PASS_RATE_STEP = "verify_pass_rate"


class VerifyRollouts:
    """The rule of the ``verify`` step: a list of Rollouts → one VerifiedRollout each
    (``pass_rate`` 0 until the problem is grouped), or :class:`~transforms.core.Dead`
    for a rollout the rules failed on; counts ``verdict_<verdict>`` of the rollouts
    it decides (the judge's step counts those it leaves to the judge).

    Owns the worker's checkers (:class:`~transforms.verify.batch.Verifiers`, without
    the judge), made in ``setup`` and closed in ``teardown``. Nothing starts in
    ``setup``: the math child on the first math answer, the sandbox probe on the
    first code answer."""

    def __init__(self, config: VerifyConfig):
        self.config = config
        self._verifiers: Optional[Verifiers] = None

    def setup(self) -> None:
        self._checkers()

    def _checkers(self) -> Verifiers:
        if self._verifiers is None:
            self._verifiers = Verifiers(self.config, with_judge=False)
        return self._verifiers

    def teardown(self) -> None:
        if self._verifiers is not None:
            self._verifiers.close()
            self._verifiers = None

    def __call__(self, rollouts: List) -> Iterator:
        verifiers = self._checkers()
        rollouts = list(rollouts)
        for rollout, outcome in zip(rollouts, verify_rules_batch(rollouts, verifiers, self.config)):
            fields = outcome.fields
            if fields is None:
                yield Dead(outcome.error or "no verdict", rollout)
                continue
            if not needs_judge(rollout.domain, fields["verdict"], fields["verdict_reason"], self.config,
                               rollout.kind):
                beam.metrics.Metrics.counter(STAGE, f"verdict_{fields['verdict']}").inc()
            yield project(VerifiedRollout, rollout, pass_rate=0.0, **fields)


def finish_rule(group: Tuple[str, Iterable], config: VerifyConfig) -> List:
    """The rule of the ``verify_pass_rate`` step: (problem_id, VerifiedRollouts) → the
    rollouts with the majority vote and pass rates applied, or a
    :class:`~transforms.core.Drop` of each when the problem is outside the band."""
    records, rejection = finish_problem(group[1], config)
    if rejection is None:
        return records
    reason, detail = rejection
    return [Drop(reason, detail, record=record) for record in records]


def _problem_key(verified) -> Tuple[str, object]:
    return verified.problem_id, verified


class _ToJudge(beam.PartitionFn):
    """Partition 1: the rollouts the rules left to the judge; 0: the others."""

    def __init__(self, config: VerifyConfig):
        self.config = config

    def partition_for(self, element, num_partitions: int, *args, **kwargs) -> int:
        return int(needs_judge(element.domain, element.verdict, element.verdict_reason, self.config,
                               element.kind))


class VerifyAnswers(beam.PTransform):
    """PCollection[Rollout] → StageOutputs(kept=VerifiedRollouts, rejected, dead).

    Every rollout is kept with a verdict, except the problems outside the pass-rate
    band (rejected, reason ``pass_rate_too_high``/``_too_low``); ``pass_rate`` is
    computed over the verified rollouts of the same ``problem_id`` (dead-lettered
    ones don't count). With the judge on, the undecided rollouts go through the
    judge's model step (``Judge``, ``judge.batch_size`` requests per model call)
    before they are grouped."""

    def __init__(self, config: VerifyConfig = VerifyConfig()):
        super().__init__()
        self._config = config

    def expand(self, rollouts) -> StageOutputs:
        config = self._config
        verified = (rollouts
                    | "One" >> beam.Map(lambda r: [r])
                    | "Verify" >> RuleStep(STAGE, STEP, VerifyRollouts(config)))
        parts, kept = [verified], verified.kept
        if config.judge.enabled:
            # imported only with the judge on: it imports Beam's RunInference, and with it torch
            from transforms.verify.judge_step import judge_undecided

            decided, undecided = verified.kept | "NeedsJudge" >> beam.Partition(_ToJudge(config), 2)
            judged, failed = judge_undecided(undecided, config.judge)
            parts += [judged, failed]
            kept = (decided, judged.kept) | "Rejoin" >> beam.Flatten()
        finished = (
            kept
            | "KeyByProblem" >> beam.Map(_problem_key).with_output_types(Tuple[str, VerifiedRollout])
            | "GroupByProblem" >> beam.GroupByKey()
            | "PassRate" >> RuleStep(STAGE, PASS_RATE_STEP, functools.partial(finish_rule, config=config),
                                     output_type=VerifiedRollout)
        )
        return merge(rollouts.pipeline, "Outputs", parts + [finished])
