"""Ingest's presets and mapping rules on real rows: prompts, gold answers, multiple
choice, ids and metadata, and the field and reason of every record they can't use."""
from __future__ import annotations

import json
import os

import pytest

from schemas.records import Problem
from transforms.core import stable_hash
from transforms.ingest.config import FieldMapping, SourceConfig
from transforms.ingest.presets import BadRecord, gold_from_solution, to_problem

DATA = "../shared/data"
SEED = 7
HASH = "cfg0"


def _row(path: str, line: int) -> dict:
    """The record on 1-based ``line`` of a real JSONL file."""
    with open(os.path.join(DATA, path), encoding="utf-8") as fh:
        for number, text in enumerate(fh, start=1):
            if number == line:
                return json.loads(text)
    raise AssertionError(f"{path} has no line {line}")


def _problem(record: dict, line: int = 1, **source_kw) -> Problem:
    source_kw.setdefault("name", "src")
    source_kw.setdefault("path", "in.jsonl")
    return to_problem(record, SourceConfig(**source_kw), "dir/in.jsonl", line, SEED, HASH)


# -- presets on real rows -----------------------------------------------------

REAL_ROWS = [
    # (file, line, preset, prompt starts with, prompt ends with, gold, source_id)
    ("gsm8k/test.jsonl", 1, "gsm8k", "Janet’s ducks lay 16 eggs", "farmers' market?", "18", "in.jsonl:1"),
    ("gsm8k/test.jsonl", 147, "gsm8k", "Johnny is picking up the toys", None, "2125", "in.jsonl:147"),
    ("math500/test.jsonl", 1, "math", "Convert the point $(0,3)$", None,
     "\\left( 3, \\frac{\\pi}{2} \\right)", "test/precalculus/807.json"),
    ("math500/test.jsonl", 5, "math", "The results of a cross-country", None, "\\text{Evelyn}", "test/algebra/1349.json"),
    ("qwen_math_eval/minerva_math/test.jsonl", 1, "math", "Each of the two Magellan", None, "1.6", "in.jsonl:1"),
    ("qwen_math_eval/minerva_math/test.jsonl", 2, "math", "A white dwarf star", None, "4.5e33", "in.jsonl:2"),
    ("qwen_math_eval/minerva_math/test.jsonl", 3, "math", None, None, "41.8", "in.jsonl:3"),
    ("qwen_math_eval/mmlu_stem/test.jsonl", 1, "mcq", "Based on the characteristic population curves",
     "\nD. increase the mortality rate", "C", "in.jsonl:1"),
    ("qwen_math_eval/mmlu_stem/test.jsonl", 3, "mcq", "To prevent desiccation",
     "\n\nA. amnion\nB. chorion\nC. allantois\nD. yolk sac", "A", "in.jsonl:3"),
    ("qwen_math_eval/amc23/test.jsonl", 1, "answer", "Cities $A$ and $B$", None, "27", "0"),
]


@pytest.mark.parametrize("path,line,preset,starts,ends,gold,source_id", REAL_ROWS)
def test_presets_on_real_rows(path, line, preset, starts, ends, gold, source_id):
    problem = _problem(_row(path, line), line=line, preset=preset)
    if starts:
        assert problem.prompt.startswith(starts)
    if ends:
        assert problem.prompt.endswith(ends)
    assert problem.reference_answer == gold
    assert problem.source_id == source_id
    assert problem.problem_id == stable_hash("src", source_id)
    assert (problem.seed, problem.config_hash, problem.kind, problem.domain) == (SEED, HASH, "reasoning", "math")


def test_math_preset_falls_back_to_the_solutions_last_box():
    row = _row("math500/test.jsonl", 1)
    del row["answer"]
    assert _problem(row, preset="math").reference_answer == "\\left( 3, \\frac{\\pi}{2} \\right)"


def test_mcq_problem_keeps_choices_and_metadata_skips_mapped_fields():
    problem = _problem(_row("qwen_math_eval/mmlu_stem/test.jsonl", 3), preset="mcq")
    assert problem.choices == ["amnion", "chorion", "allantois", "yolk sac"]
    assert json.loads(problem.metadata) == {"type": "college_biology"}


def test_math_metadata_difficulty_and_language():
    problem = _problem(_row("math500/test.jsonl", 1), preset="math", language="en", domain="knowledge")
    assert json.loads(problem.metadata) == {"subject": "Precalculus"}  # problem/solution/answer/ids skipped
    assert (problem.difficulty, problem.language, problem.domain) == ("2", "en", "knowledge")


def test_explicit_fields_override_the_preset():
    row = _row("qwen_math_eval/olympiadbench/test.jsonl", 1)
    problem = _problem(row, preset="answer", fields=FieldMapping(answer="final_answer", id="id", difficulty="subfield"))
    assert problem.reference_answer == "2"  # a one-item list is unwrapped
    assert problem.source_id == "1606"
    assert problem.difficulty == "Combinatorics"


@pytest.mark.parametrize(
    "text,gold",
    [
        ("so 3 + 4 = 7\n#### 7", "7"),
        ("big\n#### 1,234,567", "1234567"),
        ("$\\boxed{1}$ then $\\boxed{\\frac{1}{2}}$", "\\frac{1}{2}"),
        ("a box with a comma $\\boxed{(1, 2)}$", "(1, 2)"),
        ("no final answer here", None),
        ("#### ", None),
    ],
)
def test_gold_from_solution(text, gold):
    assert gold_from_solution(text) == gold


# -- mapping rules ------------------------------------------------------------

MAPPING_RULES = [
    # (record, source kwargs, expected (prompt, gold, choices) )
    ({"question": "Q?", "answer": 12}, {}, ("Q?", "12", [])),
    ({"question": "Q?", "answer": 27.0}, {}, ("Q?", "27", [])),
    ({"question": "Q?", "answer": 2.5}, {}, ("Q?", "2.5", [])),
    ({"problem": "  P?  ", "answer": " x+1 "}, {}, ("P?", "x+1", [])),
    ({"prompt": "R?", "answer": "4"}, {"preset": "answer"}, ("R?", "4", [])),
    ({"question": "Q?"}, {"kind": "knowledge"}, ("Q?", None, [])),
    ({"question": "Q?", "choices": ["x", "y"], "label": "b"}, {"preset": "mcq"}, ("Q?\n\nA. x\nB. y", "B", ["x", "y"])),
    ({"question": "Q?", "choices": [1, 2, 3], "answer": 2}, {"preset": "mcq"}, ("Q?\n\nA. 1\nB. 2\nC. 3", "C", ["1", "2", "3"])),
    ({"q": "Q?", "opts": ["x", "y"], "gold": "A"}, {"preset": "mcq", "fields": FieldMapping(prompt="q", choices="opts", answer="gold")},
     ("Q?\n\nA. x\nB. y", "A", ["x", "y"])),
    ({"question": "Q?", "choices": ["x", "y"]}, {"preset": "mcq", "kind": "knowledge"}, ("Q?\n\nA. x\nB. y", None, ["x", "y"])),
    ({"text": "T?", "sol": "so \\boxed{5}"}, {"fields": FieldMapping(prompt="text", solution="sol")}, ("T?", "5", [])),
]


@pytest.mark.parametrize("record,source_kw,expected", MAPPING_RULES)
def test_mapping_rules(record, source_kw, expected):
    problem = _problem(record, **source_kw)
    assert (problem.prompt, problem.reference_answer, problem.choices) == expected


BAD_RECORDS = [
    # (record, source kwargs, field, reason)
    ({"answer": "1"}, {}, "question|problem|prompt", "missing_field"),
    ({"question": "   ", "answer": "1"}, {}, "question|problem|prompt", "missing_field"),
    ({"question": 42, "answer": "1"}, {}, "question", "wrong_type"),
    ({"question": ["a"], "answer": "1"}, {}, "question", "wrong_type"),
    ({"question": "Q?"}, {}, "answer", "missing_field"),
    ({"question": "Q?", "answer": {"v": 1}}, {}, "answer", "wrong_type"),
    ({"question": "Q?", "answer": True}, {}, "answer", "wrong_type"),
    ({"question": "Q?", "answer": ["1", "2"]}, {}, "answer", "wrong_type"),
    ({"question": "Q?", "answer": "no marker"}, {"preset": "gsm8k"}, "answer", "bad_value"),
    ({"question": "Q?"}, {"preset": "gsm8k"}, "answer", "missing_field"),
    ({"problem": "P?", "solution": "no box"}, {"preset": "math"}, "solution", "bad_value"),
    ({"problem": "P?"}, {"preset": "math"}, "answer|solution", "missing_field"),
    ({"question": "Q?", "answer": 1}, {"preset": "mcq"}, "choices", "missing_field"),
    ({"question": "Q?", "choices": "A or B", "answer": 1}, {"preset": "mcq"}, "choices", "wrong_type"),
    ({"question": "Q?", "choices": ["only"], "answer": 0}, {"preset": "mcq"}, "choices", "bad_value"),
    ({"question": "Q?", "choices": ["x", {"y": 1}], "answer": 0}, {"preset": "mcq"}, "choices", "wrong_type"),
    ({"question": "Q?", "choices": ["x", "y"], "answer": 2}, {"preset": "mcq"}, "answer", "bad_value"),
    ({"question": "Q?", "choices": ["x", "y"], "answer": -1}, {"preset": "mcq"}, "answer", "bad_value"),
    ({"question": "Q?", "choices": ["x", "y"], "answer": "C"}, {"preset": "mcq"}, "answer", "bad_value"),
    ({"question": "Q?", "choices": ["x", "y"], "answer": 1.0}, {"preset": "mcq"}, "answer", "wrong_type"),
    ({"question": "Q?", "choices": ["x", "y"]}, {"preset": "mcq"}, "answer|label", "missing_field"),
]


@pytest.mark.parametrize("record,source_kw,field,reason", BAD_RECORDS)
def test_bad_records_name_the_field_and_reason(record, source_kw, field, reason):
    with pytest.raises(BadRecord) as info:
        _problem(record, **source_kw)
    assert (info.value.field, info.value.reason) == (field, reason)
    assert str(info.value).startswith(reason)


def test_source_id_uses_the_id_field_else_file_and_line():
    with_id = _problem({"question": "Q?", "answer": "1", "id": 99}, line=4)
    without = _problem({"question": "Q?", "answer": "1"}, line=4)
    assert (with_id.source_id, without.source_id) == ("99", "in.jsonl:4")
    assert with_id.problem_id != without.problem_id
    assert _problem({"question": "Q?", "answer": "1"}, line=4, name="other").problem_id != without.problem_id
