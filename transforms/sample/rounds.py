"""Sample in rounds (``sample.adaptive``): Problems → Rollouts, verified between rounds.

:class:`AdaptiveRollouts` is the Beam side of :mod:`transforms.sample.adaptive`. The
rounds are unrolled when the pipeline is built (their number follows from ``n``,
``first`` and ``step``); round ``r`` is ``Round<r>/Generate`` (the model step, the same
:class:`~transforms.sample.handler.SampleModelHandler` as fixed-``n`` sampling, asking
only the round's sample indexes, journaled the same way), ``Round<r>/Verify`` (the
injected checker's verdict on each new rollout: the curate verifier, handed in by
:mod:`pipelines.sample` since this package must not import ``verify``) and
``Round<r>/Split`` (closed problems out, open ones on to the next round). With budgets,
``Round<r>/Budget`` grants each open problem its samples in hash order while its
bucket's cap lasts (a grouping per bucket: a barrier between rounds).

A problem's rollouts are emitted once it is closed (``Emit``), so a problem whose
generation fails in any round is one dead letter (its rollouts stay in the journal and a
re-run reuses them), as in fixed-``n`` sampling.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence

import apache_beam as beam

from schemas.records import DeadLetter, Rollout
from transforms.core import Drop, RuleStep, error_text, merge, truncate
from transforms.core.progress import tap
from transforms.models.backends.base import Backend
from transforms.models.step import ModelStep
from transforms.sample import adaptive
from transforms.sample.adaptive import RoundState
from transforms.sample.config import SampleConfig, check_backend
from transforms.sample.handler import METRICS_NAMESPACE, SampleModelHandler
from transforms.sample.journal import SampleTask
from transforms.sample.transform import GENERATE, STAGE, generation_dead_letter, sample_tasks

#: ``checker(record, text) -> verdict fields`` (``verdict`` among them), with optional
#: ``setup()``/``teardown()``: :class:`transforms.verify.checker.AnswerChecker`.
Checker = Callable[[Any, str], dict]
#: The step of the rejections of problems the budget granted nothing.
BUDGET_STEP = "budget"

log = logging.getLogger(__name__)


class RoundModelHandler(SampleModelHandler):
    """RoundStates in, ``(state, Outcome)`` out: each asks its round's sample indexes."""

    def run_inference(self, batch: Sequence, model: Backend, inference_args=None) -> Iterable:
        tasks = [SampleTask(s.problem, s.done, s.indices) for s in batch]
        return list(zip(batch, super().run_inference(tasks, model, inference_args)))


def failed_round_dead_letters(failed, config_hash: str) -> List[DeadLetter]:
    """A dead letter per problem of a batch the handler raised on."""
    batch, (_, exc_repr, trace) = failed
    error = f"{exc_repr}\n{truncate(''.join(trace), 1500)}"
    return [generation_dead_letter(state.problem, error, config_hash) for state in batch]


class VerifyRound:
    """Rule: ``(state, Outcome)`` → the state after the round (or the problem's dead letter).

    Counts, in namespace ``sample``, what :class:`~transforms.sample.transform.EmitRollouts`
    counts for fixed ``n`` (``rollouts_done``, ``rollouts_reused``, ``prompt_tokens``,
    ``completion_tokens``, ``prompts_failed``) and ``adaptive_correct``."""

    def __init__(self, config: SampleConfig, checker: Checker, config_hash: str):
        self.config = config
        self.checker = checker
        self.config_hash = config_hash

    def setup(self) -> None:
        if hasattr(self.checker, "setup"):
            self.checker.setup()

    def teardown(self) -> None:
        if hasattr(self.checker, "teardown"):
            self.checker.teardown()

    def _count(self, name: str, value: int = 1) -> None:
        beam.metrics.Metrics.counter(METRICS_NAMESPACE, name).inc(value)

    def verdict(self, rollout: Rollout) -> str:
        return str(self.checker(rollout, rollout.answer or rollout.completion or "")["verdict"])

    def __call__(self, element):
        state, outcome = element
        if outcome.error is not None:
            self._count("prompts_failed")
            return generation_dead_letter(state.problem, outcome.error, self.config_hash)
        try:
            verdicts = [self.verdict(r) for r in outcome.rollouts]
        except Exception as exc:  # noqa: BLE001 - a record the verifier cannot read
            self._count("prompts_failed")
            return generation_dead_letter(state.problem, f"verify: {error_text(exc)}", self.config_hash)
        self._count("rollouts_done", len(outcome.rollouts))
        self._count("rollouts_reused", outcome.reused)
        self._count("completion_tokens", outcome.generated_tokens)
        self._count("prompt_tokens", outcome.prompt_tokens)
        self._count("adaptive_correct", adaptive.count_correct(verdicts))
        return adaptive.after_round(self.config.adaptive, self.config.n, state, outcome.rollouts, verdicts)


class EmitClosed:
    """Rule: a closed state → its rollouts (counted ``prompts_done`` and
    ``adaptive_closed_<reason>``), or a rejection (step ``budget``, ``over_budget``) for a
    problem the budget granted nothing."""

    def __call__(self, state: RoundState):
        reason = state.closed or adaptive.MAX
        beam.metrics.Metrics.counter(METRICS_NAMESPACE, f"adaptive_closed_{reason}").inc()
        if not state.rollouts:
            return Drop("over_budget", f"the {state.problem.source!r} budget was spent", state.problem,
                        BUDGET_STEP)
        beam.metrics.Metrics.counter(METRICS_NAMESPACE, "prompts_done").inc()
        return list(state.rollouts)


def round_progress(element) -> Dict[str, int]:
    """What one problem's round adds to the live progress (rollouts and tokens)."""
    state, outcome = element
    return {"prompts": int(not state.rollouts), "prompts_failed": int(outcome.error is not None),
            "rollouts": len(outcome.rollouts), "rollouts_reused": outcome.reused,
            "prompt_tokens": outcome.prompt_tokens, "completion_tokens": outcome.generated_tokens}


def _apply_grants(element) -> Iterable[RoundState]:
    _, groups = element
    granted = groups["grant"][0] if groups["grant"] else 0
    for state in groups["state"]:
        yield adaptive.apply_grant(state, granted)


class AdaptiveRollouts(beam.PTransform):
    """PCollection[Problem] → StageOutputs(kept=Rollouts, rejected=budget rejections,
    dead=DeadLetters): every problem ends as its rollouts (between 1 and ``n``), one
    rejection (its bucket's budget granted it nothing) or one dead letter. ``checker``:
    the verifier (see :data:`Checker`); ``completed``, ``journal_dir``, ``progress``: as for
    :class:`~transforms.sample.transform.GenerateRollouts`."""

    def __init__(self, config: SampleConfig, seed: int, config_hash: str, checker: Checker, completed=None,
                 journal_dir: Optional[str] = None, progress: Optional[str] = None):
        super().__init__()
        check_backend(config)
        config.adaptive.check(config.n)
        self._config = config
        self._seed = seed
        self._config_hash = config_hash
        self._checker = checker
        self._completed = completed
        self._journal_dir = journal_dir
        self._progress = progress

    def _budget(self, label: str, open_states, spent_states: List):
        """Open states with the budget's grant applied (some closed for ``budget``)."""
        config, seed = self._config.adaptive, self._seed
        caps = config.caps
        spent = (spent_states
                 | f"{label}/Flatten" >> beam.Flatten()
                 | f"{label}/Asked" >> beam.Map(lambda s: (adaptive.bucket_of(config, s.problem), len(s.rollouts)))
                 | f"{label}/Spent" >> beam.CombinePerKey(sum))
        grants = (open_states
                  | f"{label}/Wants" >> beam.Map(lambda s: (adaptive.bucket_of(config, s.problem), (
                      adaptive.rank(seed, s.problem.problem_id), s.problem.problem_id, len(s.indices))))
                  | f"{label}/ByBucket" >> beam.GroupByKey()
                  | f"{label}/Grant" >> beam.FlatMap(
                      lambda kv, spent: adaptive.grant(caps.get(kv[0]), spent.get(kv[0], 0), list(kv[1])).items(),
                      beam.pvalue.AsDict(spent)))
        keyed = open_states | f"{label}/Key" >> beam.Map(lambda s: (s.problem.problem_id, s))
        return ({"state": keyed, "grant": grants}
                | f"{label}/Join" >> beam.CoGroupByKey()
                | f"{label}/Apply" >> beam.FlatMap(_apply_grants))

    def expand(self, problems):
        config = self._config
        tasks = sample_tasks(problems, self._completed)
        handler = RoundModelHandler(config, self._seed, self._config_hash, self._journal_dir)
        verify = VerifyRound(config, self._checker, self._config_hash)
        states = tasks | "Start" >> beam.Map(lambda t: adaptive.start(config.adaptive, config.n, t))
        closed: List = []
        side: List = []
        for r in range(adaptive.rounds(config.adaptive, config.n)):
            if config.adaptive.budget:
                states = self._budget(f"Round{r}/Budget", states, [states] + closed)
                parts = states | f"Round{r}/Granted" >> beam.Partition(lambda s, _: 0 if s.closed else 1, 2)
                closed.append(parts[0])
                states = parts[1]
            model = states | f"Round{r}/Generate" >> ModelStep(f"Round{r}/Generate", handler)
            tap(model.results, f"Round{r}/Progress", self._progress, "sample", round_progress)
            verified = model.results | f"Round{r}/Verify" >> RuleStep(STAGE, GENERATE, verify)
            failed = model.failed | f"Round{r}/FailedBatches" >> RuleStep(
                STAGE, GENERATE, failed_round_dead_letters, self._config_hash, output_type=Rollout)
            side += [verified, failed]
            parts = verified.kept | f"Round{r}/Split" >> beam.Partition(lambda s, _: 0 if s.closed else 1, 2)
            closed.append(parts[0])
            states = parts[1]
        closed.append(states)  # none is left open after the last round (n reached)
        emitted = (closed | "Closed" >> beam.Flatten()
                   | "Emit" >> RuleStep(STAGE, GENERATE, EmitClosed(), output_type=Rollout))
        return merge(problems.pipeline, "Merge", side + [emitted], kept=emitted.kept)
