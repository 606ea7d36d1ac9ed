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
from transforms.sample.imports import ImportConfig

#: Sampling profiles (``sample.profile``): the settings a profile gives every key the
#: config leaves out (keys set in the config win). ``r1``: DeepSeek-R1's recommended
#: decoding (temperature 0.6, top-p 0.95), room for a whole 32K-token trace and a
#: request timeout that lets one finish; servers returning the reasoning separately
#: (``reasoning_content``) get it put back inside ``<think>`` (every backend does that).
PROFILES = {
    "r1": {"temperature": 0.6, "top_p": 0.95, "max_tokens": 32768, "timeout_s": 3600.0},
}

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
    #: a sampling profile (PROFILES) whose settings fill the keys the config leaves out
    #: (applied when the config is read: :func:`apply_profile`); "" none
    profile: str = ""
    #: imported SFT answers: the teacher writes a chain of thought for non-trivial prompts (see imports.py)
    imports: ImportConfig = ImportConfig()
    #: sample in rounds, verifying between them (off): ``n`` is then the most per problem
    adaptive: AdaptiveConfig = AdaptiveConfig()

    def __post_init__(self):
        super().__post_init__()  # the model settings
        if self.profile and self.profile not in PROFILES:
            raise ValueError(f"profile: must be one of {', '.join(PROFILES)}, got {self.profile!r}")
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


def apply_profile(sample) -> None:
    """Fill a config's ``sample`` mapping with its profile's settings where it has none
    (an unknown profile is left for SampleConfig to refuse)."""
    if isinstance(sample, dict) and isinstance(sample.get("profile"), str):
        for key, value in PROFILES.get(sample["profile"], {}).items():
            sample.setdefault(key, value)


def check_backend(config: SampleConfig) -> None:
    """Refuse, with the backend's name, a backend that is configured but not implemented."""
    models.check_backend(config, "sample")


def make_backend(config: SampleConfig) -> Backend:
    """The (not yet loaded) teacher backend of a sample config."""
    return models.make_backend(config.model_config())
