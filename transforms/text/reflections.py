"""Where a chain of thought first reaches its final answer, and the re-checks after it.

Long chains of thought often find the answer, state it, and then check it again and
again ("Let me double-check…", "Wait, let me verify…"), each pass restating the same
answer. :func:`prune_reasoning` keeps the thinking up to the first statement of the
final answer plus at most ``max_reflections`` further passes that restate it, and cuts
the rest (the first correct solution plus one reflection, as Sky-T1-Flash did).

Rules over the text only (Beam-free, no model): the thinking is split into paragraphs
(blank lines); a paragraph *states* the answer when its compact form (no spaces, maths
delimiters or sizing macros) contains the answer's compact form as a whole token (a
number not inside a longer number). Paragraphs stating the answer with at most ``gap``
other paragraphs between them are one *statement* (one pass). Whether the cut is safe
is decided by the caller: the curate step re-verifies the kept text and runs the
filters on the pruned trace, and keeps the original when either fails.
"""
from __future__ import annotations

import re
import typing
from fractions import Fraction
from typing import FrozenSet, List, Optional, Tuple

from transforms.text.extract import clean_answer
from transforms.text.length import estimate_tokens

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_DROPPED = ("\\displaystyle", "\\left", "\\right", "\\!", "\\,", "\\;", "\\:", "\\ ", "\\(", "\\)",
            "\\[", "\\]", "$", "**")
_RENAMED = (("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("{,}", ","), ("\u2212", "-"), ("−", "-"))
_SPACE = re.compile(r"\s+")
#: The shortest answer key matched without number boundaries on both sides.
MIN_FREE_KEY = 3


class Cut(typing.NamedTuple):
    """What pruning found and kept in one chain of thought."""

    text: str  # the kept thinking (the input when nothing was cut)
    reason: str  # pruned | no_statement | few_statements | small_saving | no_answer
    statements: int  # passes that state the final answer
    kept_statements: int
    tokens_before: int
    tokens_after: int
    last_statement: str  # the last kept paragraph that states the answer ("" when none)

    @property
    def pruned(self) -> bool:
        return self.reason == "pruned"


def compact(text: str) -> str:
    """``text`` without whitespace, maths delimiters and sizing macros (``\\left``…)."""
    for old, new in _RENAMED:
        text = text.replace(old, new)
    for dropped in _DROPPED:
        text = text.replace(dropped, "")
    return _SPACE.sub("", text)


def answer_key(answer: str) -> str:
    """The compact form of a final answer as the trace would state it ("" when empty)."""
    return compact(clean_answer(answer or "")) if answer and answer.strip() else ""


def _is_number_char(ch: str) -> bool:
    return ch.isdigit() or ch == "."


def states_answer(paragraph_compact: str, key: str) -> bool:
    """Whether the compact paragraph holds ``key`` as a whole token: not inside a longer
    number or word ("9" is not stated by "196", "9.8" or "x9")."""
    if not key:
        return False
    start = paragraph_compact.find(key)
    while start != -1:
        before = paragraph_compact[start - 1] if start else ""
        after = paragraph_compact[start + len(key): start + len(key) + 2]
        free = len(key) >= MIN_FREE_KEY and not key[0].isalnum() and not key[-1].isalnum()
        ok_before = free or not before or not (before.isalnum() or (before == "." and key[0].isdigit()))
        ok_after = free or not after or not (after[0].isalnum() or (
            after[0] == "." and len(after) > 1 and after[1].isdigit()) or (
            key[-1].isdigit() and _is_number_char(after[0]) and after[0] != "."))
        if ok_before and ok_after:
            return True
        start = paragraph_compact.find(key, start + 1)
    return False


_FRAC = re.compile(r"\\[dt]?frac\s*\{\s*(-?\d+)\s*\}\s*\{\s*(\d+)\s*\}")
#: "1.5 \\times 10^{-7}", "1.5 × 10^-7", "1.5 \\cdot 10^{-7}" → "1.5e-7".
_SCIENTIFIC = re.compile(r"(\d+(?:\.\d+)?)\s*(?:\\times|\\cdot|×|\*)\s*10\s*\^\s*\{?\s*([-+]?\d+)\s*\}?")
_NUMBER_TOKEN = re.compile(r"(?<![\w.^_])-?\d+(?:,\d{3})*(?:\.\d+)?(?:/\d+|e[-+]?\d+)?(?![\d])")
_KEY_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:/\d+|e[-+]?\d+)?")


def _numeric_text(text: str) -> str:
    """Fractions and scientific notation written as plain numbers ("3/4", "1.5e-7")."""
    return _SCIENTIFIC.sub(r"\1e\2", _FRAC.sub(r"\1/\2", text))


def _as_number(text: str) -> Optional[Fraction]:
    try:
        return Fraction(text.replace(",", ""))
    except (ValueError, ZeroDivisionError):
        return None


def key_numbers(answer: str) -> Optional[FrozenSet[Fraction]]:
    """The numbers of an answer that is a number or a list of numbers ("9", "-2, 1",
    "\\frac{3}{4}", "15,625"), else None."""
    text = _numeric_text(clean_answer(answer or ""))
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)
    items = [item.strip() for item in text.split(",")]
    if not items or not all(_KEY_NUMBER.fullmatch(item) for item in items):
        return None
    numbers = [_as_number(item) for item in items]
    return frozenset(n for n in numbers if n is not None) if all(n is not None for n in numbers) else None


def paragraph_numbers(paragraph: str) -> FrozenSet[Fraction]:
    """Every whole number token of a paragraph ("15,625" is one; "5.93" is not 5)."""
    text = _numeric_text(paragraph)
    found = (_as_number(token) for token in _NUMBER_TOKEN.findall(text))
    return frozenset(n for n in found if n is not None)


_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+|\n")


def sentences(paragraph: str) -> List[str]:
    """The sentences (and lines) of a paragraph."""
    return [part for part in _SENTENCE_END.split(paragraph) if part.strip()]


def concludes(paragraph: str, key: str, numbers: Optional[FrozenSet[Fraction]]) -> bool:
    """Whether a sentence of ``paragraph`` ends on the answer: for a numeric answer, its
    last number is one of the answer's and it holds them all; otherwise the answer's
    compact form is in it with no digit after it (a unit may follow)."""
    for sentence in sentences(paragraph):
        if numbers:
            tokens = [_as_number(t) for t in _NUMBER_TOKEN.findall(_numeric_text(sentence))]
            if tokens and tokens[-1] in numbers and numbers <= frozenset(tokens):
                return True
            continue
        packed = compact(sentence)
        at = packed.rfind(key)
        if at != -1 and states_answer(packed, key) and not any(ch.isdigit() for ch in packed[at + len(key):]):
            return True
    return False


def paragraphs(text: str) -> List[str]:
    """The paragraphs of ``text`` (split at blank lines), each with its trailing break."""
    parts, last = [], 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        parts.append(text[last:match.end()])
        last = match.end()
    if last < len(text):
        parts.append(text[last:])
    return parts


def statements(parts: List[str], key: str, gap: int = 1, answer: Optional[str] = None) -> List[Tuple[int, int]]:
    """(first, last) paragraph index of each statement of ``key``: paragraphs stating it
    with at most ``gap`` other paragraphs between them form one. A numeric ``answer``
    (a number or a list of them) is stated by a paragraph holding all its numbers."""
    numbers = key_numbers(answer) if answer is not None else None
    bearing = [i for i, part in enumerate(parts) if concludes(part, key, numbers)]
    groups: List[Tuple[int, int]] = []
    for i in bearing:
        if groups and i - groups[-1][1] <= gap + 1:
            groups[-1] = (groups[-1][0], i)
        else:
            groups.append((i, i))
    return groups


def prune_reasoning(thinking: str, final_answer: Optional[str], max_reflections: int = 1, gap: int = 1,
                    min_saving: float = 0.1) -> Cut:
    """The thinking up to the end of statement ``1 + max_reflections`` of ``final_answer``
    (see the module docstring); the input whole, with why, when there is nothing to cut
    or the cut would save less than ``min_saving`` of its estimated tokens."""
    before = estimate_tokens(thinking)
    key = answer_key(final_answer or "")
    if not key:
        return Cut(thinking, "no_answer", 0, 0, before, before, "")
    parts = paragraphs(thinking)
    found = statements(parts, key, gap, final_answer)
    if not found:
        return Cut(thinking, "no_statement", 0, 0, before, before, "")
    keep = min(len(found), 1 + max_reflections)
    last = parts[found[keep - 1][1]].strip()
    if len(found) <= keep:
        return Cut(thinking, "few_statements", len(found), len(found), before, before, last)
    kept = "".join(parts[:found[keep - 1][1] + 1]).rstrip()
    after = estimate_tokens(kept)
    if before and (before - after) / before < min_saving:
        return Cut(thinking, "small_saving", len(found), len(found), before, before, last)
    return Cut(kept, "pruned", len(found), keep, before, after, last)
