"""The shape of a completion: an answer after the reasoning, balanced think tags, non-empty
reasoning, one boxed answer.

``filter_format`` → answer: ``missing_answer``; think_tags: ``unbalanced_think``,
``missing_think``; reasoning: ``empty_reasoning``; boxed: ``conflicting_answers``.
"""
from __future__ import annotations

import re

from transforms.filters.config import DEFAULT_CONFIG, FilterConfig, Measurement, drop, keep
from transforms.text.extract import clean_answer, outer_boxed_contents
from transforms.text.views import field_text

_THINK_TAG = re.compile(r"<(/?)think>")
_BOXED_NOISE = re.compile(r"\s+|\\left|\\right|\\[,;:! ]|\\displaystyle")


def check_missing_answer(record, config: FilterConfig = DEFAULT_CONFIG) -> Measurement:
    """No answer section after the reasoning."""
    chars = len(field_text(record, "answer").strip())
    if not chars:
        return drop("missing_answer", "no answer section after the reasoning", answer_chars=0)
    return keep(answer_chars=chars)


def check_think_tags(record, config: FilterConfig = DEFAULT_CONFIG) -> Measurement:
    """Repeated, unclosed or reversed ``<think>``/``</think>`` (``check_think_tags``); with
    ``require_think``, no tags at all.

    A completion with ``</think>`` and no ``<think>`` is fine: chat templates often open it."""
    completion = getattr(record, "completion", None)
    if not isinstance(completion, str):
        return keep("no completion in the input", opens=None, closes=None)
    tags = _THINK_TAG.findall(completion) if "<" in completion else []  # "" per <think>, "/" per </think>
    opens, closes = len(tags) - tags.count("/"), tags.count("/")
    numbers = dict(opens=opens, closes=closes)
    if config.require_think and closes == 0 and opens == 0:
        return drop("missing_think", "no <think>/</think> and require_think is set", **numbers)
    if not config.check_think_tags:
        return keep(**numbers)
    if opens > 1 or closes > 1:
        return drop("unbalanced_think", f"{opens} <think> and {closes} </think> (at most one each)", **numbers)
    if opens == 1 and closes == 0:
        return drop("unbalanced_think", "<think> is never closed", **numbers)
    if opens == 1 and tags[0] == "/":
        return drop("unbalanced_think", "</think> comes before <think>", **numbers)
    return keep(**numbers)


def check_empty_reasoning(record, config: FilterConfig = DEFAULT_CONFIG) -> Measurement:
    """No thinking before the answer."""
    chars = len(field_text(record, "reasoning").strip())
    if not chars:
        return drop("empty_reasoning", "the reasoning is empty", reasoning_chars=0)
    return keep(reasoning_chars=chars)


def normalize_boxed(content: str) -> str:
    """A boxed answer in a comparable form: no spacing, delimiters, sizing or trailing period."""
    cleaned = clean_answer(content, keep_expression=True)
    return _BOXED_NOISE.sub("", cleaned).replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")


def check_conflicting_answers(record, config: FilterConfig = DEFAULT_CONFIG) -> Measurement:
    """Several different ``\\boxed{}`` answers in the answer section (a box inside
    another is part of that one's answer: linear however deeply boxes nest)."""
    answer = field_text(record, "answer")
    boxed = outer_boxed_contents(answer)
    distinct = list(dict.fromkeys(map(normalize_boxed, boxed))) if len(boxed) > 1 else boxed  # one is distinct
    numbers = dict(distinct_boxed=len(distinct), max_distinct_boxed=config.max_distinct_boxed)
    if config.max_distinct_boxed and len(distinct) > config.max_distinct_boxed:
        shown = ", ".join(distinct[:4])
        return drop("conflicting_answers", f"{len(distinct)} different boxed answers > "
                                           f"{config.max_distinct_boxed}: {shown}", boxed=distinct[:4], **numbers)
    return keep(**numbers)
