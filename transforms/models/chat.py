"""Chat generation without Beam's ``RunInference``: requests, generations, the calls
that answer them and the token counts, shared by the model handler
(:mod:`transforms.models.handler`) and the plain drivers (the LLM judge of
``verify --input``, journey teachers).

Kept apart from the handler so that importing them (a stage's config, the judge's
settings) does not import ``apache_beam.ml.inference``, which imports torch when it
is installed: seconds of start-up that the stages without model steps never need.
"""
from __future__ import annotations

import math
import typing
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from apache_beam.metrics import Metrics

from transforms.core import error_text
from transforms.models.backends.base import Backend, GenerationRequest, GenerationResult, Sample
from transforms.models.config import ModelConfig

#: The metrics namespace of RunInference's own counters when a stage names none.
METRICS_NAMESPACE = "models"


class ChatRequest(typing.NamedTuple):
    """Chat turns to answer, one sample per seed; ``prefill`` starts the answer."""

    messages: List[dict]
    seeds: Tuple[int, ...]
    prefill: str = ""


class Generation(typing.NamedTuple):
    """A request, its rendered prompt and its samples (one per seed), or why there are none."""

    request: ChatRequest
    prompt: str
    result: Optional[GenerationResult]
    error: Optional[str]


#: ``on_sample(request index, sample index, sample, prompt tokens, latency s)``: one sample arrived.
OnSample = Callable[[int, int, Sample, int, float], None]


def streams(backend: Backend) -> bool:
    """Whether a backend hands each sample to ``on_sample`` as it arrives (the server client)."""
    return bool(getattr(backend, "streams", False))


def _generate(backend: Backend, requests: Sequence[GenerationRequest], on_sample: Optional[OnSample],
              offset: int = 0) -> List[GenerationResult]:
    """``backend.generate``; ``on_sample`` gets each sample as it arrives (a streaming
    backend), or every sample of a successful request once the call returns (the others)."""
    if on_sample is not None and streams(backend):
        return backend.generate(requests, lambda i, *rest: on_sample(offset + i, *rest))  # type: ignore[call-arg]
    results = backend.generate(requests)
    if on_sample is not None and len(results) == len(requests):
        for i, result in enumerate(results):
            if not result.error:
                for j, sample in enumerate(result.samples):
                    on_sample(offset + i, j, sample, result.prompt_tokens, result.latency_s)
    return results


def generate_isolated(
    backend: Backend, requests: Sequence[GenerationRequest], on_sample: Optional[OnSample] = None,
) -> List[Tuple[Optional[GenerationResult], Optional[str]]]:
    """(result, error) per request: the whole batch at once, and if that
    raises, each request alone, so one bad request fails only itself. A result
    that carries an ``error`` (the backend gave up on that request) fails that
    request alone, without asking the model again for the others. ``on_sample``:
    called with each sample as it arrives (see :func:`_generate`)."""
    try:
        results = _generate(backend, requests, on_sample)
        if len(results) != len(requests):
            raise RuntimeError(f"backend returned {len(results)} results for {len(requests)} requests")
        return [(None, r.error) if r.error else (r, None) for r in results]
    except Exception:  # noqa: BLE001 - retried one by one below
        pass
    outcomes: List[Tuple[Optional[GenerationResult], Optional[str]]] = []
    for index, request in enumerate(requests):
        try:
            result = _generate(backend, [request], on_sample, index)[0]
            outcomes.append((None, result.error) if result.error else (result, None))
        except Exception as exc:  # noqa: BLE001 - becomes a dead letter
            outcomes.append((None, error_text(exc)))
    return outcomes


def render(backend: Backend, request: ChatRequest) -> str:
    """The prompt text of a request: its rendered chat turns, then the prefill (a server
    backend gets the prefill as a final assistant turn it continues)."""
    prefilled = getattr(backend, "render_prefilled", None) if request.prefill else None
    if prefilled is not None:
        return prefilled(request.messages, request.prefill)
    return backend.render(request.messages) + request.prefill


def generate_chat(backend: Backend, requests: Sequence[ChatRequest]) -> List[Generation]:
    """One Generation per request, in order; a request that fails fails alone."""
    rendered: List[Tuple[str, Optional[str]]] = []
    for request in requests:
        try:
            rendered.append((render(backend, request), None))
        except Exception as exc:  # noqa: BLE001 - this request fails, the batch goes on
            rendered.append(("", f"render: {error_text(exc)}"))
    ready = [GenerationRequest(prompt, tuple(request.seeds))
             for request, (prompt, error) in zip(requests, rendered) if error is None]
    outcomes = iter(generate_isolated(backend, ready))
    generations = []
    for request, (prompt, error) in zip(requests, rendered):
        result: Optional[GenerationResult] = None
        if error is None:
            result, error = next(outcomes)
        if result is not None and len(result.samples) != len(request.seeds):
            error = f"backend returned {len(result.samples)} samples for {len(request.seeds)} seeds"
            result = None
        generations.append(Generation(request, prompt, result, error))
    return generations


def usage(generation: Generation) -> Tuple[int, int]:
    """(prompt tokens, completion tokens) a generation cost: the prompt once per sample
    (every backend sends each sample as its own request), and what the samples generated."""
    if generation.result is None:
        return 0, 0
    samples = generation.result.samples
    return generation.result.prompt_tokens * len(samples), sum(s.completion_tokens for s in samples)


def count_usage(namespace: str, generations: Sequence[Generation]) -> None:
    """Bump the counters ``<namespace>.prompt_tokens`` and ``<namespace>.completion_tokens``
    (what the launcher reads for the stage manifest's ``tokens`` and ``cost``)."""
    prompt = completion = 0
    for generation in generations:
        p, c = usage(generation)
        prompt, completion = prompt + p, completion + c
    Metrics.counter(namespace, "prompt_tokens").inc(prompt)
    Metrics.counter(namespace, "completion_tokens").inc(completion)


def answer_progress(answered) -> Dict[str, int]:
    """What one answered request (a Generation, or a keyed ``(key, Generation)``) adds to
    the live progress (:mod:`transforms.core.progress`): the request and its tokens."""
    generation = answered[1] if isinstance(answered, tuple) and not isinstance(answered, Generation) else answered
    prompt, completion = usage(generation)
    return {"requests": 1, "prompt_tokens": prompt, "completion_tokens": completion}


def stream_batch_size(config: ModelConfig, samples_per_request: int = 1) -> int:
    """Requests per model call. The server client's batches hold at least twice its window
    of samples (``concurrency``), so the window stays full but for a batch's last
    samples; the other backends batch ``batch_size``."""
    if config.backend != "openai":
        return config.batch_size
    return max(config.batch_size, math.ceil(2 * config.concurrency / max(1, samples_per_request)))
