"""Sample: Problems → n Rollouts each, through the project's model step.

:class:`GenerateRollouts` joins each problem to its rollouts already persisted (resume,
:mod:`transforms.sample.journal`), runs the teacher in a
:class:`~transforms.models.step.ModelStep` (``RunInference`` with
:class:`~transforms.sample.handler.SampleModelHandler`), and turns what comes back into
kept Rollouts and dead letters through :class:`~transforms.core.stage.RuleStep`:
:class:`EmitRollouts` (a problem's rollouts, or one dead letter for a problem whose
generation failed) and :func:`failed_batch_dead_letters` (a dead letter per problem of
a batch the handler raised on). Both are step ``generate``; nothing is rejected.

Determinism: a sample depends only on (rendered prompt, model, sampling params, its
own seed); every backend draws each sample with its own seed, so how Beam groups
problems into bundles and batches never changes a sample. ``latency_s`` is the one
measured (non-reproducible) field of a Rollout.
"""
from __future__ import annotations

from typing import Dict, List, Optional

import apache_beam as beam

from schemas.records import DeadLetter, Problem, Rollout
from transforms.core import RuleStep, make_dead_letter, merge, truncate
from transforms.core.progress import tap
from transforms.models.step import ModelStep
from transforms.sample.config import SampleConfig, check_backend
from transforms.sample.handler import METRICS_NAMESPACE, Outcome, SampleModelHandler
from transforms.sample.imports import imported_answer
from transforms.sample.journal import SampleTask, as_task, tasks_from_join

STAGE = "sample"
#: The step of every sample dead letter.
GENERATE = "generate"


def generation_dead_letter(problem: Problem, error: str, config_hash: str) -> DeadLetter:
    return make_dead_letter(STAGE, GENERATE, error, record=problem, config_hash=config_hash)


def failed_batch_dead_letters(failed, config_hash: str) -> List[DeadLetter]:
    """Dead letters for a batch RunInference could not process: ``(batch, (type, repr, traceback))``."""
    batch, (_, exc_repr, trace) = failed
    error = f"{exc_repr}\n{truncate(''.join(trace), 1500)}"
    return [generation_dead_letter(as_task(item).problem, error, config_hash) for item in batch]


class EmitRollouts:
    """Rule: an Outcome → its Rollouts, or one DeadLetter for its problem.

    Counts, in namespace ``sample``: ``prompts_done``, ``prompts_failed``, ``prompts_imported``
    (problems whose one rollout is an imported SFT answer: :mod:`transforms.sample.imports`),
    ``rollouts_done``, ``rollouts_reused``, ``prompt_tokens`` and ``completion_tokens``
    (the tokens of this run's model calls; the launcher reads ``rollouts_reused`` for the
    manifest's resume entry and the tokens for its ``tokens`` and ``cost``)."""

    def __init__(self, config_hash: str):
        self.config_hash = config_hash
        self._prompts = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "prompts_done")
        self._failed = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "prompts_failed")
        self._imported = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "prompts_imported")
        self._rollouts = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "rollouts_done")
        self._reused = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "rollouts_reused")
        self._tokens = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "completion_tokens")
        self._prompt_tokens = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "prompt_tokens")

    def __call__(self, outcome: Outcome):
        if outcome.error is not None:
            self._failed.inc()
            return generation_dead_letter(outcome.problem, outcome.error, self.config_hash)
        self._prompts.inc()
        if imported_answer(outcome.problem) is not None:
            self._imported.inc()
        self._rollouts.inc(len(outcome.rollouts))
        self._reused.inc(outcome.reused)
        self._tokens.inc(outcome.generated_tokens)
        self._prompt_tokens.inc(outcome.prompt_tokens)
        return list(outcome.rollouts)


def outcome_progress(outcome: Outcome) -> Dict[str, int]:
    """What one problem adds to the live progress (:mod:`transforms.core.progress`)."""
    return {"prompts": 1, "prompts_failed": int(outcome.error is not None), "rollouts": len(outcome.rollouts),
            "rollouts_reused": outcome.reused, "prompt_tokens": outcome.prompt_tokens,
            "completion_tokens": outcome.generated_tokens}


def failed_batch_progress(failed) -> Dict[str, int]:
    """What a batch the model step failed on adds to the live progress: its problems."""
    batch, _ = failed
    return {"prompts": len(batch), "prompts_failed": len(batch)}


def sample_tasks(problems, completed=None):
    """Each problem joined to its rollouts persisted by earlier runs: SampleTasks."""
    if completed is None:
        return problems | "Tasks" >> beam.Map(SampleTask, [])
    keyed = problems | "KeyProblems" >> beam.Map(lambda p: (p.problem_id, p))
    done = completed | "KeyDone" >> beam.Map(lambda r: (r.problem_id, r))
    return (
        {"problems": keyed, "done": done}
        | "JoinDone" >> beam.CoGroupByKey()
        | "Tasks" >> beam.FlatMap(tasks_from_join)
    )


class GenerateRollouts(beam.PTransform):
    """PCollection[Problem] → StageOutputs(kept=Rollouts, rejected=empty, dead=DeadLetters).

    Every problem ends as ``config.n`` Rollouts or as one DeadLetter
    (stage "sample", step "generate"). ``completed``: a PCollection of Rollouts
    persisted by earlier runs (read from the journal); those still expected are
    emitted again instead of being generated. ``journal_dir``: where each model
    batch's new rollouts are persisted first. ``progress``: the launcher's progress folder
    (see :mod:`transforms.core.progress`): the model step's outcomes are reported there
    as they come (``prompts``, ``rollouts``, tokens). GPU placement: the model step
    (``Generate``) is the one that gets the launcher's resource hints
    (``--sample_resource_hint``, ``--model_resource_hint``: see :mod:`pipelines.options`)."""

    def __init__(self, config: SampleConfig, seed: int, config_hash: str, completed=None,
                 journal_dir: Optional[str] = None, progress: Optional[str] = None,
                 templates: Optional[Dict[str, str]] = None):
        super().__init__()
        self._templates = dict(templates or {})  # source name → its user template
        check_backend(config)
        self._config = config
        self._seed = seed
        self._config_hash = config_hash
        self._completed = completed
        self._journal_dir = journal_dir
        self._progress = progress

    def expand(self, problems):
        handler = SampleModelHandler(self._config, self._seed, self._config_hash, self._journal_dir,
                                     self._templates)
        model = sample_tasks(problems, self._completed) | "Generate" >> ModelStep("Generate", handler)
        tap(model.results, "Progress", self._progress, "sample", outcome_progress)
        tap(model.failed, "FailedProgress", self._progress, "sample_failed", failed_batch_progress)
        emitted = model.results | "Emit" >> RuleStep(
            STAGE, GENERATE, EmitRollouts(self._config_hash), output_type=Rollout)
        failed = model.failed | "FailedBatches" >> RuleStep(
            STAGE, GENERATE, failed_batch_dead_letters, self._config_hash, output_type=Rollout)
        return merge(problems.pipeline, "Merge", [emitted, failed], kept=emitted.kept)
