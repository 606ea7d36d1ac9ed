"""Shorter thinking at equal correctness (issue #15): which correct samples of a problem
the mix keeps (``mix.selection``), no chain of thought where the teacher never needs one
(``mix.no_cot``) and thinking-length caps by difficulty (``mix.length_caps``). Plain
functions (Beam-free but for counters), applied in :class:`transforms.mix.transform.MixExamples`.

* ``selection.policy`` orders the examples of one (problem, part) before the per-prompt
  cap (``per_prompt_cap`` is the count kept): ``hash`` (the default: a hash of the seed
  and the id, as before), ``shortest`` (fewest thinking tokens), ``length_penalised``
  (highest ``correct − lambda_per_1k_tokens · tokens / 1000``) or ``diverse`` (greedy
  max-min Jaccard distance of the thinking's word shingles, the first pick by hash).
  Ties by the hash key. Under ``hash`` the drops are step and reason ``per_prompt_cap``
  as before; under the others, step ``select_per_prompt`` and the policy as the reason.
* ``no_cot``: a problem whose samples are all correct (pass rate 1.0) and whose kept
  examples all think at most ``max_thinking_tokens`` gets one example (its lowest hash
  key) with an empty ``<think>\\n\\n</think>``; at most ``max_share`` of the reasoning
  target, chosen by a hash of the seed and the problem id. The row keeps
  ``reasoning_tokens_before`` and has ``reasoning_tokens_after`` 0 and no reasoning.
* ``length_caps``: the cap of an example is that of the largest ``min_pass_rate`` at or
  below its problem's pass rate; a direct reasoning example thinking longer is rejected
  (step ``length_cap``, reason ``over_length_cap``).

Thinking tokens are estimated (:func:`transforms.text.length.estimate_tokens`) and read
from ``reasoning_tokens_after`` (after ``mix.prune``).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Iterator, Optional, Sequence

from apache_beam.metrics import Metrics

from transforms.core import Drop, hash_score
from transforms.text.shingles import shingles

POLICIES = ("hash", "shortest", "length_penalised", "diverse")
STAGE = "mix"
#: The assistant turn of a no-chain-of-thought example, before the answer.
EMPTY_THINK = "<think>\n\n</think>\n\n"


@dataclasses.dataclass(frozen=True)
class SelectionConfig:
    """``mix.selection``: the order the per-prompt cap keeps examples of one problem in."""

    policy: str = "hash"
    lambda_per_1k_tokens: float = 0.1  # length_penalised: score lost per 1000 thinking tokens
    ngram: int = 3  # diverse: word shingles of this many words

    def __post_init__(self):
        if self.policy not in POLICIES:
            raise ValueError(f"policy: must be one of {', '.join(POLICIES)}, got {self.policy!r}")
        if not math.isfinite(self.lambda_per_1k_tokens) or self.lambda_per_1k_tokens < 0:
            raise ValueError("lambda_per_1k_tokens: must be >= 0")
        if self.ngram < 1:
            raise ValueError("ngram: must be >= 1")


@dataclasses.dataclass(frozen=True)
class NoCotConfig:
    """``mix.no_cot``: an empty ``<think>`` for problems the teacher always solves briefly (off)."""

    enabled: bool = False
    max_thinking_tokens: int = 200  # every kept example of the problem thinks at most this much
    max_share: float = 0.1  # of the reasoning target

    def __post_init__(self):
        if self.max_thinking_tokens < 0:
            raise ValueError("max_thinking_tokens: must be >= 0")
        if not 0 <= self.max_share <= 1:
            raise ValueError("max_share: must be in [0, 1]")

    def limit(self, reasoning_target: int) -> int:
        """How many problems may get a no-chain-of-thought example."""
        return math.floor(self.max_share * reasoning_target + 1e-9) if self.enabled else 0


@dataclasses.dataclass(frozen=True)
class LengthCap:
    """One entry of ``mix.length_caps``: problems solved at least this often think at most this much."""

    min_pass_rate: float = 0.0
    max_reasoning_tokens: int = 0

    def __post_init__(self):
        if not 0 <= self.min_pass_rate <= 1:
            raise ValueError("min_pass_rate: must be in [0, 1]")
        if self.max_reasoning_tokens < 1:
            raise ValueError("max_reasoning_tokens: must be >= 1")


def check_length_caps(caps: Sequence[LengthCap]) -> None:
    rates = [c.min_pass_rate for c in caps]
    if len(set(rates)) != len(rates):
        raise ValueError(f"length_caps: min_pass_rate must differ between caps, got {rates}")


# -- selection per prompt ----------------------------------------------------------------------


def thinking_tokens(example) -> int:
    return int(example.reasoning_tokens_after or 0)


def _jaccard_distance(a: frozenset, b: frozenset) -> float:
    if not a and not b:
        return 0.0
    return 1.0 - len(a & b) / len(a | b)


def _diverse(items: list, key, cap: int, ngram: int) -> list:
    """Greedy max-min distance: the lowest key first, then the one farthest from all picked."""
    rest = sorted(items, key=key)
    signs = {id(it): frozenset(shingles(it[1].reasoning or "", "word", ngram)) for it in rest}
    picked = [rest.pop(0)] if rest else []
    while rest and len(picked) < cap:
        best = max(range(len(rest)), key=lambda i: (
            min(_jaccard_distance(signs[id(rest[i])], signs[id(p)]) for p in picked), -i))
        picked.append(rest.pop(best))
    return picked + rest


def order_per_prompt(items: list, config: SelectionConfig, seed: int, cap: Optional[int]) -> list:
    """(bucket, example) pairs of one (problem, part), best first under ``config.policy``."""
    def key(be):  # transforms.mix.select.selection_key
        return hash_score(seed, be[1].example_id), be[1].example_id

    if config.policy == "shortest":
        return sorted(items, key=lambda be: (thinking_tokens(be[1]), key(be)))
    if config.policy == "length_penalised":
        lam = config.lambda_per_1k_tokens

        def score(example):
            return (example.verdict == "correct") - lam * thinking_tokens(example) / 1000

        return sorted(items, key=lambda be: (-score(be[1]), key(be)))
    if config.policy == "diverse":
        return _diverse(items, key, cap if cap is not None else len(items), config.ngram)
    return sorted(items, key=key)


def tokens_saved(kept: Sequence, candidates: Sequence) -> int:
    """Thinking tokens a random pick of ``len(kept)`` candidates would carry beyond ``kept``'s."""
    if not candidates:
        return 0
    mean = sum(thinking_tokens(e) for e in candidates) / len(candidates)
    return round(mean * len(kept) - sum(thinking_tokens(e) for e in kept))


def select_per_prompt(element, cap: Optional[int], seed: int, selection: SelectionConfig = SelectionConfig()
                      ) -> Iterator:
    """((problem, part), [(bucket, example), ...]) → the ``cap`` best pairs under the policy;
    a Drop for each of the rest (``per_prompt_cap`` under ``hash``, else step
    ``select_per_prompt`` and the policy as the reason)."""
    (_, part), items = element
    items = list(items)
    ordered = order_per_prompt(items, selection, seed, cap)
    policy = selection.policy
    if policy != "hash" and cap is not None and len(ordered) > cap:
        saved = tokens_saved([e for _, e in ordered[:cap]], [e for _, e in ordered])
        Metrics.counter(STAGE, "select_per_prompt.tokens_saved").inc(saved)
    for i, (bucket, example) in enumerate(ordered):
        if cap is None or i < cap:
            yield bucket, example
        elif policy == "hash":
            yield Drop("per_prompt_cap", f"problem has {len(ordered)} {part} examples, cap {cap}", record=example)
        else:
            yield Drop(policy, f"problem has {len(ordered)} {part} examples, cap {cap}: rank {i + 1} "
                               f"by {policy} ({thinking_tokens(example)} thinking tokens)",
                       record=example, step="select_per_prompt")


# -- no chain of thought -------------------------------------------------------------------------


def is_no_cot(example) -> bool:
    """A no-chain-of-thought example: its thinking as sampled, none kept (``mix.prune``
    always keeps some)."""
    return int(example.reasoning_tokens_after or 0) == 0 < int(example.reasoning_tokens_before or 0)


def no_cot_candidate(pair, config: NoCotConfig, seed: int):
    """(bucket, example) → (problem_id, (short and always solved?, hash key, example_id)) for
    direct reasoning examples; nothing for the rest."""
    _, example = pair
    if example.kind != "reasoning" or example.journey:
        return
    tokens = int(example.reasoning_tokens_before or 0)
    eligible = (example.verdict == "correct" and float(example.pass_rate or 0) >= 1.0
                and 0 < tokens <= config.max_thinking_tokens and bool((example.answer or "").strip()))
    yield example.problem_id, (eligible, hash_score(seed, example.example_id), example.example_id)


def no_cot_pick(element, seed: int):
    """(problem_id, candidates) → (problem key, example_id) of the one example that loses
    its thinking when every candidate is eligible; nothing otherwise."""
    problem_id, candidates = element
    candidates = sorted(candidates, key=lambda c: (c[1], c[2]))
    if candidates and all(c[0] for c in candidates):
        yield hash_score(seed, f"no_cot/{problem_id}"), candidates[0][2]


def without_thinking(example):
    """``example`` with an empty ``<think>`` (its ``reasoning_tokens_before`` kept)."""
    user = example.messages[0]
    assistant = type(user)("assistant", EMPTY_THINK + (example.answer or "").strip())
    return example._replace(reasoning="", messages=[user, assistant], reasoning_tokens_after=0)


def apply_no_cot(pair, chosen):
    """(bucket, example) → the pair, the example without thinking when its id is in ``chosen``."""
    bucket, example = pair
    if example.example_id not in chosen:
        return pair
    Metrics.counter(STAGE, "no_cot.examples").inc()
    return bucket, without_thinking(example)


# -- length caps by difficulty -------------------------------------------------------------------


def cap_for(pass_rate: float, caps: Sequence[LengthCap]) -> Optional[LengthCap]:
    """The cap of the largest ``min_pass_rate`` at or below ``pass_rate``; None when none applies."""
    applies = [c for c in caps if c.min_pass_rate <= float(pass_rate or 0.0) + 1e-9]
    return max(applies, key=lambda c: c.min_pass_rate) if applies else None


def cap_length(pair, caps: Sequence[LengthCap]):
    """(bucket, example) → the pair, or an ``over_length_cap`` Drop when a direct reasoning
    example thinks longer than the cap of its problem's pass rate."""
    _, example = pair
    if example.kind != "reasoning" or example.journey:
        return pair
    cap = cap_for(example.pass_rate, caps)
    tokens = thinking_tokens(example)
    if cap is None or tokens <= cap.max_reasoning_tokens:
        return pair
    Metrics.counter(STAGE, "length_cap.tokens_rejected").inc(tokens)
    return Drop("over_length_cap", f"{tokens} thinking tokens > {cap.max_reasoning_tokens} for pass rate "
                                   f"{float(example.pass_rate):.3f} (cap from min_pass_rate {cap.min_pass_rate:g})",
                record=example)
