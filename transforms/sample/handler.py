"""The sampler's model handler: problems in, all their rollouts (or the error) out.

:class:`SampleModelHandler` is a :class:`~transforms.models.handler.BackendModelHandler`
(the chat handler's loading, batching and model sharing, from ``SampleConfig.model_config()``)
with the one thing sampling adds: it renders a problem first (an imported SFT answer:
the request for its chain of thought, or no request at all, see
:mod:`transforms.sample.imports`), then asks only for the sample
indexes whose rollout ids are not persisted yet (resume, see
:mod:`transforms.sample.journal`), so the seeds of a request are known only once its
prompt is rendered. Every new sample is drawn with its own seed, so a sample depends
only on (rendered prompt, model, sampling params, its seed). With a ``journal_dir``
each new rollout is persisted as its sample arrives (a streaming backend, the server
client, and a local folder: appended to a stream file the moment the server answers;
otherwise the batch's rollouts as one chunk before they are returned), and a problem's rollouts are exactly the ones
persisted. A problem one of whose samples failed is a dead letter, but its samples
that arrived are journaled: the next run asks only for the failed one.
"""
from __future__ import annotations

import typing
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from schemas.records import SCHEMA_VERSION, Problem, Rollout, project
from transforms.core import error_text
from transforms.models.backends.base import Backend, GenerationRequest, GenerationResult, Sample
from transforms.models.config import make_backend
from transforms.models.handler import BackendModelHandler, generate_isolated, streams
from transforms.models.lazy import LazyBackend
from transforms.sample.config import SampleConfig
from transforms.sample.ids import expected_ids, model_key, rollout_id, sample_seed, sampling_params
from transforms.sample.imports import (
    IMPORT_BACKEND,
    cot_messages,
    direct_rollout,
    import_fields,
    imported_answer,
    thinking_of,
    wants_cot,
)
from transforms.sample.journal import JournalStream, as_task, persist_chunk, streams_to
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
    imported: Optional[str] = None  # an imported SFT answer (transforms.sample.imports)
    direct: bool = False  # the imported answer is the rollout as it came: no model call


class Generated(typing.NamedTuple):
    """A problem's new samples (for ``indices``), the reused rollouts, or the error."""

    problem: Problem
    prompt_text: str
    seeds: Tuple[int, ...]
    result: Optional[GenerationResult]
    error: Optional[str]
    indices: Tuple[int, ...] = ()
    reused: Tuple[Rollout, ...] = ()
    imported: Optional[str] = None
    direct: bool = False
    #: rollouts made (and journaled) as their samples arrived, by sample index
    arrived: Optional[Dict[int, Rollout]] = None


def prepare(backend: Backend, task, config: SampleConfig, seed: int,
            templates: Optional[Dict[str, str]] = None) -> Prepared:
    """Render a problem's prompt, find which samples are already done, seed the rest.

    ``templates``: the user template of each source that sets one (by source name)."""
    problem, done, wanted = as_task(task)
    answer = imported_answer(problem)
    if answer is not None:
        return prepare_import(backend, problem, done, answer, config, seed)
    try:
        prompt_text = backend.render(build_messages(problem.prompt, config, problem.kind, problem.domain,
                                                    problem.choices, (templates or {}).get(problem.source)))
    except Exception as exc:  # noqa: BLE001 - a bad problem must become a dead letter
        return Prepared(problem, "", (), (), (), f"render: {error_text(exc)}")
    persisted = {r.rollout_id: r for r in done}
    indices, reused = [], []
    for index, rid in enumerate(expected_ids(problem, prompt_text, config, seed)):
        if wanted and index not in wanted:
            continue
        if rid in persisted:
            reused.append(persisted[rid])
        else:
            indices.append(index)
    seeds = tuple(sample_seed(seed, problem.problem_id, i) for i in indices)
    return Prepared(problem, prompt_text, tuple(indices), seeds, tuple(reused), None)


def prepare_import(backend: Backend, problem: Problem, done, answer: str, config: SampleConfig,
                   seed: int) -> Prepared:
    """An imported answer's one sample: kept as it came (``direct``, no model call), or the
    teacher asked for its chain of thought (unless that rollout is persisted already)."""
    if not wants_cot(problem, config.imports):
        return Prepared(problem, f"{IMPORT_BACKEND}\x00{answer}", (), (), (), None, answer, direct=True)
    try:
        prompt_text = backend.render(cot_messages(problem, answer, config.imports, config.system_prompt))
    except Exception as exc:  # noqa: BLE001 - a bad problem must become a dead letter
        return Prepared(problem, "", (), (), (), f"render: {error_text(exc)}", answer)
    rid = rollout_id(problem.problem_id, prompt_text, model_key(config), sampling_params(config, seed), 0)
    reused = tuple(r for r in done if r.rollout_id == rid)[:1]
    indices = () if reused else (0,)
    seeds = tuple(sample_seed(seed, problem.problem_id, i) for i in indices)
    return Prepared(problem, prompt_text, indices, seeds, reused, None, answer)


NOTHING_NEW = GenerationResult([], 0, 0.0)


def new_rollout(problem: Problem, prompt_text: str, index: int, sample: Sample, sample_seed_: int,
                prompt_tokens: int, latency_s: float, config: SampleConfig, seed: int,
                config_hash: str, imported: Optional[str] = None) -> Rollout:
    """The Rollout of one new sample (sample ``index`` of ``problem``); for an imported
    SFT answer (``imported``), the teacher's sample is the chain of thought behind it."""
    completion = sample.text
    if imported is not None:
        completion, reasoning, answer = import_fields(imported, thinking_of(sample.text))
    else:
        reasoning, answer = split_completion(sample.text, problem.kind)
    return project(
        Rollout,
        problem,
        rollout_id=rollout_id(problem.problem_id, prompt_text, model_key(config), sampling_params(config, seed),
                              index),
        sample_index=index,
        sample_seed=sample_seed_,
        teacher_model=config.model,
        teacher_revision=config.revision,
        backend=config.backend,
        temperature=config.temperature,
        top_p=config.top_p,
        max_tokens=config.max_tokens,
        completion=completion,
        reasoning=reasoning,
        answer=answer,
        finish_reason=sample.finish_reason,
        prompt_tokens=prompt_tokens,
        completion_tokens=sample.completion_tokens,
        latency_s=float(latency_s),
        seed=seed,
        config_hash=config_hash,
        schema_version=SCHEMA_VERSION,
    )


def generate_for_problems(
    backend: Backend, problems: Sequence, config: SampleConfig, seed: int,
    on_rollout: Optional[Callable[[Rollout], None]] = None, config_hash: str = "",
    templates: Optional[Dict[str, str]] = None,
) -> List[Generated]:
    """Generate the missing samples of every problem (or SampleTask); one
    Generated per problem, in order. A problem whose samples are all done
    asks nothing of the model. ``on_rollout``: gets each new rollout as its
    sample arrives (the journal), before any other sample of the batch need arrive.
    ``templates``: the user template of each source that sets one (by source name)."""
    prepared = [prepare(backend, problem, config, seed, templates) for problem in problems]
    ready = [p for p in prepared if p.error is None and p.indices]
    arrived: List[Dict[int, Rollout]] = [{} for _ in ready]

    def on_sample(i: int, j: int, sample: Sample, prompt_tokens: int, latency_s: float) -> None:
        p = ready[i]
        rollout = new_rollout(p.problem, p.prompt_text, p.indices[j], sample, p.seeds[j], prompt_tokens,
                              latency_s, config, seed, config_hash, p.imported)
        if on_rollout is not None:
            on_rollout(rollout)
        arrived[i][p.indices[j]] = rollout

    outcomes = iter(generate_isolated(backend, [GenerationRequest(p.prompt_text, p.seeds) for p in ready],
                                      on_sample if on_rollout is not None else None))
    came = iter(arrived)
    generated = []
    for p in prepared:
        result: Optional[GenerationResult]
        error: Optional[str]
        got: Optional[Dict[int, Rollout]] = None
        if p.error is not None:
            result, error = None, p.error
        elif p.indices:
            result, error = next(outcomes)
            got = next(came) if on_rollout is not None else None
        else:
            result, error = NOTHING_NEW, None
        if result is not None and len(result.samples) != len(p.indices):
            error = f"backend returned {len(result.samples)} samples for {len(p.indices)} seeds"
            result = None
        generated.append(Generated(p.problem, p.prompt_text, p.seeds, result, error, p.indices, p.reused,
                                   p.imported, p.direct, got))
    return generated


def make_rollouts(generated: Generated, config: SampleConfig, seed: int, config_hash: str) -> List[Rollout]:
    """The Rollouts of a successfully generated problem, by sample index: one
    per new sample (the one journaled when it arrived, if it was), plus the reused
    ones (stamped with this run's config hash)."""
    problem, result = generated.problem, generated.result
    assert result is not None, generated.error  # only a generated problem has rollouts
    indices = generated.indices or tuple(range(len(result.samples)))
    arrived = generated.arrived or {}
    rollouts = [r._replace(config_hash=config_hash) for r in generated.reused]
    if generated.direct and generated.imported is not None:
        rid = rollout_id(problem.problem_id, generated.prompt_text, IMPORT_BACKEND, {}, 0)
        rollouts.append(direct_rollout(problem, generated.imported, rid, sample_seed(seed, problem.problem_id, 0),
                                       seed, config_hash))
    for index, sample, s_seed in zip(indices, result.samples, generated.seeds):
        rollouts.append(arrived.get(index) or new_rollout(
            problem, generated.prompt_text, index, sample, s_seed, result.prompt_tokens, result.latency_s,
            config, seed, config_hash, generated.imported))
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
                 journal_dir: Optional[str] = None, templates: Optional[Dict[str, str]] = None):
        super().__init__(config.model_config(), namespace=METRICS_NAMESPACE, samples_per_request=config.n)
        self._config = config
        self._templates = dict(templates or {})
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
        if streams(model) and streams_to(self._journal_dir) and not self.model_config.share_model:
            assert self._journal_dir is not None
            stream = JournalStream(self._journal_dir, "|".join(as_task(t).problem.problem_id for t in batch))
            try:
                generated = generate_for_problems(model, batch, self._config, self._seed, stream.write,
                                                  self._config_hash, self._templates)
            finally:
                stream.close()
            return [to_outcome(g, self._config, self._seed, self._config_hash) for g in generated]
        generated = generate_for_problems(model, batch, self._config, self._seed, templates=self._templates)
        outcomes = [to_outcome(g, self._config, self._seed, self._config_hash) for g in generated]
        if self._journal_dir:
            reused = {r.rollout_id for g in generated for r in g.reused}
            persist_chunk(self._journal_dir,
                          [r for o in outcomes for r in o.rollouts if r.rollout_id not in reused])
        return outcomes
