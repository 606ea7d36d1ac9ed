"""Adaptive sampling budget: the rules of rounds (``sample.adaptive``), Beam-free.

With ``sample.adaptive.enabled`` a problem is sampled in rounds instead of ``n`` samples
at once: round 0 asks ``first`` samples (indexes 0..first-1), the round's rollouts are
verified (the curate verifier, injected by :mod:`pipelines.sample`), and a problem is
*closed* once it has ``k`` verified-correct samples (``enough``), has ``n`` samples
(``n_max``: ``max``), has no correct sample after ``give_up_after`` samples (``gave_up``,
off by default) or its bucket's budget is spent (``budget``). Every other problem is
*topped up* by ``step`` more samples (the next indexes) in the next round.

Sample indexes continue across rounds, so a rollout of any round has the id and seed
of the fixed-``n`` rollout of the same index (:mod:`transforms.sample.ids`): the same
inputs and config give the same rows, and resume reuses the journal as before.

Budgets (``budget``, per bucket: the problem's ``source`` or ``domain``, ``bucket``)
cap the samples a bucket's problems are asked in all, over all rounds. Each round the
bucket's open problems are granted their samples in the order of a hash of (seed,
problem id) while the cap lasts; a problem granted nothing in round 0 is rejected
(step ``budget``, reason ``over_budget``), one granted nothing later is closed with
what it has. The Beam transform is :mod:`transforms.sample.rounds`.
"""
from __future__ import annotations

import dataclasses
import typing
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from schemas.records import Problem, Rollout
from transforms.core import stable_hash

BUCKETS = ("source", "domain")
#: Why a problem stopped being sampled (the counters ``sample.adaptive_closed_<reason>``).
ENOUGH, MAX, GAVE_UP, BUDGET = "enough", "max", "gave_up", "budget"
CLOSE_REASONS = (ENOUGH, MAX, GAVE_UP, BUDGET)
#: The verdict that counts a sample as correct.
CORRECT = "correct"


@dataclasses.dataclass(frozen=True)
class AdaptiveConfig:
    """``sample.adaptive``: rounds of sampling with verification between them (off by default).

    ``n`` of the sample section is the most samples a problem gets (n_max)."""

    enabled: bool = False
    first: int = 4  # samples every problem gets in round 0 (n0)
    step: int = 4  # samples a problem still open gets in each later round
    k: int = 4  # verified-correct samples that close a problem
    give_up_after: int = 0  # close a problem with no correct sample after this many (0: never)
    bucket: str = "source"  # what the budget's keys name: a problem's source or domain
    #: the most samples asked for the problems of a bucket, over all rounds (others: no cap)
    budget: Dict[str, int] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        for name in ("first", "step", "k"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be >= 1")
        if self.give_up_after < 0:
            raise ValueError("give_up_after: must be >= 0 (0: never)")
        if self.bucket not in BUCKETS:
            raise ValueError(f"bucket: must be one of {', '.join(BUCKETS)}, got {self.bucket!r}")
        items = self.budget.items() if isinstance(self.budget, dict) else self.budget
        object.__setattr__(self, "budget", tuple(sorted((str(k), int(v)) for k, v in items)))
        for key, cap in self.budget:
            if cap < 0:
                raise ValueError(f"budget: {key}: must be >= 0")

    def check(self, n: int) -> None:
        """ValueError (naming the field) for settings that contradict ``sample.n``."""
        if self.enabled and self.first > n:
            raise ValueError(f"adaptive: first ({self.first}) must be <= n ({n}), the most samples a problem gets")
        if self.enabled and self.k > n:
            raise ValueError(f"adaptive: k ({self.k}) must be <= n ({n})")

    @property
    def caps(self) -> Dict[str, int]:
        return dict(typing.cast(Iterable[Tuple[str, int]], self.budget))


def rounds(config: AdaptiveConfig, n: int) -> int:
    """How many rounds it takes at most to reach ``n`` samples."""
    return 1 + max(0, -(-(n - config.first) // config.step))


def round_size(config: AdaptiveConfig, n: int, asked: int) -> int:
    """How many samples a problem that has ``asked`` is asked next (0: none left)."""
    want = config.first if asked == 0 else config.step
    return max(0, min(want, n - asked))


class RoundState(typing.NamedTuple):
    """A problem between rounds: its rollouts so far (by index) and how many verified correct."""

    problem: Problem
    done: List[Rollout]  # the problem's rollouts persisted by earlier runs (the journal)
    rollouts: Tuple[Rollout, ...] = ()
    correct: int = 0
    indices: Tuple[int, ...] = ()  # the indexes the next round asks for (set by the grant)
    closed: Optional[str] = None  # why it stopped (CLOSE_REASONS), None while open


def close_reason(config: AdaptiveConfig, n: int, asked: int, correct: int) -> Optional[str]:
    """Why a problem with ``asked`` samples, ``correct`` of them verified correct, gets no
    more (None: it is topped up)."""
    if correct >= config.k:
        return ENOUGH
    if asked >= n:
        return MAX
    if config.give_up_after and correct == 0 and asked >= config.give_up_after:
        return GAVE_UP
    return None


def count_correct(verdicts: Iterable[str]) -> int:
    return sum(1 for v in verdicts if v == CORRECT)


def bucket_of(config: AdaptiveConfig, problem: Problem) -> str:
    return str(getattr(problem, config.bucket) or "")


def rank(seed: int, problem_id: str) -> str:
    """The order in which a bucket's problems are granted samples (a hash: no favourite)."""
    return stable_hash(seed, "adaptive-budget", problem_id)


def grant(cap: Optional[int], spent: int, wants: Sequence[Tuple[str, str, int]]) -> Dict[str, int]:
    """Samples granted to each problem of a bucket this round.

    ``wants``: ``(rank, problem_id, samples wanted)``; ``spent``: the samples the bucket's
    problems were asked in earlier rounds; ``cap``: its budget (None: no cap). In rank
    order each gets what it wants while the budget lasts (the last one, what is left)."""
    left = None if cap is None else max(0, cap - spent)
    granted: Dict[str, int] = {}
    for _, problem_id, want in sorted(wants):
        give = want if left is None else min(want, left)
        granted[problem_id] = give
        if left is not None:
            left -= give
    return granted


def next_indices(asked: int, size: int) -> Tuple[int, ...]:
    """The sample indexes of a round: they continue where the last round stopped."""
    return tuple(range(asked, asked + size))


def after_round(config: AdaptiveConfig, n: int, state: RoundState, new: Sequence[Rollout],
                verdicts: Sequence[str]) -> RoundState:
    """A problem's state once a round's rollouts (and their verdicts) are in: closed, or
    open and asking the next indexes (before the budget's grant)."""
    rollouts = tuple(sorted(tuple(state.rollouts) + tuple(new), key=lambda r: r.sample_index))
    correct = state.correct + count_correct(verdicts)
    asked = len(rollouts)
    reason = close_reason(config, n, asked, correct)
    indices = () if reason else next_indices(asked, round_size(config, n, asked))
    return state._replace(rollouts=rollouts, correct=correct, indices=indices, closed=reason)


def apply_grant(state: RoundState, granted: int) -> RoundState:
    """The state with the budget's grant applied: fewer indexes, or closed for ``budget``."""
    if granted >= len(state.indices):
        return state
    if granted <= 0:
        return state._replace(indices=(), closed=BUDGET)
    return state._replace(indices=state.indices[:granted])


def start(config: AdaptiveConfig, n: int, task) -> RoundState:
    """The state of a problem before round 0 (a SampleTask: the problem and its journal)."""
    problem, done = task[0], task[1]
    return RoundState(problem, list(done), indices=next_indices(0, round_size(config, n, 0)))
