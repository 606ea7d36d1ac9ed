"""The ordered filter list: which checks a config enables, bound to it, in the order they run.

A ``Filter`` is one configured check; called on a record it is the plain rule form
(``None`` to keep, ``(reason, detail)`` to drop). ``first_failure`` runs a list of
rules and names the first that drops a record, with its step.

Filters, in order (step → filter: reasons):

- ``filter_truncation`` → truncation: ``truncated`` (finish reason ``length``)
- ``filter_verdict`` → verdict: the verdict itself (``incorrect``, ``no_answer``, …)
- ``filter_format`` → answer: ``missing_answer``; think_tags: ``unbalanced_think``,
  ``missing_think``; reasoning: ``empty_reasoning``; boxed: ``conflicting_answers``
- ``filter_length`` → length: ``{prompt,reasoning,answer}_too_{short,long}``
- ``filter_readability`` → paragraphs: ``long_paragraph``; code: ``code_in_math``;
  markdown: ``markdown_overuse``; characters: ``garbage_characters``
- ``filter_repetition`` → tail_loop: ``looping_tail``; paragraph_repeats:
  ``repeated_paragraphs``; lines: ``repeated_lines``; ngrams: ``repeated_ngrams``
- ``filter_language`` → language: ``language_mixing`` (see ``transforms.text.mixing``)

"Answer section missing" (readability) is ``missing_answer``. The checks of one
record share derived text (prose without LaTeX, word tokens, paragraphs) through a
``TraceView`` (``transforms.text.views``).
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Callable, List, Optional, Tuple, cast

from transforms.filters.completion import check_length, check_truncated, check_verdict
from transforms.filters.config import FilterConfig, Measurement
from transforms.filters.format import (
    check_conflicting_answers,
    check_empty_reasoning,
    check_missing_answer,
    check_think_tags,
)
from transforms.filters.language import check_language_mixing
from transforms.filters.readability import (
    check_code_in_math,
    check_garbage_characters,
    check_long_paragraph,
    check_markdown_overuse,
)
from transforms.filters.repetition import (
    check_looping_tail,
    check_ngram_repetition,
    check_repeated_lines,
    check_repeated_paragraphs,
)
from transforms.text.language import LanguageIdentifier
from transforms.text.mixing import MixingMeter
from transforms.text.views import view

#: A rule: record → None (keep) or (reason, detail).
Rule = Callable[[object], Optional[Tuple[str, str]]]


@dataclasses.dataclass(frozen=True)
class Filter:
    """One configured check; calling it on a record is the plain rule form."""

    name: str
    step: str
    check: Callable[[object], Measurement]

    def __call__(self, record) -> Optional[Tuple[str, str]]:
        measured = self.check(view(record))
        return None if measured.reason is None else (measured.reason, measured.detail)


#: (name, step, check, enabled(config)) for every filter except language mixing, in order.
_CHECKS = (
    ("truncation", "filter_truncation", check_truncated, lambda c: c.drop_truncated),
    ("verdict", "filter_verdict", check_verdict, lambda c: True),
    ("answer", "filter_format", check_missing_answer, lambda c: c.require_answer),
    ("think_tags", "filter_format", check_think_tags, lambda c: c.check_think_tags or c.require_think),
    ("reasoning", "filter_format", check_empty_reasoning, lambda c: c.require_reasoning),
    ("boxed", "filter_format", check_conflicting_answers, lambda c: c.max_distinct_boxed > 0),
    ("length", "filter_length", check_length, lambda c: True),
    ("paragraphs", "filter_readability", check_long_paragraph, lambda c: c.max_paragraph_words > 0),
    ("code", "filter_readability", check_code_in_math, lambda c: bool(c.code_free_domains)),
    ("markdown", "filter_readability", check_markdown_overuse, lambda c: True),
    ("characters", "filter_readability", check_garbage_characters, lambda c: True),
    ("tail_loop", "filter_repetition", check_looping_tail, lambda c: c.tail_loop_min_repeats > 0),
    ("paragraph_repeats", "filter_repetition", check_repeated_paragraphs, lambda c: True),
    ("lines", "filter_repetition", check_repeated_lines, lambda c: True),
    ("ngrams", "filter_repetition", check_ngram_repetition, lambda c: True),
)


def filters_for(config: FilterConfig, identifier: Optional[LanguageIdentifier] = None) -> List[Filter]:
    """The filters a config enables, in the order they run.

    ``identifier`` (loaded in ``DoFn.setup()``) serves language mixing; without one a
    new identifier loads its profiles on first use."""
    filters = [Filter(name, step, _bind(check, config)) for name, step, check, enabled in _CHECKS if enabled(config)]
    if config.check_language:
        meter = MixingMeter(identifier or LanguageIdentifier(), config.max_foreign_run_words,
                            config.min_detect_probability)
        filters.append(Filter("language", "filter_language",
                              functools.partial(check_language_mixing, config=config, meter=meter)))
    return filters


def _bind(check, config: FilterConfig) -> Callable[[object], Measurement]:
    return functools.partial(check, config=config)


def rules_for(config: FilterConfig, identifier: Optional[LanguageIdentifier] = None) -> List[Tuple[str, Rule]]:
    """The (step name, rule) list a config enables, in the order they run."""
    return [(f.step, f) for f in filters_for(config, identifier)]


def first_failure(record, rules: List[Tuple[str, Rule]]) -> Optional[Tuple[str, str, str]]:
    """(step, reason, detail) of the first rule that drops the record, or None."""
    record = view(record)
    for step, rule in rules:
        if type(rule) is Filter:  # the check itself: the record is a view already
            measured = rule.check(record)
            if measured.reason is not None:
                return step, measured.reason, measured.detail
            continue
        result = rule(record)
        if result is not None:
            return cast(Tuple[str, str, str], (step,) + tuple(result))
    return None


# -- plain rules kept for callers of the first version ----------------------------------------------


def truncated(record) -> Optional[Tuple[str, str]]:
    """Drop completions cut off by the token limit."""
    return Filter("truncation", "filter_truncation", check_truncated)(record)


def missing_answer(record) -> Optional[Tuple[str, str]]:
    """Drop completions with no answer after the reasoning."""
    return Filter("answer", "filter_format", check_missing_answer)(record)


def verdict_not_kept(keep: Tuple[str, ...]) -> Rule:
    """A rule dropping verdicts outside ``keep`` (the verdict is the reason)."""
    return Filter("verdict", "filter_verdict", _bind(check_verdict, FilterConfig(keep_verdicts=tuple(keep))))
