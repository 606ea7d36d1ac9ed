"""The ``unit_rate`` generator: answers recomputed by the formula named in the metadata."""
import re
from fractions import Fraction

import pytest

from transforms.ingest.generators import generate_problems


def unit_rate_formula(meta: dict) -> Fraction:
    kind = meta["kind"]
    if kind == "scale":
        return Fraction(meta["t1"], meta["q1"]) * meta["q2"]
    if kind == "reverse":
        return meta["t2"] / Fraction(meta["t1"], meta["q1"])
    if kind == "inverse":
        return Fraction(meta["a1"] * meta["b1"], meta["a2"])
    assert kind == "joint"
    return Fraction(meta["t1"], meta["a1"] * meta["b1"]) * meta["a2"] * meta["b2"]


@pytest.mark.parametrize("level, kinds", [
    (1, {"scale"}), (2, {"reverse", "inverse"}), (3, {"joint"}),
])
def test_unit_rate_answers(level, kinds):
    seen_kinds = set()
    for problem in generate_problems("unit_rate", 300, seed=10, difficulties=[level]):
        meta = problem["metadata"]
        value = unit_rate_formula(meta)
        assert value.denominator == 1 and problem["answer"] == str(value.numerator)
        numbers_in_prompt = sorted(int(n) for n in re.findall(r"[0-9]+", problem["prompt"]))
        given = sorted(v for k, v in meta.items() if k != "kind")
        assert numbers_in_prompt == given, problem["prompt"]
        seen_kinds.add(meta["kind"])
    assert seen_kinds == kinds


def test_unit_rate_uses_varied_templates():
    problems = generate_problems("unit_rate", 200, seed=10, difficulties=[1, 2, 3])
    prompts = [p["prompt"] for p in problems]
    for word in ("km", "$", "grams", "pages", "liters", "workers"):
        assert any(word in prompt for prompt in prompts), word
