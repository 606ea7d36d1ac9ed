"""Sampling backends behind one interface (see :mod:`transforms.models.backends.base`).

* ``transformers`` (:mod:`.hf`): CPU or one GPU, the embedded default;
* ``vllm`` (:mod:`.vllm_engine`): the in-process vLLM engine;
* ``openai`` (:mod:`.openai_api`): any OpenAI-compatible server;
* ``fake`` (:mod:`.fake`): deterministic and instant, for tests.

Importing this package imports none of torch, transformers, vllm or httpx:
each backend imports its library in ``load()``.
"""
from transforms.models.backends.base import (
    Backend,
    BackendNotImplemented,
    GenerationRequest,
    GenerationResult,
    Sample,
)
from transforms.models.backends.fake import FakeBackend
from transforms.models.backends.hf import TransformersBackend
from transforms.models.backends.openai_api import OpenAIBackend
from transforms.models.backends.vllm_engine import VLLMBackend

BACKEND_CLASSES = {
    "transformers": TransformersBackend,
    "vllm": VLLMBackend,
    "openai": OpenAIBackend,
    "fake": FakeBackend,
}


def make_backend(config) -> Backend:
    """The (not yet loaded) backend named by ``config.backend``."""
    try:
        return BACKEND_CLASSES[config.backend](config)
    except KeyError:
        raise BackendNotImplemented(f"sample.backend: unknown backend {config.backend!r}") from None


__all__ = ["Backend", "BackendNotImplemented", "GenerationRequest", "GenerationResult", "Sample",
           "FakeBackend", "TransformersBackend", "OpenAIBackend", "VLLMBackend", "BACKEND_CLASSES",
           "make_backend"]
