"""Problem filters before sampling (step ``problem_filter``): a problem the teacher
can't usefully answer, or whose answer can't be checked, is rejected with its reason
before any request is made for it. The rules are :mod:`transforms.text.problems`;
this module holds their config and the step."""
from __future__ import annotations

import dataclasses
from typing import Tuple

import apache_beam as beam

from transforms.core import Drop, RuleStep
from transforms.text.problems import REASONS, screen

STEP = "problem_filter"


@dataclasses.dataclass(frozen=True)
class ProblemFilterConfig:
    enabled: bool = True
    reasons: Tuple[str, ...] = REASONS  # the rules applied (all by default), in REASONS' order
    max_answer_chars: int = 400  # a longer gold answer is unparseable_answer

    def __post_init__(self):
        unknown = [r for r in self.reasons if r not in REASONS]
        if unknown:
            raise ValueError(f"reasons: unknown {unknown}; expected names from {list(REASONS)}")
        if self.max_answer_chars < 1:
            raise ValueError(f"max_answer_chars: expected at least 1, got {self.max_answer_chars}")


def needs_answer(problem) -> bool:
    """Whether a problem is checked against a gold answer: a reasoning problem without
    code tests (a knowledge prompt or a code problem has none to check)."""
    return problem.kind == "reasoning" and not problem.tests


class FilterRule:
    """Rule: a Problem → kept, or ``Drop(reason, detail)`` of the first rule it fails."""

    def __init__(self, config: ProblemFilterConfig):
        self.config = config

    def __call__(self, problem):
        found = screen(problem.prompt, problem.reference_answer, list(problem.choices or []),
                       enabled=self.config.reasons, needs_answer=needs_answer(problem),
                       max_answer_chars=self.config.max_answer_chars)
        return problem if found is None else Drop(found[0], found[1])


class FilterProblems(beam.PTransform):
    """Problems → StageOutputs: the ones failing a rule rejected (stage ``sample``,
    step ``problem_filter``, the rule's reason)."""

    def __init__(self, config: ProblemFilterConfig, stage: str = "sample"):
        super().__init__()
        self.config, self.stage = config, stage

    def expand(self, problems):
        return problems | "Rules" >> RuleStep(self.stage, STEP, FilterRule(self.config))
