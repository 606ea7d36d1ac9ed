"""The sample stage's config: its checks, the teacher's ModelConfig it derives, and
the backends it can name."""
from __future__ import annotations

import dataclasses

import pytest

from transforms.models.backends.base import BackendNotImplemented
from transforms.models.backends.fake import FakeBackend
from transforms.models.backends.hf import TransformersBackend
from transforms.models.backends.openai_api import OpenAIBackend
from transforms.models.backends.vllm_engine import VLLMBackend
from transforms.models.config import ModelConfig
from transforms.sample.config import FewShot, SampleConfig, check_backend, make_backend
from transforms.sample.transform import GenerateRollouts

SEED = 1234
HASH = "cfghash"


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"user_template": "{question}"}, "must contain {prompt}"),
        ({"user_template": "{prompt} {other}"}, "only {prompt} may be substituted"),
        ({"fake_length_rate": 1.5}, "fake_length_rate"),
        ({"dtype": "float64"}, "dtype"),
        ({"torch_threads": 0}, "torch_threads"),
        ({"top_p": 0.0}, "top_p"),
        ({"backend": "llamacpp"}, "backend"),
        ({"top_k": -1}, "top_k"),
        ({"stop": ("",)}, "stop"),
        ({"tensor_parallel_size": 0}, "tensor_parallel_size"),
        ({"gpu_memory_utilization": 1.5}, "gpu_memory_utilization"),
        ({"backend": "openai"}, "base_url: required"),
        ({"backend": "openai", "base_url": "http://h/v1", "concurrency": 0}, "concurrency"),
    ],
)
def test_config_rejects(changes, message):
    with pytest.raises(ValueError, match=message.replace("{", r"\{").replace("}", r"\}")):
        SampleConfig(**changes)


@pytest.mark.parametrize("backend, cls", [("transformers", TransformersBackend), ("vllm", VLLMBackend),
                                          ("openai", OpenAIBackend), ("fake", FakeBackend)])
def test_every_configurable_backend_is_implemented(backend, cls):
    config = SampleConfig(backend=backend, base_url="http://127.0.0.1:1/v1")
    check_backend(config)
    assert type(make_backend(config)) is cls
    GenerateRollouts(config, SEED, HASH)  # builds without loading anything


def test_check_backend_refuses_an_unknown_backend_by_name():
    config = SampleConfig()
    object.__setattr__(config, "backend", "llamacpp")  # past the config's own check
    with pytest.raises(BackendNotImplemented, match="'llamacpp' is not implemented"):
        check_backend(config)


def test_model_config_carries_every_model_setting_and_nothing_else():
    config = SampleConfig(backend="openai", model="teacher", revision="r", n=7, temperature=0.3, top_p=0.8,
                          top_k=5, max_tokens=99, stop=("</s>",), batch_size=3, share_model=True,
                          base_url="http://h/v1", concurrency=2, system_prompt="S",
                          few_shot=(FewShot("Q", "A"),), knowledge_template="K {prompt}")
    model = config.model_config()
    assert isinstance(model, ModelConfig)
    for field in dataclasses.fields(ModelConfig):
        assert getattr(model, field.name) == getattr(config, field.name), field.name
    sample_only = {f.name for f in dataclasses.fields(SampleConfig)} - {f.name for f in dataclasses.fields(ModelConfig)}
    assert sample_only == {"n", "system_prompt", "user_template", "few_shot", "knowledge_template", "profile", "imports",
                           "adaptive", "templates"}


def test_model_defaults_are_the_sample_defaults():
    assert SampleConfig().model_config() == ModelConfig()
