"""Ingest's configuration: the sources to read (``SourceConfig``, with the input fields
that make a Problem, ``FieldMapping``) and the reading limits (``IngestConfig``).

Each check raises a ValueError naming the field, when the config is built."""
from __future__ import annotations

import dataclasses
from typing import Optional, Tuple

from transforms.core.verification import verify_method
from transforms.ingest.generators import check_generator

SOURCE_FORMATS = ("auto", "jsonl", "parquet", "datasets", "hf", "generator")
#: Presets of code problems: domain ``code``, verified by their tests.
CODE_PRESETS = ("humaneval", "mbpp", "apps", "taco", "livecodebench", "codecontests")
PRESETS = ("gsm8k", "math", "answer", "mcq") + CODE_PRESETS
#: Presets that import existing SFT data as knowledge examples (transforms.ingest.sft).
SFT_PRESETS = ("alpaca", "sharegpt", "messages")


@dataclasses.dataclass(frozen=True)
class FieldMapping:
    """Which input fields make a Problem (a preset fills these in)."""

    prompt: Optional[str] = None  # field holding the question
    answer: Optional[str] = None  # field holding the gold answer
    solution: Optional[str] = None  # field holding a worked solution with \\boxed{} or "#### N"
    id: Optional[str] = None  # field holding the source's own id (else file:line)
    choices: Optional[str] = None  # field holding multiple-choice options
    tests: Optional[str] = None  # field holding code tests
    difficulty: Optional[str] = None
    domain: Optional[str] = None  # field holding the domain, overriding the source's


@dataclasses.dataclass(frozen=True)
class SourceConfig:
    name: str = ""
    path: Optional[str] = None  # file, directory, glob, or "hf:ORG/NAME[:SPLIT]"
    format: str = "auto"
    preset: Optional[str] = None
    fields: FieldMapping = FieldMapping()
    generator: Optional[str] = None  # arithmetic | linear_equation | countdown | unit_rate | knights_knaves
    count: int = 0  # problems to generate
    difficulty: Tuple[int, ...] = (1, 2, 3)
    rule: Optional[str] = None  # the generator's rule variant (countdown: exactly_once (default) | at_most_once)
    domain: str = "math"
    kind: str = "reasoning"
    language: Optional[str] = None
    limit: Optional[int] = None  # at most this many problems from the source
    #: what verifies the source's problems (transforms/core/verification.py): gold | tests |
    #: majority | judge | none; default: tests for code (a code preset, domain code or a
    #: tests field), else gold
    verify: Optional[str] = None
    #: the user template of this source's problems: a domain's name (math, code, choice,
    #: general: sample.templates) or a template with {prompt}; default: by the problem's domain
    template: Optional[str] = None

    def __post_init__(self):
        if not self.name:
            raise ValueError("name: every source needs a name")
        if self.format not in SOURCE_FORMATS:
            raise ValueError(f"format: must be one of {', '.join(SOURCE_FORMATS)}, got {self.format!r}")
        if self.preset is not None and self.preset not in PRESETS + SFT_PRESETS:
            raise ValueError(f"preset: must be one of {', '.join(PRESETS + SFT_PRESETS)}, got {self.preset!r}")
        if self.preset in SFT_PRESETS and self.kind != "knowledge":
            raise ValueError(f"preset: {self.preset} imports SFT data as knowledge examples: "
                             f"set kind: knowledge on source {self.name!r}")
        if self.format == "generator" or self.generator:
            if not self.generator:
                raise ValueError("generator: a generator source needs a generator name")
            if self.count <= 0:
                raise ValueError("count: a generator source needs count > 0")
            check_generator(self.generator, self.difficulty, self.rule)
        elif not self.path:
            raise ValueError(f"path: source {self.name!r} needs a path (or a generator)")
        elif self.rule is not None:
            raise ValueError("rule: only a generator source has a rule")
        if self.kind not in ("reasoning", "knowledge"):
            raise ValueError(f"kind: must be reasoning or knowledge, got {self.kind!r}")
        if self.limit is not None and self.limit < 0:
            raise ValueError("limit: must be >= 0")
        if self.verify is not None:
            verify_method(self.verify)
            if self.preset in SFT_PRESETS and self.verify not in ("gold", "judge", "none"):
                raise ValueError(f"verify: an imported answer ({self.preset}) is verified by gold (the judge's "
                                 f"rubric when the judge is on), judge or none, not {self.verify!r}")
        if self.template is not None and not self.template.strip():
            raise ValueError("template: must name a domain's template or contain {prompt}")

    @property
    def verify_method(self) -> str:
        """The method that verifies this source: ``verify``, else ``tests`` for code (a code
        preset, ``domain: code`` or a ``fields.tests`` mapping), else ``gold``."""
        if self.verify:
            return self.verify
        code = self.preset in CODE_PRESETS or self.domain == "code" or bool(self.fields.tests)
        return "tests" if code else "gold"

    @property
    def problem_domain(self) -> str:
        """The domain of the source's problems: ``code`` for a code preset left at the
        default domain, else ``domain``."""
        return "code" if self.preset in CODE_PRESETS and self.domain == "math" else self.domain

    @property
    def is_generator(self) -> bool:
        return self.format == "generator" or bool(self.generator)


@dataclasses.dataclass(frozen=True)
class IngestConfig:
    max_line_bytes: int = 1_000_000  # longer input lines are dead-lettered (line_too_long)

    def __post_init__(self):
        if self.max_line_bytes <= 0:
            raise ValueError("max_line_bytes: must be > 0")
