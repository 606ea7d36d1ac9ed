"""Repetition rules: repeated lines and paragraphs, top n-grams and their bounds, looping tails."""
import collections
import random

import pytest

from tests.traces import EN_REASONING, LONG_REASONING, LOOP, MATH_SOLUTION, en_trace, insert_paragraph, zh_trace
from transforms.filters.config import FilterConfig
from transforms.filters.registry import first_failure
from transforms.filters.repetition import (
    check_ngram_repetition,
    duplicate_fraction,
    ngram_bounds,
    tail_loop,
    top_ngram_fraction,
)
from transforms.text.views import view


def failing(record, rules):
    failure = first_failure(record, rules)
    return failure[1] if failure else None


REPEATED_STEP = "She makes 9 * 2 = $18 every day at the farmer's market."


@pytest.mark.parametrize("record, expected", [
    (en_trace(), None),
    (en_trace(reasoning=MATH_SOLUTION, answer="$\\boxed{p - q}$"), None),  # LaTeX-heavy real solution
    (zh_trace(), None),
    (en_trace(reasoning=insert_paragraph(EN_REASONING, "\n".join([REPEATED_STEP] * 8))), "repeated_lines"),
    (en_trace(reasoning="\n\n".join([EN_REASONING.split("\n\n")[2]] * 4 + ["Done."])), "repeated_paragraphs"),
    (en_trace(reasoning=LONG_REASONING + " " + "so the answer is so the answer is " * 15 + "18."), "repeated_ngrams"),
    (en_trace(reasoning=EN_REASONING + "\n\n" + LOOP), "looping_tail"),
], ids=["gsm8k", "math500", "cmath", "lines", "paragraphs", "ngrams", "tail-loop"])
def test_repetition(record, expected, rules):
    assert failing(record, rules) == expected


def test_tail_loop_finds_period_and_repeats():
    assert tail_loop("Some reasoning. " + "ab" * 30) == (2, 30)
    assert tail_loop(EN_REASONING + "\n\n" + LOOP) == (31, 11)  # the first copy follows a line break
    assert tail_loop(EN_REASONING)[1] < 2
    assert tail_loop("") == (0, 0)


def test_ngram_bound_never_hides_a_failure():
    """The bound only skips counting; the decision equals counting every n-gram."""
    config = FilterConfig()
    for reasoning in (LONG_REASONING, LONG_REASONING + " so the answer is" * 12,
                      LONG_REASONING + " so the answer is" * 25, " ".join(["the cat sat on the mat"] * 40)):
        record = en_trace(reasoning=reasoning)
        words = view(record).reasoning_tokens
        total = sum(map(len, words))
        exact = any(top_ngram_fraction(words, n, total) > limit
                    for n, limit in zip(range(2, 5), config.max_top_ngram_fractions))
        assert (check_ngram_repetition(record, config).reason == "repeated_ngrams") is exact


def _filler(count: int, start: int = 0) -> list:
    """``count`` distinct five-letter words."""
    return ["".join(chr(97 + (i // 26 ** k) % 26) for k in range(5)) for i in range(start, start + count)]


def test_ngram_bound_counts_a_word_repeated_in_a_row():
    """"wait wait wait" twenty times among distinct words: the 2-gram (wait, wait) covers
    more than 20% of the word characters although no two different words do."""
    parts = []
    for run in range(20):
        parts += ["wait"] * 3 + _filler(13, start=13 * run)
    record = en_trace(reasoning=" ".join(parts))
    measured = check_ngram_repetition(record)
    assert measured.reason == "repeated_ngrams" and "top 2-gram" in measured.detail, measured
    assert measured.numbers["top_2gram_fraction"] == pytest.approx(40 * 8 / 1540, abs=1e-4)


def test_ngram_bounds_are_upper_bounds():
    """Every skipped count's bound is at least the exact ratio, on seeded random texts with
    few distinct words (many repeats, runs and self-pairs)."""
    rng = random.Random(7)
    for _trial in range(200):
        vocabulary = _filler(rng.randint(2, 12))
        words = [w.encode() for w in rng.choices(vocabulary, k=rng.randint(200, 400))]
        total = sum(map(len, words))
        largest_word, largest_bigram = ngram_bounds(words)
        counts = collections.Counter(words)
        assert largest_word == max(count * len(word) for word, count in counts.items())
        exact = {n: top_ngram_fraction(words, n, total) for n in (2, 3, 4)}
        assert exact[2] * total <= largest_bigram
        assert exact[3] * total <= largest_bigram + largest_word
        assert exact[4] * total <= 2 * largest_bigram
    assert ngram_bounds([]) == (0, 0) and ngram_bounds([b"once"]) == (4, 0)


@pytest.mark.parametrize("parts, fraction", [
    (["a", "b", "c"], 0.0),
    (["abc", "abc", "de", ""], 3 / 8),
    (["", "  "], 0.0),
])
def test_duplicate_fraction(parts, fraction):
    assert duplicate_fraction(parts) == pytest.approx(fraction)
