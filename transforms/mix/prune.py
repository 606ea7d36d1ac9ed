"""Redundant re-verification pruning of the examples mix builds (``mix.prune``).

A correct reasoning trace often reaches its answer, states it, and re-checks it many
times over. With ``prune.enabled`` every correct rollout of the kinds in ``prune.kinds``
keeps its thinking up to the first statement of its verified answer plus at most
``max_reflections`` passes that restate it (:func:`transforms.text.reflections.prune_reasoning`);
the rest of the thinking is cut and ``</think>`` closes it, the answer section stays.

The cut is a candidate only: the pruned trace is verified again with the curate
verifier and run through the curate filters (both injected by the launcher, the mix
stage imports neither); when either fails, or anything raises, the original trace is
kept, with the reason. The example records both lengths (``reasoning_tokens_before``,
``reasoning_tokens_after``, estimated tokens) and the counter
``mix.prune.<reason>`` counts each decision (``pruned``, ``few_statements``,
``no_statement``, ``small_saving``, ``no_answer``, ``unverified``, ``filtered_<reason>``,
``error``).
"""
from __future__ import annotations

import dataclasses
import typing
from typing import Callable, Optional, Tuple

from apache_beam.metrics import Metrics

from transforms.core import error_text
from transforms.text.extract import THINK_CLOSE, THINK_OPEN
from transforms.text.length import estimate_tokens
from transforms.text.reflections import prune_reasoning

KINDS = ("reasoning", "knowledge")


@dataclasses.dataclass(frozen=True)
class PruneConfig:
    """``mix.prune``: whether and how redundant re-verification is cut (off by default)."""

    enabled: bool = False
    max_reflections: int = 1  # passes restating the answer kept after the first one
    gap: int = 1  # paragraphs stating the answer this close are one pass
    min_saving: float = 0.1  # cut only when it saves at least this share of the thinking
    kinds: Tuple[str, ...] = ("reasoning",)

    def __post_init__(self):
        if self.max_reflections < 0:
            raise ValueError("max_reflections: must be >= 0")
        if self.gap < 0:
            raise ValueError("gap: must be >= 0")
        if not 0 <= self.min_saving < 1:
            raise ValueError("min_saving: must be in [0, 1)")
        unknown = [k for k in self.kinds if k not in KINDS]
        if unknown:
            raise ValueError(f"kinds: unknown kind(s) {unknown} (kinds: {', '.join(KINDS)})")


class Pruned(typing.NamedTuple):
    """A rollout as its example is built from it: pruned or not, and the thinking's length."""

    record: object  # the VerifiedRollout, its reasoning and completion cut when pruned
    tokens_before: int
    tokens_after: int
    reason: str


def with_thinking(record, thinking: str):
    """``record`` (a VerifiedRollout) with ``thinking`` as its reasoning, the completion
    rebuilt and its ``completion_tokens`` (the teacher's count, which the length filter
    reads) scaled by the estimated share kept."""
    completion = f"{THINK_OPEN}\n{thinking}\n{THINK_CLOSE}\n\n{(record.answer or '').strip()}"
    tokens = record.completion_tokens
    if tokens:
        tokens = max(1, round(tokens * estimate_tokens(completion) / max(1, estimate_tokens(record.completion or ""))))
    return record._replace(reasoning=thinking, completion=completion, completion_tokens=tokens)


class Pruner:
    """``pruner(record)`` → :class:`Pruned`. ``checker(record, text)`` gives verdict fields
    (the curate verifier); ``filters(record)`` returns the record or a ``Drop`` (the curate
    filters). Both may have ``setup``/``teardown``; picklable before ``setup()``."""

    def __init__(self, config: PruneConfig, checker: Callable, filters: Optional[Callable] = None,
                 namespace: str = "mix"):
        self.config, self.checker, self.filters, self.namespace = config, checker, filters, namespace

    def setup(self) -> None:
        for part in (self.checker, self.filters):
            if part is not None and hasattr(part, "setup"):
                part.setup()

    def teardown(self) -> None:
        for part in (self.checker, self.filters):
            if part is not None and hasattr(part, "teardown"):
                part.teardown()

    def _count(self, reason: str) -> None:
        Metrics.counter(self.namespace, f"prune.{reason}").inc()

    def __call__(self, record) -> Pruned:
        before = estimate_tokens(record.reasoning or "")
        if not self.config.enabled or record.kind not in self.config.kinds or record.verdict != "correct":
            return Pruned(record, before, before, "")
        try:
            pruned = self._prune(record, before)
        except Exception as exc:  # noqa: BLE001 - the original is kept; the reason says why
            pruned = Pruned(record, before, before, f"error: {error_text(exc)}"[:200])
        self._count(pruned.reason.split(":")[0])
        return pruned

    def _prune(self, record, before: int) -> Pruned:
        config = self.config
        cut = prune_reasoning(record.reasoning or "", record.extracted_answer, config.max_reflections,
                              config.gap, config.min_saving)
        if not cut.pruned:
            return Pruned(record, before, before, cut.reason)
        candidate = with_thinking(record, cut.text)
        verdict = self.checker(candidate, candidate.completion)
        if verdict.get("verdict") != "correct":
            return Pruned(record, before, before, "unverified")
        if self.filters is not None:
            kept = self.filters(candidate)
            if kept is not candidate:
                return Pruned(record, before, before, f"filtered_{getattr(kept, 'reason', 'unknown')}")
        return Pruned(candidate, before, cut.tokens_after, "pruned")
