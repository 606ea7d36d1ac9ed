"""Filters: quality rules on verified rollouts, each explained, applied by ``FilterRollouts``.

Every filter is a ``check_*(record, config) -> Measurement`` function: the
numbers it measured and, when the record fails, a snake_case reason and a
human-readable detail ("target-language share 0.82 < 0.95"). ``filters_for``
binds the checks a config enables into ``Filter`` objects, in the order they
run; a ``Filter`` called on a record is the plain rule form (``None`` to keep,
``(reason, detail)`` to drop). ``FilterRollouts`` drops a record at its first
failing filter: a Rejection (stage ``curate``, the filter's step, reason and
detail) and a ``dropped_<reason>`` counter. ``explain_record``/``explain_file``
run every filter and report each decision with its numbers.

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
- ``filter_language`` → language: ``language_mixing`` (see ``transforms.text.language``)

"Answer section missing" (readability) is ``missing_answer``. Records are read by
attribute and may lack fields (``explain`` reads bare rows): a check whose input
is missing keeps the record and says so. The checks of one record share derived
text (prose without LaTeX, word tokens, paragraphs) through a ``TraceView``.
"""
from __future__ import annotations

import collections
import dataclasses
import functools
import itertools
import math
import operator
import re
from typing import Callable, Dict, Iterator, List, NamedTuple, Optional, Tuple

import apache_beam as beam

from schemas.records import VERDICTS, VerifiedRollout, from_dict
from transforms.core import DEAD, REJECTED, StageOutputs, error_text, make_dead_letter, make_rejection
from transforms.text.extract import boxed_contents, clean_answer, split_reasoning
from transforms.core.io import read_records
from transforms.text.language import (LanguageIdentifier, MixingMeter, detect_prompt_language, non_ascii_of_utf8,
                                normalize_language, prose_text, word_tokens)

#: A rule: record → None (keep) or (reason, detail).
Rule = Callable[[object], Optional[Tuple[str, str]]]


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


def _check_fraction(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}: must be between 0 and 1, got {value}")


DEFAULT_CONFIG = FilterConfig()


class Measurement(NamedTuple):
    """What a check measured; ``reason`` is None when the record passes."""

    reason: Optional[str]
    detail: str
    numbers: dict


def _keep(detail: str = "", **numbers) -> Measurement:
    """A pass; ``detail`` only for a note (the numbers speak for themselves)."""
    return Measurement(None, detail, numbers)


def _drop(reason: str, detail: str, **numbers) -> Measurement:
    return Measurement(reason, detail, numbers)


def _text(record, name: str) -> str:
    value = getattr(record, name, None)
    return value if isinstance(value, str) else ""


_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


class TraceView:
    """A record plus the derived text its filters share, each computed once on first use.

    Attributes not defined here are the record's; a check given a bare record
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
        reasoning, answer = _text(self.record, "reasoning"), _text(self.record, "answer")
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
        return paragraphs(_text(self.record, "reasoning"))

    @functools.cached_property
    def visible_paragraphs(self) -> List[str]:
        answer = _text(self.record, "answer")
        return self.reasoning_paragraphs + (paragraphs(answer) if answer else [])

    @functools.cached_property
    def reasoning_prose(self) -> str:
        """The reasoning without LaTeX and code (``prose_text``)."""
        return prose_text(_text(self.record, "reasoning"))

    @functools.cached_property
    def answer_prose(self) -> str:
        return prose_text(_text(self.record, "answer"))

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


def _visible(record) -> str:
    return view(record).visible


# -- truncation, verdict, format ---------------------------------------------------------------


def check_truncated(record, config: FilterConfig = DEFAULT_CONFIG) -> Measurement:
    """Completions cut off by the token limit."""
    finish = getattr(record, "finish_reason", None)
    numbers = dict(finish_reason=finish, completion_tokens=getattr(record, "completion_tokens", None),
                   max_tokens=getattr(record, "max_tokens", None))
    if finish == "length":
        return Measurement("truncated", f"finish_reason=length at {numbers['completion_tokens']} tokens "
                                        f"(max_tokens={numbers['max_tokens']})", numbers)
    return Measurement(None, "", numbers)


def check_verdict(record, config: FilterConfig = DEFAULT_CONFIG) -> Measurement:
    """Verdicts outside ``keep_verdicts``; the verdict is the reason."""
    verdict = getattr(record, "verdict", None)
    if verdict is None:
        return _keep("not verified: no verdict", verdict=None)
    if verdict not in config.keep_verdicts:
        return _drop(verdict, f"verdict={verdict} (extracted={getattr(record, 'extracted_answer', None)!r}, "
                              f"reference={getattr(record, 'reference_answer', None)!r}): "
                              f"{getattr(record, 'verdict_reason', '')}", verdict=verdict)
    return _keep(verdict=verdict)


def check_missing_answer(record, config: FilterConfig = DEFAULT_CONFIG) -> Measurement:
    """No answer section after the reasoning."""
    chars = len(_text(record, "answer").strip())
    if not chars:
        return _drop("missing_answer", "no answer section after the reasoning", answer_chars=0)
    return _keep(answer_chars=chars)


def check_think_tags(record, config: FilterConfig = DEFAULT_CONFIG) -> Measurement:
    """Repeated, unclosed or reversed ``<think>``/``</think>`` (``check_think_tags``); with
    ``require_think``, no tags at all.

    A completion with ``</think>`` and no ``<think>`` is fine: chat templates often open it."""
    completion = getattr(record, "completion", None)
    if not isinstance(completion, str):
        return _keep("no completion in the input", opens=None, closes=None)
    tags = _THINK_TAG.findall(completion) if "<" in completion else []  # "" per <think>, "/" per </think>
    opens, closes = len(tags) - tags.count("/"), tags.count("/")
    numbers = dict(opens=opens, closes=closes)
    if config.require_think and closes == 0 and opens == 0:
        return _drop("missing_think", "no <think>/</think> and require_think is set", **numbers)
    if not config.check_think_tags:
        return _keep(**numbers)
    if opens > 1 or closes > 1:
        return _drop("unbalanced_think", f"{opens} <think> and {closes} </think> (at most one each)", **numbers)
    if opens == 1 and closes == 0:
        return _drop("unbalanced_think", "<think> is never closed", **numbers)
    if opens == 1 and tags[0] == "/":
        return _drop("unbalanced_think", "</think> comes before <think>", **numbers)
    return _keep(**numbers)


def check_empty_reasoning(record, config: FilterConfig = DEFAULT_CONFIG) -> Measurement:
    """No thinking before the answer."""
    chars = len(_text(record, "reasoning").strip())
    if not chars:
        return _drop("empty_reasoning", "the reasoning is empty", reasoning_chars=0)
    return _keep(reasoning_chars=chars)


_THINK_TAG = re.compile(r"<(/?)think>")
_BOXED_NOISE = re.compile(r"\s+|\\left|\\right|\\[,;:! ]|\\displaystyle")


def normalize_boxed(content: str) -> str:
    """A boxed answer in a comparable form: no spacing, delimiters, sizing or trailing period."""
    cleaned = clean_answer(content, keep_expression=True)
    return _BOXED_NOISE.sub("", cleaned).replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")


def check_conflicting_answers(record, config: FilterConfig = DEFAULT_CONFIG) -> Measurement:
    """Several different ``\\boxed{}`` answers in the answer section."""
    answer = _text(record, "answer")
    boxed = boxed_contents(answer)
    distinct = list(dict.fromkeys(map(normalize_boxed, boxed))) if len(boxed) > 1 else boxed  # one is distinct
    numbers = dict(distinct_boxed=len(distinct), max_distinct_boxed=config.max_distinct_boxed)
    if config.max_distinct_boxed and len(distinct) > config.max_distinct_boxed:
        shown = ", ".join(distinct[:4])
        return _drop("conflicting_answers", f"{len(distinct)} different boxed answers > "
                                            f"{config.max_distinct_boxed}: {shown}", boxed=distinct[:4], **numbers)
    return _keep(**numbers)


# -- length -----------------------------------------------------------------------------------------

def estimate_tokens(text: str) -> int:
    """A tokenizer-free token count: one per wide character (CJK, most symbols: three
    UTF-8 bytes, counted from the encoded length), one per four other characters."""
    if not text:
        return 0
    wide = 0 if text.isascii() else (len(text.encode("utf-8", "replace")) - len(text)) // 2
    return wide + math.ceil((len(text) - wide) / 4)


def token_lengths(record) -> Tuple[Dict[str, int], str]:
    """Tokens of the prompt, reasoning and answer, and how they were counted.

    The record's ``prompt_tokens`` and ``completion_tokens`` are used when set (the
    completion's split between reasoning and answer is estimated); otherwise all
    three are estimated with ``estimate_tokens``."""
    prompt_tokens = getattr(record, "prompt_tokens", None) or 0
    completion_tokens = getattr(record, "completion_tokens", None) or 0
    est = {part: estimate_tokens(_text(record, part)) for part in ("prompt", "reasoning", "answer")}
    method = "estimated"
    if prompt_tokens > 0:
        est["prompt"], method = prompt_tokens, "counted"
    both = est["reasoning"] + est["answer"]
    if completion_tokens > 0 and both:
        est["reasoning"] = round(completion_tokens * est["reasoning"] / both)
        est["answer"] = completion_tokens - est["reasoning"]
        method = "counted" if method == "counted" else "mixed"
    return est, method


def check_length(record, config: FilterConfig = DEFAULT_CONFIG) -> Measurement:
    """Token-length bounds on the prompt, the reasoning and the answer."""
    tokens, method = token_lengths(record)
    numbers = dict({f"{part}_tokens": n for part, n in tokens.items()}, tokens_from=method)
    for part in ("prompt", "reasoning", "answer"):
        n, low, high = tokens[part], getattr(config, f"min_{part}_tokens"), getattr(config, f"max_{part}_tokens")
        if n < low:
            return _drop(f"{part}_too_short", f"{part} {n} tokens < min_{part}_tokens {low}", **numbers)
        if high and n > high:
            return _drop(f"{part}_too_long", f"{part} {n} tokens > max_{part}_tokens {high}", **numbers)
    return _keep(**numbers)


# -- readability -------------------------------------------------------------------------------------

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
#: Markers looked for before the expressions run (see ``prose_text``: a pattern that starts
#: with one literal character scans fast; ``"**" in text`` costs ~4 µs on 5 KB).
_HAS_INDENTED_LINE = re.compile(r"\n(?=[ \t])").search
_HAS_BACKTICKS = re.compile(r"`(?=``)").search
_HAS_TILDES = re.compile(r"~(?=~~)").search
_HAS_STARS = re.compile(r"\*(?=\*)").search
_HAS_UNDERSCORES = re.compile(r"_(?=_)").search
_CODE_FENCE = re.compile(r"^[ \t]*(?:```|~~~)", re.M)
#: Line-level markdown (after a line break): a heading, a bullet, a table row or a rule.
_MARKDOWN_LINE = re.compile(r"\n[ \t]*(?:#{1,6}[ \t]|[-*+][ \t]+\S|\|.*\||(?:-{3,}|\*{3,}|_{3,})[ \t]*$)", re.M)
_MARKDOWN_BOLD = re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__")
#: Every byte but the ASCII controls (not tab or line breaks): deleting them leaves those controls.
_NOT_ASCII_CONTROL = bytes(sorted(set(range(256)) - set(range(0x00, 0x09)) - {0x0b, 0x0c}
                                  - set(range(0x0e, 0x20)) - {0x7f}))
#: C0/C1 controls (not tab or newlines), invisible format characters, private use,
#: lone surrogates, the replacement character and other specials.
_GARBAGE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u206a-\u206f"
    "\ufeff\ue000-\uf8ff\ud800-\udfff\ufff0-\ufffd\U000f0000-\U0010ffff]")
def paragraphs(text: str) -> List[str]:
    """``text`` cut at blank lines (lines of only spaces or tabs count as blank)."""
    if _HAS_INDENTED_LINE(text):
        return _PARAGRAPH_BREAK.split(text)
    return text.split("\n\n")


def count_words(text: str) -> int:
    """Words separated by whitespace; a wide character (three UTF-8 bytes: CJK) counts as a
    word of its own. Approximate for other non-ASCII text (about one word per two letters)."""
    if text.isascii():
        return len(text.split())
    extra_bytes = len(text.encode("utf-8", "replace")) - len(text)
    return len(text.encode("ascii", "ignore").split()) + extra_bytes // 2


def check_long_paragraph(record, config: FilterConfig = DEFAULT_CONFIG) -> Measurement:
    """A paragraph (text between blank lines) longer than ``max_paragraph_words``.

    The number reported is the word count of the longest paragraph in characters or,
    when one is over the limit, of the one with the most words. An ASCII paragraph
    has at most half its characters (rounded up) in words, any other at most twice
    its characters (``count_words``), so only paragraphs that could be over the
    limit are counted."""
    v = view(record)
    limit = config.max_paragraph_words
    parts = v.visible_paragraphs
    longest = count_words(max(parts, key=len))
    if limit:
        for part in parts:
            size = len(part)
            if (size + 1) // 2 > limit or 2 * size > limit and not part.isascii():
                longest = max(longest, count_words(part))
    numbers = dict(longest_paragraph_words=longest, max_paragraph_words=limit)
    if limit and longest > limit:
        return _drop("long_paragraph", f"paragraph of {longest} words > {limit}", **numbers)
    return _keep(**numbers)


def check_code_in_math(record, config: FilterConfig = DEFAULT_CONFIG) -> Measurement:
    """Fenced code blocks in a trace of a domain in ``code_free_domains``."""
    text = _visible(record)
    domain = getattr(record, "domain", None)
    fences = len(_CODE_FENCE.findall(text)) if ("`" in text and _HAS_BACKTICKS(text)
                                                      or "~" in text and _HAS_TILDES(text)) else 0
    numbers = dict(domain=domain, code_fences=fences)
    if domain in config.code_free_domains and fences:
        return _drop("code_in_math", f"{fences} code fence(s) in a {domain} trace", **numbers)
    return _keep(**numbers)


def check_markdown_overuse(record, config: FilterConfig = DEFAULT_CONFIG) -> Measurement:
    """Headings, bullets, bold spans and tables denser than ``max_markdown_per_100_words``."""
    v = view(record)
    text = v.visible
    elements = len(_MARKDOWN_LINE.findall("\n" + text))  # a literal first character: a fast scan
    if "*" in text and _HAS_STARS(text) or "_" in text and _HAS_UNDERSCORES(text):
        elements += len(_MARKDOWN_BOLD.findall(text))
    words = v.visible_words
    density = round(100.0 * elements / words, 2) if words else 0.0
    numbers = dict(markdown_elements=elements, words=words, markdown_per_100_words=density)
    if elements >= max(config.min_markdown_elements, 1) and density > config.max_markdown_per_100_words:
        return _drop("markdown_overuse", f"{elements} markdown elements, {density} per 100 words > "
                                         f"{config.max_markdown_per_100_words}", **numbers)
    return _keep(**numbers)


def check_garbage_characters(record, config: FilterConfig = DEFAULT_CONFIG) -> Measurement:
    """Control, invisible, private-use and replacement characters above ``max_garbage_fraction``
    (a single stray one is tolerated)."""
    v = view(record)
    text = v.visible
    found = list(v.visible_utf8.translate(None, _NOT_ASCII_CONTROL).decode("ascii")) + _GARBAGE.findall(v.non_ascii)
    fraction = len(found) / len(text) if text else 0.0
    numbers = dict(garbage_chars=len(found), garbage_fraction=round(fraction, 6))
    if len(found) > 1 and fraction > config.max_garbage_fraction:
        shown = " ".join(sorted({f"U+{ord(c):04X}" for c in found})[:5])
        return _drop("garbage_characters", f"{len(found)} garbage characters ({shown}), fraction "
                                           f"{fraction:.4f} > {config.max_garbage_fraction}", **numbers)
    return _keep(**numbers)


# -- repetition --------------------------------------------------------------------------------------



def duplicate_fraction(parts: List[str]) -> float:
    """Characters in parts that repeat an earlier part, over all characters (Gopher)."""
    parts = list(filter(None, map(str.strip, parts)))
    if len(set(parts)) == len(parts):
        return 0.0
    total = sum(map(len, parts))
    seen, repeated = set(), 0
    for part in parts:
        if part in seen:
            repeated += len(part)
        else:
            seen.add(part)
    return repeated / total


def check_repeated_lines(record, config: FilterConfig = DEFAULT_CONFIG) -> Measurement:
    """Lines of the reasoning repeated verbatim, as a fraction of its characters."""
    fraction = duplicate_fraction(_text(record, "reasoning").split("\n"))
    numbers = dict(dup_line_fraction=round(fraction, 4), max_dup_line_fraction=config.max_dup_line_fraction)
    if fraction > config.max_dup_line_fraction:
        return _drop("repeated_lines", f"repeated-line fraction {fraction:.3f} > {config.max_dup_line_fraction}",
                     **numbers)
    return _keep(**numbers)


def check_repeated_paragraphs(record, config: FilterConfig = DEFAULT_CONFIG) -> Measurement:
    """Paragraphs of the reasoning repeated verbatim, as a fraction of its characters."""
    fraction = duplicate_fraction(view(record).reasoning_paragraphs)
    numbers = dict(dup_paragraph_fraction=round(fraction, 4),
                   max_dup_paragraph_fraction=config.max_dup_paragraph_fraction)
    if fraction > config.max_dup_paragraph_fraction:
        return _drop("repeated_paragraphs", f"repeated-paragraph fraction {fraction:.3f} > "
                                            f"{config.max_dup_paragraph_fraction}", **numbers)
    return _keep(**numbers)


def _ngram_counts(words: List[bytes], n: int) -> collections.Counter:
    return collections.Counter(zip(*(itertools.islice(words, i, None) for i in range(n))))


def _gram_chars(gram: Tuple[bytes, ...]) -> int:
    return sum(map(len, gram))


def top_ngram_fraction(words: List[bytes], n: int, total_chars: int) -> float:
    """Gopher's ratio: characters of the most frequent n-gram (if it repeats) × its count,
    over all word characters."""
    return _top_ngram(words, n, total_chars)[0]


def _top_ngram(words: List[bytes], n: int, total_chars: int) -> Tuple[float, collections.Counter]:
    """``top_ngram_fraction`` and the n-gram counts it came from."""
    counts = _ngram_counts(words, n)
    if not counts:
        return 0.0, counts
    gram, count = counts.most_common(1)[0]
    return (count * _gram_chars(gram) / total_chars if count > 1 else 0.0), counts


def check_ngram_repetition(record, config: FilterConfig = DEFAULT_CONFIG) -> Measurement:
    """Gopher's top n-gram ratios on the reasoning: the characters covered by the most
    frequent 2-, 3- and 4-gram over all word characters, each against its threshold.

    Counting n-grams is the costly part, so it is skipped where a bound shows the
    ratio can't pass the threshold (``ngram_bounds``); the numbers then say
    ``top_<n>gram_bound``. Characters are UTF-8 bytes of the words (LaTeX and code
    excluded)."""
    words = view(record).reasoning_tokens
    numbers: dict = dict(words=len(words))
    if len(words) < max(config.min_repetition_words, 1):
        return _keep(f"{len(words)} words < min_repetition_words {config.min_repetition_words}", **numbers)
    total = len(b"".join(words))
    largest_word, largest_bigram = ngram_bounds(words)
    for n, limit in zip(range(2, 5), config.max_top_ngram_fractions):
        bound = {2: largest_bigram, 3: largest_bigram + largest_word, 4: 2 * largest_bigram}[n]
        if bound / total <= limit:
            numbers[f"top_{n}gram_bound"] = round(bound / total, 4)  # not counted: can't pass the limit
            continue
        fraction, grams = _top_ngram(words, n, total)
        numbers[f"top_{n}gram_fraction"] = round(fraction, 4)
        if fraction > limit:
            return _drop("repeated_ngrams", f"top {n}-gram fraction {fraction:.3f} > {limit}", **numbers)
        if n == 2:
            largest_bigram = max(map(operator.mul, grams.values(), map(_gram_chars, grams)))
    return _keep(**numbers)


def ngram_bounds(words: List[bytes]) -> Tuple[int, int]:
    """(U, B): the largest ``value`` of a word and an upper bound on that of a 2-gram that
    occurs more than once, where ``value(g) = count(g) × characters(g)``.

    An n-gram occurs no more often than any of its words or sub-n-grams, so a
    3-gram's value is at most ``B + U`` and a 4-gram's at most ``2B``; the top
    n-gram's ratio is at most its value over all word characters. For a 2-gram of
    two different words ``(a, b)``, ``value ≤ min(count a, count b) × (len a + len b)``;
    for ``(a, a)`` it is ``2 × len a`` times the number of places ``a`` follows itself."""
    if not words:
        return 0, 0
    counts = collections.Counter(words)
    widest = max(map(len, counts))
    pair = longest = 0  # the (a, b) bound so far; the longest word at least as frequent as this one
    largest_word = widest  # a word that occurs once: its value is its length
    for word, count in counts.most_common():
        # Later words have value ≤ count × widest; once that is ≤ pair / 2 they can raise
        # neither bound (and U ≥ pair / 2 already: a pair's bound is at most two words' values).
        if count < 2 or count * 2 * widest <= pair:
            break
        length = len(word)
        if count * length > largest_word:
            largest_word = count * length
        if longest and count * (length + longest) > pair:
            pair = count * (length + longest)
        if length > longest:
            longest = length
    repeats = collections.Counter(itertools.compress(words, map(operator.eq, words, itertools.islice(words, 1, None))))
    self_pair = max((2 * n * len(w) for w, n in repeats.items() if n > 1), default=0)
    return largest_word, max(pair, self_pair)


_TAIL_WINDOW = 8192
_TAIL_PROBE = 16


def tail_loop(text: str) -> Tuple[int, int]:
    """(period, repeats) of the passage the end of ``text`` repeats, (0, 0) if none.

    Candidate periods come from the nearest earlier occurrences of the last few
    characters (trailing whitespace ignored); the repeats are counted backwards."""
    s = text[-_TAIL_WINDOW:].rstrip()
    probe = s[-_TAIL_PROBE:] if len(s) >= 2 * _TAIL_PROBE else s[-2:]
    if len(s) < 4:
        return 0, 0
    best = (0, 0)
    search_end = len(s) - 1  # exclusive end for the next earlier occurrence's last character
    for _ in range(8):
        pos = s.rfind(probe, 0, search_end)
        if pos < 0:
            break
        period = len(s) - (pos + len(probe))
        unit, repeats = s[-period:], 1
        while s.endswith(unit, 0, len(s) - repeats * period):
            repeats += 1
        if repeats * period > best[0] * best[1] and repeats > 1:
            best = (period, repeats)
        search_end = pos + len(probe) - 1
    return best


def check_looping_tail(record, config: FilterConfig = DEFAULT_CONFIG) -> Measurement:
    """The reasoning or the answer ends by repeating one passage over and over."""
    worst = dict(tail_period=0, tail_repeats=0, tail_part=None)
    for part in ("reasoning", "answer"):
        period, repeats = tail_loop(_text(record, part))
        if period * repeats > worst["tail_period"] * worst["tail_repeats"]:
            worst = dict(tail_period=period, tail_repeats=repeats, tail_part=part)
    chars = worst["tail_period"] * worst["tail_repeats"]
    if (config.tail_loop_min_repeats and worst["tail_repeats"] >= config.tail_loop_min_repeats
            and chars >= config.tail_loop_min_chars):
        return _drop("looping_tail", f"{worst['tail_part']} ends with a {worst['tail_period']}-character passage "
                                     f"repeated {worst['tail_repeats']} times ({chars} characters)", **worst)
    return _keep(**worst)


# -- language mixing --------------------------------------------------------------------------------


def target_language(record, config: FilterConfig, identifier: LanguageIdentifier) -> Tuple[str, str]:
    """(language, where it came from): the config, the record, the prompt, or the fallback."""
    if config.target_language:
        return normalize_language(config.target_language), "config"
    own = normalize_language(getattr(record, "language", None))
    if own:
        return own, "record"
    detected = detect_prompt_language(_text(record, "prompt"), identifier)
    if detected:
        return detected, "prompt"
    return normalize_language(config.fallback_language), "fallback"


def check_language_mixing(record, config: FilterConfig, meter: MixingMeter) -> Measurement:
    """R1's language consistency: the share of target-language words in reasoning + answer,
    and the longest passage in another language."""
    v = view(record)
    target, source = target_language(v, config, meter.identifier)
    measure = meter.measure(v.visible, target, prose=v.visible_prose, tokens=v.visible_tokens,
                            non_ascii=v.non_ascii)
    numbers = dict(measure.as_dict(), target_from=source, min_target_share=config.min_target_share,
                   min_share_units=config.min_share_units, max_foreign_run_words=config.max_foreign_run_words)
    counted = (measure.target_units or 0) + measure.foreign_units
    if counted >= config.min_share_units and measure.share < config.min_target_share:
        return _drop("language_mixing", f"target-language ({target}) share {measure.share:.2f} < "
                                        f"{config.min_target_share} over {counted} words", **numbers)
    run = measure.longest
    if run is not None and run.units > config.max_foreign_run_words:
        return _drop("language_mixing", f"{run.units}-word passage in {run.language} > "
                                        f"{config.max_foreign_run_words} (target {target}): {run.text!r}", **numbers)
    return _keep(**numbers)


# -- the configured filter list ---------------------------------------------------------------------


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
            return (step,) + tuple(result)
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


# -- explain ------------------------------------------------------------------------------------------


def explain_record(record, config: FilterConfig, filters: Optional[List[Filter]] = None) -> dict:
    """Every filter's decision on ``record`` with the numbers behind it, in order.

    ``{"decision", "reason", "step", "detail", "filters": [{"filter", "step",
    "decision", "reason", "detail", <numbers>}, ...]}``; the top-level decision is
    the pipeline's (the first filter that drops)."""
    filters = filters if filters is not None else filters_for(config)
    record = view(record)
    rows, first = [], None
    for f in filters:
        measured = f.check(record)
        decision = "keep" if measured.reason is None else "drop"
        rows.append(dict(filter=f.name, step=f.step, decision=decision, reason=measured.reason,
                         detail=measured.detail, **measured.numbers))
        if first is None and decision == "drop":
            first = rows[-1]
    return dict(decision="drop" if first else "keep", reason=first["reason"] if first else None,
                step=first["step"] if first else None, detail=first["detail"] if first else "", filters=rows)


def record_from_row(row: dict):
    """A VerifiedRollout-like record from a bare row (``completion`` or ``reasoning``/``answer``).

    Missing fields are None; reasoning and answer are split from the completion when absent."""
    record = from_dict(VerifiedRollout, row)
    if isinstance(record.completion, str) and record.reasoning is None and record.answer is None:
        reasoning, answer = split_reasoning(record.completion)
        record = record._replace(reasoning=reasoning, answer=answer)
    return record


def read_rows(path: str) -> Iterator[Tuple[int, Optional[dict], Optional[str]]]:
    """(line or row number, row, error) for each record of a JSONL or Parquet file, in order."""
    return read_records(path, skip_blank=True)


def explain_file(config: FilterConfig, path: str) -> Iterator[dict]:
    """One explanation per record of a JSONL/Parquet rollouts file, in input order.

    Each is ``{"line": n, "id": <rollout_id or id or None>, **explain_record(...)}``;
    a line that isn't a JSON object, or a row a check fails on, gives ``"error"``
    instead of the decisions."""
    identifier = LanguageIdentifier().load() if config.check_language else None
    filters = filters_for(config, identifier)
    for number, row, error in read_rows(path):
        if error is not None:
            yield {"line": number, "error": error}
            continue
        found = dict(line=number, id=row.get("rollout_id") or row.get("id"))
        try:
            found.update(explain_record(record_from_row(row), config, filters))
        except Exception as exc:  # noqa: BLE001 - one bad row is reported, the rest still explained
            found["error"] = f"check_failed: {error_text(exc)}"
        yield found


# -- the transform ------------------------------------------------------------------------------------


class _ApplyRules(beam.DoFn):
    def __init__(self, config: FilterConfig, stage: str):
        self.config = config
        self.stage = stage

    def setup(self):
        identifier = LanguageIdentifier().load() if self.config.check_language else None
        self.rules = rules_for(self.config, identifier)

    def process(self, record):
        try:
            failure = first_failure(record, self.rules)
        except Exception as exc:  # noqa: BLE001 - a bad record is dead-lettered, never a crash
            yield beam.pvalue.TaggedOutput(DEAD, make_dead_letter(self.stage, "filter", error_text(exc), record=record))
            return
        if failure is None:
            yield record
            return
        step, reason, detail = failure
        beam.metrics.Metrics.counter(self.stage, f"dropped_{reason}").inc()
        yield beam.pvalue.TaggedOutput(REJECTED, make_rejection(record, self.stage, step, reason, detail))


class FilterRollouts(beam.PTransform):
    """VerifiedRollouts → the ones every enabled rule keeps (+ rejections, dead letters)."""

    def __init__(self, config: FilterConfig, stage: str = "curate"):
        super().__init__()
        self.config = config
        self.stage = stage

    def expand(self, records):
        out = records | "Rules" >> beam.ParDo(_ApplyRules(self.config, self.stage)).with_outputs(
            REJECTED, DEAD, main="kept")
        return StageOutputs(out.kept, out[REJECTED], out[DEAD])
