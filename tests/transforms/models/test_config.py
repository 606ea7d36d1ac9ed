"""The one model config: its checks, and building (never loading) each backend from it."""
from __future__ import annotations

import pytest

from transforms.models.backends.base import BackendNotImplemented
from transforms.models.backends.fake import FakeBackend
from transforms.models.backends.hf import TransformersBackend
from transforms.models.backends.openai_api import OpenAIBackend
from transforms.models.backends.vllm_engine import VLLMBackend
from transforms.models.config import BACKENDS, IMPLEMENTED_BACKENDS, ModelConfig, check_backend, make_backend


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"backend": "llamacpp"}, "backend: must be one of"),
        ({"temperature": 6.0}, "temperature"),
        ({"top_p": 0.0}, "top_p"),
        ({"top_k": -1}, "top_k"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"stop": ("",)}, "stop"),
        ({"batch_size": 0}, "batch_size"),
        ({"torch_threads": 0}, "torch_threads"),
        ({"dtype": "float64"}, "dtype"),
        ({"tensor_parallel_size": 0}, "tensor_parallel_size"),
        ({"gpu_memory_utilization": 1.5}, "gpu_memory_utilization"),
        ({"backend": "openai"}, "base_url: required"),
        ({"backend": "openai", "base_url": "http://h/v1", "max_retries": -1}, "max_retries"),
        ({"fake_length_rate": 1.5}, "fake_length_rate"),
    ],
)
def test_config_rejects(changes, message):
    with pytest.raises(ValueError, match=message):
        ModelConfig(**changes)


def test_every_configurable_backend_is_implemented():
    assert set(BACKENDS) == set(IMPLEMENTED_BACKENDS)


@pytest.mark.parametrize("backend, cls", [("transformers", TransformersBackend), ("vllm", VLLMBackend),
                                          ("openai", OpenAIBackend), ("fake", FakeBackend)])
def test_make_backend_builds_without_loading(backend, cls):
    config = ModelConfig(backend=backend, base_url="http://127.0.0.1:1/v1")
    made = make_backend(config)
    assert type(made) is cls and made.config is config


def test_check_backend_refuses_an_unknown_backend_by_name_and_section():
    config = ModelConfig()
    object.__setattr__(config, "backend", "llamacpp")  # past the config's own check
    with pytest.raises(BackendNotImplemented, match=r"^sample\.backend: 'llamacpp' is not implemented"):
        make_backend(config)
    with pytest.raises(BackendNotImplemented, match=r"^judge\.backend: 'llamacpp'"):
        check_backend(config, "judge")
