"""Decontamination: benchmark problems planted with light edits are caught (named by
benchmark and item), clean problems are not; rules, config, counts, the transform."""
from __future__ import annotations

import json
import random
import re
from pathlib import Path

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests import factories as f
from transforms.core import make_rejection
from transforms.decontam.transform import (
    BenchmarkConfig,
    BenchmarkIndex,
    DecontaminateBenchmarks,
    DecontamConfig,
    benchmark_of,
    build_index,
    count_by_benchmark,
    read_benchmark,
)
from transforms.dedup.minhash import word_tokens

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BENCHMARKS = (
    BenchmarkConfig("aime24", "../shared/data/qwen_math_eval/aime24/test.jsonl"),
    BenchmarkConfig("amc23", "../shared/data/qwen_math_eval/amc23/test.jsonl"),
    BenchmarkConfig("math500", "../shared/data/math500/test.jsonl"),
    BenchmarkConfig("gsm8k", "../shared/data/gsm8k/test.jsonl"),
)
CONFIG = DecontamConfig(benchmarks=BENCHMARKS, ngram=13, min_overlap=0.1)


def read_field(relative: str, field: str):
    with open(DATA / relative, encoding="utf-8") as fh:
        return [json.loads(line)[field] for line in fh]


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


def test_benchmark_from_parquet_with_its_own_field(tmp_path):
    path = tmp_path / "gpqa.parquet"
    questions = ["What is the ground state term symbol of a carbon atom in its lowest energy configuration?",
                 "Which reagent converts a primary alcohol into an aldehyde without over oxidation to the acid?"]
    pq.write_table(pa.table({"Question": questions, "Record ID": ["r1", "r2"]}), path)
    bench = BenchmarkConfig("gpqa", str(path), fields=("Question",))
    assert read_benchmark(bench) == [("1", questions[0]), ("2", questions[1])]
    index = build_index(DecontamConfig(benchmarks=(bench,), ngram=8))
    assert index.match("Q: " + questions[1].lower()).item == "2"


@pytest.mark.parametrize("kwargs,message", [
    (dict(name="bad name", path="x.jsonl"), "benchmark name"),
    (dict(name="ok", path=""), "path is required"),
    (dict(name="ok", path="x.jsonl", fields=()), "fields"),
])
def test_benchmark_config_is_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BenchmarkConfig(**kwargs)


def test_config_is_checked():
    with pytest.raises(ValueError, match="unique"):
        DecontamConfig(benchmarks=(BENCHMARKS[0], BENCHMARKS[0]))
    with pytest.raises(ValueError, match="min_overlap"):
        DecontamConfig(min_overlap=1.5)
    with pytest.raises(ValueError, match="matches no file"):
        DecontaminateBenchmarks(DecontamConfig(benchmarks=(BenchmarkConfig("gone", "../shared/data/none*.jsonl"),)))


@pytest.mark.parametrize("reason,detail,expected", [
    ("contaminated", "contaminated:aime24 item=60 shared=3/40 ngram=13 field=prompt", "aime24"),
    ("contaminated", "contaminated:math500 item=x", "math500"),
    ("near_duplicate", "contaminated:aime24 item=1", None),
    ("contaminated", "something else", None),
])
def test_benchmark_of(reason, detail, expected):
    assert benchmark_of(make_rejection(f.verified(), "curate", "decontaminate", reason, detail)) == expected


def test_decontaminate_pipeline_rejects_with_the_benchmark_name():
    aime = read_field("qwen_math_eval/aime24/test.jsonl", "problem")
    gsm = read_field("gsm8k/test.jsonl", "question")
    clean = read_field("qwen_math_eval/minerva_math/test.jsonl", "problem")[:6]
    leaked = [f.verified(i, source="web", source_id="a", prompt="Problem: " + aime[0].upper()) for i in range(3)]
    leaked.append(f.verified(0, source="web", source_id="g", prompt=gsm[5].replace("$", "")))
    fine = [f.verified(0, source="ok", source_id=str(i), prompt=t) for i, t in enumerate(clean)]
    quoting = f.verified(0, source="ok", source_id="r", prompt="Solve a problem.",
                         completion="Recall: " + gsm[7] + " ... so the answer is 3.")
    records = leaked + fine + [quoting]
    config = DecontamConfig(benchmarks=BENCHMARKS, check_responses=True)
    with TestPipeline() as p:
        out = p | beam.Create(records) | DecontaminateBenchmarks(config)
        assert_that(out.kept | beam.Map(lambda r: r.rollout_id), equal_to([r.rollout_id for r in fine]))
        assert_that(out.dead, equal_to([]), label="NoDead")
        assert_that(out.rejected | beam.Map(lambda r: (r.step, r.reason, r.detail.split(" ")[0],
                                                       r.detail.split(" ")[-1])),
                    equal_to([("decontaminate", "contaminated", "contaminated:aime24", "field=prompt")] * 3
                             + [("decontaminate", "contaminated", "contaminated:gsm8k", "field=prompt"),
                                ("decontaminate", "contaminated", "contaminated:gsm8k", "field=response")]),
                    label="Rejected")
        counts = out.rejected | beam.combiners.ToList() | beam.Map(count_by_benchmark)
        assert_that(counts, equal_to([{"aime24": 3, "gsm8k": 2}]), label="Counts")


def test_no_benchmarks_keeps_everything():
    with TestPipeline() as p:
        out = p | beam.Create([f.verified()]) | DecontaminateBenchmarks(DecontamConfig())
        assert_that(out.kept | beam.combiners.Count.Globally(), equal_to([1]))
        assert_that(out.rejected, equal_to([]), label="NoRejections")
