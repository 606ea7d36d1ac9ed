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
CODE_TEMPLATE = ("{prompt}\n\nThink it through, then give your complete solution, with its imports, in one "
                 "```python code block at the end of your answer.")
CHOICE_TEMPLATE = ("{prompt}\nPlease reason step by step, and put the letter of your final answer within "
                   "\\boxed{{}}.")
#: The names a source's ``template`` may give, besides a template of its own.
TEMPLATE_NAMES = ("math", "code", "choice", "general")


def check_template(name: str, template: str) -> None:
    """ValueError naming ``name`` unless ``template`` substitutes exactly ``{prompt}``."""
    if "{prompt}" not in template:
        raise ValueError(f"{name}: must contain {{prompt}}")
    try:
        template.format(prompt="")
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(
            f"{name}: only {{prompt}} may be substituted (write literal braces as "
            f"{{{{ }}}}): {error_text(exc)}"
        ) from None


@dataclasses.dataclass(frozen=True)
class DomainTemplates:
    """The user templates of the domains besides maths (``sample.user_template``):
    code (one fenced block in a named language), multiple choice (the letter) and
    general (the prompt as it is). A problem takes its source's ``template`` if set,
    else its domain's: ``code`` problems ``code``, problems with choices ``choice``,
    knowledge problems ``sample.knowledge_template``, the rest ``user_template``."""

    code: str = CODE_TEMPLATE
    choice: str = CHOICE_TEMPLATE
    general: str = "{prompt}"

    def __post_init__(self):
        for name in ("code", "choice", "general"):
            check_template(name, getattr(self, name))

    def resolve(self, template: str, source: str = "") -> str:
        """The template a source's ``template`` names (math means ``user_template``,
        returned as None by :meth:`SampleConfig.template_for`), or its own text."""
        if template in ("code", "choice", "general"):
            return getattr(self, template)
        if template == "math":
            return template
        check_template(f"sources: source {source!r}: template" if source else "template", template)
        return template


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
    #: the other domains' templates (code, multiple choice, general)
    templates: DomainTemplates = DomainTemplates()

    def __post_init__(self):
        super().__post_init__()  # the model settings
        if self.profile and self.profile not in PROFILES:
            raise ValueError(f"profile: must be one of {', '.join(PROFILES)}, got {self.profile!r}")
        if self.n < 1:
            raise ValueError("n: must be >= 1")
        self.adaptive.check(self.n)
        for name in ("user_template", "knowledge_template"):
            check_template(name, getattr(self, name))

    def template_for(self, template: str) -> str:
        """The text of a source's ``template`` (a domain's name or its own template)."""
        resolved = self.templates.resolve(template)
        return self.user_template if resolved == "math" else resolved

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
