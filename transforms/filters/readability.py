"""Readability: paragraph length, code in maths traces, markdown density, garbage characters.

``filter_readability`` → paragraphs: ``long_paragraph``; code: ``code_in_math``;
markdown: ``markdown_overuse``; characters: ``garbage_characters``.
"""
from __future__ import annotations

import re

from transforms.filters.config import DEFAULT_CONFIG, FilterConfig, Measurement, drop, keep
from transforms.text.length import count_words
from transforms.text.views import view, visible_text

#: Markers looked for before the expressions run (see ``prose_text``: a pattern that starts
#: with one literal character scans fast; ``"**" in text`` costs ~4 µs on 5 KB).
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
        return drop("long_paragraph", f"paragraph of {longest} words > {limit}", **numbers)
    return keep(**numbers)


def check_code_in_math(record, config: FilterConfig = DEFAULT_CONFIG) -> Measurement:
    """Fenced code blocks in a trace of a domain in ``code_free_domains``."""
    text = visible_text(record)
    domain = getattr(record, "domain", None)
    fences = len(_CODE_FENCE.findall(text)) if ("`" in text and _HAS_BACKTICKS(text)
                                                      or "~" in text and _HAS_TILDES(text)) else 0
    numbers = dict(domain=domain, code_fences=fences)
    if domain in config.code_free_domains and fences:
        return drop("code_in_math", f"{fences} code fence(s) in a {domain} trace", **numbers)
    return keep(**numbers)


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
        return drop("markdown_overuse", f"{elements} markdown elements, {density} per 100 words > "
                                        f"{config.max_markdown_per_100_words}", **numbers)
    return keep(**numbers)


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
        return drop("garbage_characters", f"{len(found)} garbage characters ({shown}), fraction "
                                          f"{fraction:.4f} > {config.max_garbage_fraction}", **numbers)
    return keep(**numbers)
