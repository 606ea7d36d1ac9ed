"""Sampling backends behind one interface (see :mod:`transforms.models.backends.base`).

* ``transformers`` (:mod:`.hf`): CPU or one GPU, the embedded default;
* ``vllm`` (:mod:`.vllm_engine`): the in-process vLLM engine;
* ``openai`` (:mod:`.openai_api`): any OpenAI-compatible server;
* ``fake`` (:mod:`.fake`): deterministic and instant, for tests.

A backend is built from a :class:`transforms.models.config.ModelConfig` by
:func:`transforms.models.config.make_backend`. Importing this package imports none
of torch, transformers, vllm or httpx: each backend imports its library in ``load()``.
"""
from typing import Any, Callable, Dict

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

#: backend name -> its class, built from a ModelConfig
BACKEND_CLASSES: Dict[str, Callable[[Any], Backend]] = {
    "transformers": TransformersBackend,
    "vllm": VLLMBackend,
    "openai": OpenAIBackend,
    "fake": FakeBackend,
}

__all__ = ["Backend", "BackendNotImplemented", "GenerationRequest", "GenerationResult", "Sample",
           "FakeBackend", "TransformersBackend", "OpenAIBackend", "VLLMBackend", "BACKEND_CLASSES"]
