"""The filter step's settings and what a filter measures.

``FilterConfig`` says which filters run and their thresholds; every filter is a
``check_*(record, config) -> Measurement`` function returning the numbers it
measured and, when the record fails, a snake_case reason and a human-readable
detail ("target-language share 0.82 < 0.95"). ``keep`` and ``drop`` build the
two kinds of measurement.
"""
from __future__ import annotations

import dataclasses
from typing import NamedTuple, Optional, Tuple

from schemas.records import VERDICTS
from transforms.filters.kinds import KINDS, NO_OVERRIDES, KindFilters
from transforms.text.prose import normalize_language


@dataclasses.dataclass(frozen=True)
class FilterConfig:
    """Which filters run and their thresholds (a fraction of 1.0 or a count of 0 switches a check off)."""

    drop_truncated: bool = True  # finish reason "length"
    require_answer: bool = True  # an answer section after the reasoning
    keep_verdicts: Tuple[str, ...] = ("correct",)  # verdicts that pass; others are dropped with the verdict as reason
    # format
    check_think_tags: bool = True  # drop repeated, unclosed or reversed <think>/</think>
    require_think: bool = False  # also drop completions with no think tags (a template may open <think> itself)
    require_reasoning: bool = True  # drop empty reasoning
    max_distinct_boxed: int = 1  # distinct \boxed{} answers allowed in the answer section
    # length, in tokens (the record's counts where it has them, else estimated; 0 = no bound)
    min_prompt_tokens: int = 0
    max_prompt_tokens: int = 8192
    min_reasoning_tokens: int = 0
    max_reasoning_tokens: int = 32768
    min_answer_tokens: int = 0
    max_answer_tokens: int = 4096
    # readability
    max_paragraph_words: int = 400  # words (a CJK character counts as one) in one paragraph
    code_free_domains: Tuple[str, ...] = ("math",)  # domains whose traces may not contain code blocks
    max_markdown_per_100_words: float = 10.0  # headings, bullets, bold spans, table rows, rules
    min_markdown_elements: int = 10  # markdown density is judged from this many elements on
    max_garbage_fraction: float = 0.001  # control, private-use, replacement and invisible characters
    # repetition (Gopher-style; fractions of the characters of the reasoning's words)
    max_dup_line_fraction: float = 0.2  # characters in lines seen before
    max_dup_paragraph_fraction: float = 0.2  # characters in paragraphs seen before
    max_top_ngram_fractions: Tuple[float, ...] = (0.20, 0.18, 0.16)  # most frequent n-gram, n = 2, 3, 4
    min_repetition_words: int = 200  # n-gram checks only from this many words on (shorter texts are noisy)
    tail_loop_min_repeats: int = 4  # the trace ends in the same passage repeated this many times...
    tail_loop_min_chars: int = 100  # ...covering at least this many characters
    # language mixing
    check_language: bool = True
    target_language: Optional[str] = None  # None: the record's language, else detected on the prompt
    fallback_language: str = "en"  # when neither the record nor the prompt tells
    min_target_share: float = 0.95  # share of target-language words in reasoning + answer...
    min_share_units: int = 100  # ...judged from this many counted words on (shorter: the run limit alone)
    max_foreign_run_words: int = 4  # longest passage in another language (words; CJK characters)
    min_detect_probability: float = 0.8  # langdetect confidence needed to call a sentence foreign
    # per kind: the settings reasoning and knowledge records change (transforms.filters.kinds)
    by_kind: KindFilters = KindFilters()

    def for_kind(self, kind: str) -> "FilterConfig":
        """The settings of the records of ``kind``: these, with ``by_kind``'s overrides."""
        changes = self.by_kind.of(kind).changes()
        return dataclasses.replace(self, by_kind=NO_OVERRIDES, **changes)

    def __post_init__(self):
        if not self.keep_verdicts:
            raise ValueError("keep_verdicts: keep at least one verdict")
        unknown = [v for v in self.keep_verdicts if v not in VERDICTS]
        if unknown:
            raise ValueError(f"keep_verdicts: unknown verdict(s) {', '.join(map(repr, unknown))}; "
                             f"expected some of {', '.join(VERDICTS)}")
        for name in ("max_distinct_boxed", "min_prompt_tokens", "max_prompt_tokens", "min_reasoning_tokens",
                     "max_reasoning_tokens", "min_answer_tokens", "max_answer_tokens", "max_paragraph_words",
                     "min_markdown_elements", "min_repetition_words", "tail_loop_min_repeats",
                     "tail_loop_min_chars", "max_foreign_run_words", "min_share_units"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must be >= 0, got {getattr(self, name)}")
        for part in ("prompt", "reasoning", "answer"):
            low, high = getattr(self, f"min_{part}_tokens"), getattr(self, f"max_{part}_tokens")
            if high and low > high:
                raise ValueError(f"min_{part}_tokens: {low} is above max_{part}_tokens {high}")
        for name in ("max_garbage_fraction", "max_dup_line_fraction", "max_dup_paragraph_fraction",
                     "min_target_share", "min_detect_probability"):
            _check_fraction(name, getattr(self, name))
        if self.max_markdown_per_100_words < 0:
            raise ValueError(f"max_markdown_per_100_words: must be >= 0, got {self.max_markdown_per_100_words}")
        if len(self.max_top_ngram_fractions) != 3:
            raise ValueError(f"max_top_ngram_fractions: expected 3 fractions (n = 2, 3, 4), "
                             f"got {len(self.max_top_ngram_fractions)}")
        for value in self.max_top_ngram_fractions:
            _check_fraction("max_top_ngram_fractions", value)
        if self.target_language is not None and not normalize_language(self.target_language):
            raise ValueError(f"target_language: expected a language code like 'en', got {self.target_language!r}")
        if not normalize_language(self.fallback_language):
            raise ValueError(f"fallback_language: expected a language code like 'en', got {self.fallback_language!r}")
        if self.by_kind != NO_OVERRIDES:
            for kind in KINDS:
                try:
                    self.for_kind(kind)
                except ValueError as exc:
                    raise ValueError(f"by_kind: {kind}: {exc}") from None


def _check_fraction(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}: must be between 0 and 1, got {value}")


DEFAULT_CONFIG = FilterConfig()


class Measurement(NamedTuple):
    """What a check measured; ``reason`` is None when the record passes."""

    reason: Optional[str]
    detail: str
    numbers: dict


def keep(detail: str = "", /, **numbers) -> Measurement:
    """A pass; ``detail`` only for a note (the numbers speak for themselves)."""
    return Measurement(None, detail, numbers)


def drop(reason: str, detail: str, /, **numbers) -> Measurement:
    return Measurement(reason, detail, numbers)
