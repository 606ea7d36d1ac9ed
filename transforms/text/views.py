"""Views of a record's text: what a reader sees (reasoning and answer), its paragraphs,
its prose without LaTeX and code, and its word tokens, each derived once and shared by
every rule that reads it.

Beam-free. Records are read by attribute and may lack fields (bare rows): a missing
or non-string field reads as empty text."""
from __future__ import annotations

import functools
import re
from typing import List

from transforms.text.length import count_words
from transforms.text.prose import non_ascii_of_utf8, prose_text, word_tokens

_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
#: A line that starts with a space or tab (looked for first: a pattern that starts with one
#: literal character scans fast).
_HAS_INDENTED_LINE = re.compile(r"\n(?=[ \t])").search


def field_text(record, name: str) -> str:
    """The record's text field ``name``, or "" when it is missing or not a string."""
    value = getattr(record, name, None)
    return value if isinstance(value, str) else ""


def paragraphs(text: str) -> List[str]:
    """``text`` cut at blank lines (lines of only spaces or tabs count as blank)."""
    if _HAS_INDENTED_LINE(text):
        return _PARAGRAPH_BREAK.split(text)
    return text.split("\n\n")


class TraceView:
    """A record plus the derived text its rules share, each computed once on first use.

    Attributes not defined here are the record's; a rule given a bare record
    wraps it itself (``view``)."""

    def __init__(self, record):
        self.record = record

    def __getattr__(self, name):
        if name == "record":  # not set yet (e.g. while unpickling)
            raise AttributeError(name)
        value = getattr(self.record, name)
        self.__dict__[name] = value  # records are immutable: later reads skip this method
        return value

    @functools.cached_property
    def visible(self) -> str:
        """Reasoning and answer, as a reader sees them."""
        reasoning, answer = field_text(self.record, "reasoning"), field_text(self.record, "answer")
        return f"{reasoning}\n\n{answer}" if answer else reasoning

    @functools.cached_property
    def visible_utf8(self) -> bytes:
        """The visible text as UTF-8 (lone surrogates passed through)."""
        return self.visible.encode("utf-8", "surrogatepass")

    @functools.cached_property
    def non_ascii(self) -> str:
        """The visible text's non-ASCII characters (``non_ascii_chars``)."""
        return "" if self.visible.isascii() else non_ascii_of_utf8(self.visible_utf8)

    @functools.cached_property
    def has_cjk(self) -> bool:
        return _CJK_CHAR.search(self.non_ascii) is not None

    @functools.cached_property
    def reasoning_paragraphs(self) -> List[str]:
        return paragraphs(field_text(self.record, "reasoning"))

    @functools.cached_property
    def visible_paragraphs(self) -> List[str]:
        answer = field_text(self.record, "answer")
        return self.reasoning_paragraphs + (paragraphs(answer) if answer else [])

    @functools.cached_property
    def reasoning_prose(self) -> str:
        """The reasoning without LaTeX and code (``prose_text``)."""
        return prose_text(field_text(self.record, "reasoning"))

    @functools.cached_property
    def answer_prose(self) -> str:
        return prose_text(field_text(self.record, "answer"))

    @functools.cached_property
    def visible_prose(self) -> str:
        return f"{self.reasoning_prose}\n\n{self.answer_prose}" if self.answer_prose else self.reasoning_prose

    @functools.cached_property
    def reasoning_tokens(self) -> List[bytes]:
        """``word_tokens`` of the reasoning's prose: the words of the n-gram checks. In CJK
        text (no spaces between words) a token is the run between spaces and ASCII
        punctuation, about a clause, so repetition is found at the clause level there."""
        return word_tokens(self.reasoning_prose)

    @functools.cached_property
    def visible_tokens(self) -> List[bytes]:
        """``word_tokens`` of the visible prose."""
        return self.reasoning_tokens + word_tokens(self.answer_prose)

    @functools.cached_property
    def visible_words(self) -> int:
        """``count_words`` of the visible text (of its prose if there is no CJK)."""
        return count_words(self.visible) if self.has_cjk else len(self.visible_tokens)


def view(record) -> TraceView:
    """``record`` as a TraceView (itself if it already is one)."""
    return record if isinstance(record, TraceView) else TraceView(record)


def visible_text(record) -> str:
    """Reasoning and answer of ``record``, as a reader sees them."""
    return view(record).visible
