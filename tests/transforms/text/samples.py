"""Texts for the shingle and MinHash tests: tricky strings and rows of the shared real
datasets (``../shared/data``)."""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT.parent / "shared" / "data"


def read_field(relative: str, field: str, count: int, start: int = 0):
    with open(DATA / relative, encoding="utf-8") as fh:
        rows = [json.loads(line)[field] for line in fh]
    return rows[start : start + count]


SAMPLE_TEXTS = [
    "",
    "   ",
    "?!",
    "one",
    "Two words",
    "exactly five words right here",
    "İstanbul ÿ café_au_lait 𝒳𝒴 😀 mixed ＦＵＬＬwidth",
    "lone \ud800 surrogate",
    "  leading and trailing   whitespace \n\t ",
]


def real_texts():
    """The tricky strings, 15 real solutions and 5 real (Chinese) questions."""
    return SAMPLE_TEXTS + read_field("math500/test.jsonl", "solution", 15) + read_field(
        "qwen_math_eval/cmath/test.jsonl", "question", 5)
