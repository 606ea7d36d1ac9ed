"""The journey step's configuration (``mix.journey`` in the run config).

Journeys are built while ``share`` is above 0; see :mod:`transforms.mix.journey` for
what a journey is, and :mod:`transforms.mix.attempts` for which of the wrong attempts
curate hands on they start from (``wrong_verdicts``).
"""
from __future__ import annotations

import dataclasses
from typing import Tuple

from schemas.records import VERDICTS

MODES = ("splice", "reflect")

DEFAULT_TRANSITIONS = (
    "Wait, that doesn't look right. Let me go back and check this step.",
    "Hmm, I think I made a mistake here. Let me reconsider.",
    "Hold on, let me verify that again.",
    "But wait, this can't be right. Let me redo the calculation carefully.",
    "Let me double-check this; something seems off.",
    "Actually, I need to re-examine this step, the result doesn't check out.",
)


@dataclasses.dataclass(frozen=True)
class JourneyConfig:
    """Journey examples (``mix.journey`` in the run config); none are built while ``share`` is 0."""

    share: float = 0.0  # share of the reasoning target reserved for journey examples
    modes: Tuple[str, ...] = ("splice",)  # splice | reflect, picked per wrong attempt by hash
    wrong_verdicts: Tuple[str, ...] = ("incorrect",)  # curate verdicts that make a wrong attempt
    max_per_problem: int = 2  # wrong attempts used per problem (the rest are rejected)
    locate: bool = True  # find the first wrong step with the teacher (Math-Shepherd style)
    continuations: int = 2  # teacher samples per probed step
    max_steps: int = 8  # steps probed at most; past them the whole attempt is the prefix
    max_tokens: int = 256  # token limit of the teacher's continuations (probes and reflect)
    transitions: Tuple[str, ...] = DEFAULT_TRANSITIONS

    def __post_init__(self):
        if not 0.0 <= self.share <= 1.0:
            raise ValueError("share: must be in [0, 1]")
        unknown = sorted(set(self.modes) - set(MODES))
        if not self.modes or unknown:
            raise ValueError(f"modes: must be a non-empty list of {', '.join(MODES)}, got {list(self.modes)}")
        if not self.wrong_verdicts or "correct" in self.wrong_verdicts:
            raise ValueError("wrong_verdicts: a non-empty list of verdicts other than 'correct'")
        unknown = [v for v in self.wrong_verdicts if v not in VERDICTS]
        if unknown:
            raise ValueError(f"wrong_verdicts: unknown verdict(s) {', '.join(map(repr, unknown))}; "
                             f"expected some of {', '.join(v for v in VERDICTS if v != 'correct')}")
        for name in ("max_per_problem", "continuations", "max_steps", "max_tokens"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be >= 1")
        if not self.transitions or not all(t.strip() for t in self.transitions):
            raise ValueError("transitions: must be a non-empty list of non-empty strings")

    @property
    def enabled(self) -> bool:
        return self.share > 0.0

    @property
    def needs_teacher(self) -> bool:
        return self.locate or "reflect" in self.modes
