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
from transforms.sample.adaptive import AdaptiveConfig

R1_USER_TEMPLATE = "{prompt}\nPlease reason step by step, and put your final answer within \\boxed{{}}."


@dataclasses.dataclass(frozen=True)
class FewShot:
    user: str = ""
    assistant: str = ""


@dataclasses.dataclass(frozen=True)
class SampleConfig(models.ModelConfig):
    """The teacher's model settings (every :class:`~transforms.models.config.ModelConfig`
    field, same names and defaults, declared once there) and what is asked of it."""

    n: int = 4
    system_prompt: Optional[str] = None
    user_template: str = R1_USER_TEMPLATE
    few_shot: Tuple[FewShot, ...] = ()
    #: knowledge problems are asked in non-thinking mode: this template, no few-shot turns
    knowledge_template: str = "{prompt}"
    #: sample in rounds, verifying between them (off): ``n`` is then the most per problem
    adaptive: AdaptiveConfig = AdaptiveConfig()

    def __post_init__(self):
        super().__post_init__()  # the model settings
        if self.n < 1:
            raise ValueError("n: must be >= 1")
        self.adaptive.check(self.n)
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
