"""The sampler's model handler: problems in, all their rollouts (or the error) out.

:class:`SampleModelHandler` is a :class:`~transforms.models.handler.BackendModelHandler`
(the chat handler's loading, batching and model sharing, from ``SampleConfig.model_config()``)
with the one thing sampling adds: it renders a problem first, then asks only for the sample
indexes whose rollout ids are not persisted yet (resume, see
:mod:`transforms.sample.journal`), so the seeds of a request are known only once its
prompt is rendered. Every new sample is drawn with its own seed, so a sample depends
only on (rendered prompt, model, sampling params, its seed). With a ``journal_dir``
the batch's new rollouts are persisted before they are returned.
"""
from __future__ import annotations

import typing
from typing import Any, Iterable, List, Optional, Sequence, Tuple

from schemas.records import SCHEMA_VERSION, Problem, Rollout, project
from transforms.core import error_text
from transforms.models.backends.base import Backend, GenerationRequest, GenerationResult
from transforms.models.config import make_backend
from transforms.models.handler import BackendModelHandler, generate_isolated
from transforms.models.lazy import LazyBackend
from transforms.sample.config import SampleConfig
from transforms.sample.ids import expected_ids, model_key, rollout_id, sample_seed, sampling_params
from transforms.sample.journal import as_task, persist_chunk
from transforms.sample.prompts import build_messages, split_completion

#: RunInference's metrics and the stage's counters.
METRICS_NAMESPACE = "sample"


class Prepared(typing.NamedTuple):
    """A problem rendered for the backend, split into reused and missing samples."""

    problem: Problem
    prompt_text: str
    indices: Tuple[int, ...]  # sample indexes to generate
    seeds: Tuple[int, ...]  # their seeds
    reused: Tuple[Rollout, ...]  # persisted rollouts whose ids are still expected
    error: Optional[str]


class Generated(typing.NamedTuple):
    """A problem's new samples (for ``indices``), the reused rollouts, or the error."""

    problem: Problem
    prompt_text: str
    seeds: Tuple[int, ...]
    result: Optional[GenerationResult]
    error: Optional[str]
    indices: Tuple[int, ...] = ()
    reused: Tuple[Rollout, ...] = ()


def prepare(backend: Backend, task, config: SampleConfig, seed: int) -> Prepared:
    """Render a problem's prompt, find which samples are already done, seed the rest."""
    problem, done = as_task(task)
    try:
        prompt_text = backend.render(build_messages(problem.prompt, config, problem.kind))
    except Exception as exc:  # noqa: BLE001 - a bad problem must become a dead letter
        return Prepared(problem, "", (), (), (), f"render: {error_text(exc)}")
    persisted = {r.rollout_id: r for r in done}
    indices, reused = [], []
    for index, rid in enumerate(expected_ids(problem, prompt_text, config, seed)):
        if rid in persisted:
            reused.append(persisted[rid])
        else:
            indices.append(index)
    seeds = tuple(sample_seed(seed, problem.problem_id, i) for i in indices)
    return Prepared(problem, prompt_text, tuple(indices), seeds, tuple(reused), None)


NOTHING_NEW = GenerationResult([], 0, 0.0)


def generate_for_problems(
    backend: Backend, problems: Sequence, config: SampleConfig, seed: int
) -> List[Generated]:
    """Generate the missing samples of every problem (or SampleTask); one
    Generated per problem, in order. A problem whose samples are all done
    asks nothing of the model."""
    prepared = [prepare(backend, problem, config, seed) for problem in problems]
    ready = [p for p in prepared if p.error is None and p.indices]
    outcomes = iter(generate_isolated(backend, [GenerationRequest(p.prompt_text, p.seeds) for p in ready]))
    generated = []
    for p in prepared:
        result: Optional[GenerationResult]
        error: Optional[str]
        if p.error is not None:
            result, error = None, p.error
        elif p.indices:
            result, error = next(outcomes)
        else:
            result, error = NOTHING_NEW, None
        if result is not None and len(result.samples) != len(p.indices):
            error = f"backend returned {len(result.samples)} samples for {len(p.indices)} seeds"
            result = None
        generated.append(Generated(p.problem, p.prompt_text, p.seeds, result, error, p.indices, p.reused))
    return generated


def make_rollouts(generated: Generated, config: SampleConfig, seed: int, config_hash: str) -> List[Rollout]:
    """The Rollouts of a successfully generated problem, by sample index: one
    per new sample, plus the reused ones (stamped with this run's config hash)."""
    problem, result = generated.problem, generated.result
    assert result is not None, generated.error  # only a generated problem has rollouts
    params = sampling_params(config, seed)
    key = model_key(config)
    indices = generated.indices or tuple(range(len(result.samples)))
    rollouts = [r._replace(config_hash=config_hash) for r in generated.reused]
    for index, sample, s_seed in zip(indices, result.samples, generated.seeds):
        reasoning, answer = split_completion(sample.text, problem.kind)
        rollouts.append(
            project(
                Rollout,
                problem,
                rollout_id=rollout_id(problem.problem_id, generated.prompt_text, key, params, index),
                sample_index=index,
                sample_seed=s_seed,
                teacher_model=config.model,
                teacher_revision=config.revision,
                backend=config.backend,
                temperature=config.temperature,
                top_p=config.top_p,
                max_tokens=config.max_tokens,
                completion=sample.text,
                reasoning=reasoning,
                answer=answer,
                finish_reason=sample.finish_reason,
                prompt_tokens=result.prompt_tokens,
                completion_tokens=sample.completion_tokens,
                latency_s=float(result.latency_s),
                seed=seed,
                config_hash=config_hash,
                schema_version=SCHEMA_VERSION,
            )
        )
    return sorted(rollouts, key=lambda r: r.sample_index)


class Outcome(typing.NamedTuple):
    """What the model handler returns per problem: all its rollouts, or the error."""

    problem: Problem
    rollouts: List[Rollout]
    error: Optional[str]
    reused: int  # how many of ``rollouts`` came from the journal
    generated_tokens: int  # completion tokens generated now
    #: prompt tokens sent now: the prompt once per new sample (each sample is its own request)
    prompt_tokens: int = 0


def to_outcome(generated: Generated, config: SampleConfig, seed: int, config_hash: str) -> Outcome:
    if generated.error is not None:
        return Outcome(generated.problem, [], generated.error, 0, 0)
    rollouts = make_rollouts(generated, config, seed, config_hash)
    result = generated.result
    assert result is not None  # no error: a result
    tokens = sum(s.completion_tokens for s in result.samples)
    return Outcome(generated.problem, rollouts, None, len(generated.reused), tokens,
                   result.prompt_tokens * len(result.samples))


class SampleModelHandler(BackendModelHandler[Any, Outcome]):
    """Loads the teacher of a SampleConfig and turns SampleTasks (or Problems) into Outcomes.

    ``run_inference`` returns one :class:`Outcome` per problem; a problem whose
    generation fails carries its error instead of raising. With a
    ``journal_dir``, the batch's new rollouts are persisted there before they
    are returned (see the module doc)."""

    def __init__(self, config: SampleConfig, seed: int, config_hash: str = "",
                 journal_dir: Optional[str] = None):
        super().__init__(config.model_config(), namespace=METRICS_NAMESPACE)
        self._config = config
        self._seed = seed
        self._config_hash = config_hash
        self._journal_dir = journal_dir

    def load_model(self) -> Backend:
        """The teacher, loaded lazily: rendering first, the model at the first generation
        (a batch whose rollouts are all persisted never loads it, see transforms.models.lazy)."""
        backend = LazyBackend(make_backend(self.model_config), METRICS_NAMESPACE)
        backend.load()
        return backend

    def run_inference(self, batch: Sequence, model: Backend, inference_args=None) -> Iterable[Outcome]:
        generated = generate_for_problems(model, batch, self._config, self._seed)
        outcomes = [to_outcome(g, self._config, self._seed, self._config_hash) for g in generated]
        if self._journal_dir:
            reused = {r.rollout_id for g in generated for r in g.reused}
            persist_chunk(self._journal_dir,
                          [r for o in outcomes for r in o.rollouts if r.rollout_id not in reused])
        return outcomes
