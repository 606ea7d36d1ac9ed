"""Repetition (Gopher-style): repeated lines and paragraphs, frequent n-grams, a looping tail.

``filter_repetition`` → tail_loop: ``looping_tail``; paragraph_repeats:
``repeated_paragraphs``; lines: ``repeated_lines``; ngrams: ``repeated_ngrams``.
"""
from __future__ import annotations

import collections
import itertools
import operator
from typing import List, Tuple

from transforms.filters.config import DEFAULT_CONFIG, FilterConfig, Measurement, drop, keep
from transforms.text.views import field_text, view


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
    fraction = duplicate_fraction(field_text(record, "reasoning").split("\n"))
    numbers = dict(dup_line_fraction=round(fraction, 4), max_dup_line_fraction=config.max_dup_line_fraction)
    if fraction > config.max_dup_line_fraction:
        return drop("repeated_lines", f"repeated-line fraction {fraction:.3f} > {config.max_dup_line_fraction}",
                    **numbers)
    return keep(**numbers)


def check_repeated_paragraphs(record, config: FilterConfig = DEFAULT_CONFIG) -> Measurement:
    """Paragraphs of the reasoning repeated verbatim, as a fraction of its characters."""
    fraction = duplicate_fraction(view(record).reasoning_paragraphs)
    numbers = dict(dup_paragraph_fraction=round(fraction, 4),
                   max_dup_paragraph_fraction=config.max_dup_paragraph_fraction)
    if fraction > config.max_dup_paragraph_fraction:
        return drop("repeated_paragraphs", f"repeated-paragraph fraction {fraction:.3f} > "
                                           f"{config.max_dup_paragraph_fraction}", **numbers)
    return keep(**numbers)


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
        return keep(f"{len(words)} words < min_repetition_words {config.min_repetition_words}", **numbers)
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
            return drop("repeated_ngrams", f"top {n}-gram fraction {fraction:.3f} > {limit}", **numbers)
        if n == 2:
            largest_bigram = max(map(operator.mul, grams.values(), map(_gram_chars, grams)))
    return keep(**numbers)


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
    worst: dict = dict(tail_period=0, tail_repeats=0, tail_part=None)
    for part in ("reasoning", "answer"):
        period, repeats = tail_loop(field_text(record, part))
        if period * repeats > worst["tail_period"] * worst["tail_repeats"]:
            worst = dict(tail_period=period, tail_repeats=repeats, tail_part=part)
    chars = worst["tail_period"] * worst["tail_repeats"]
    if (config.tail_loop_min_repeats and worst["tail_repeats"] >= config.tail_loop_min_repeats
            and chars >= config.tail_loop_min_chars):
        return drop("looping_tail", f"{worst['tail_part']} ends with a {worst['tail_period']}-character passage "
                                    f"repeated {worst['tail_repeats']} times ({chars} characters)", **worst)
    return keep(**worst)
