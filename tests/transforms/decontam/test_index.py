"""The benchmark n-gram index: benchmark problems planted with light edits are caught
(named by benchmark and item), clean problems are not; short items, min_overlap."""
from __future__ import annotations

import random
import re

import pytest

from tests.transforms.decontam.benchmark_data import BENCHMARKS, CONFIG, read_field
from transforms.decontam.benchmarks import read_benchmark
from transforms.decontam.index import BenchmarkIndex, build_index
from transforms.text.shingles import word_tokens


def light_edits(text: str, rng: random.Random):
    """Edits that keep a benchmark problem recognizable: case and whitespace, an
    instruction around it, no ``$``, and (in problems long enough to keep an untouched
    run of n tokens on one side) a changed number and a replaced word."""
    edits = [re.sub(r"\s+", "  \n ", text).upper(),
             "Solve the following problem step by step.\n" + text + "\nPut your final answer in \\boxed{}.",
             text.replace("$", "")]
    if len(word_tokens(text)) > 2 * CONFIG.ngram:
        numbers = list(re.finditer(r"\d+", text))
        if numbers:
            m = rng.choice(numbers)
            edits.append(text[: m.start()] + str(int(m.group()) + 3) + text[m.end():])
        words = list(re.finditer(r"[A-Za-z]{4,}", text))
        if words:
            m = rng.choice(words)
            edits.append(text[: m.start()] + "zebra" + text[m.end():])
    return edits


@pytest.fixture(scope="module")
def index():
    return build_index(CONFIG)


@pytest.fixture(scope="module")
def items():
    return {b.name: read_benchmark(b) for b in BENCHMARKS}


def test_planted_benchmark_problems_with_light_edits_are_all_caught(index, items):
    rng = random.Random(3)
    planted, expected = [], []
    for name, rows in items.items():
        for item_id, text in rows[:150]:
            for edited in light_edits(text, rng):
                planted.append(edited)
                expected.append((name, item_id))
    matches = index.match_many(planted)
    missed = [(e, p[:80]) for e, p, m in zip(expected, planted, matches) if m is None]
    assert not missed
    wrong = [(e, m) for e, m in zip(expected, matches) if m.benchmark != e[0]]
    assert not wrong  # each names its own benchmark (the item: the best covered one)
    assert sum(m.item == e[1] for e, m in zip(expected, matches)) / len(expected) > 0.99
    assert len(planted) > 1500


def test_clean_problems_are_not_caught(index):
    clean = (read_field("qwen_math_eval/olympiadbench/test.jsonl", "question")
             + read_field("qwen_math_eval/minerva_math/test.jsonl", "problem"))
    flagged = [(text[:80], m) for text, m in zip(clean, index.match_many(clean)) if m is not None]
    assert flagged == []
    assert len(clean) > 900


def test_short_items_match_whole_and_first_benchmark_wins():
    index = BenchmarkIndex(ngram=8)
    index.add("first", [("a", "Compute 7 choose 3."), ("b", "one two three four five six seven eight nine")])
    index.add("second", [("c", "Compute 7 choose 3.")])
    assert index.match("Please COMPUTE 7 choose 3 now").benchmark == "first"
    assert index.match("Please compute 7 choose 4 now") is None  # a short item is matched whole
    match = index.match("x two three four five six seven eight nine y")
    assert (match.benchmark, match.item, match.shared, match.total) == ("first", "b", 1, 2)
    assert index.match("") is None


def test_min_overlap_needs_that_share_of_the_item():
    item = " ".join(f"w{i}" for i in range(30))  # 23 distinct 8-grams
    text = " ".join(f"w{i}" for i in range(10))  # shares 3 of them
    loose, strict = BenchmarkIndex(8, 0.1), BenchmarkIndex(8, 0.2)
    for idx in (loose, strict):
        idx.add("b", [("1", item)])
    assert loose.match(text).shared == 3 and loose.match(text).total == 23
    assert strict.match(text) is None
