"""The ``arithmetic`` generator: answers recomputed by the exact evaluator, levels."""
import re

import pytest

from tests.transforms.ingest.generators.exact import exact_value
from transforms.ingest.generators import generate_problems


def test_arithmetic_level_zero_is_single_digit_sums_and_differences():
    problems = generate_problems("arithmetic", 60, seed=4, difficulties=[0])
    assert len({p["prompt"] for p in problems}) == 60
    for problem in problems:
        a, op, b = re.fullmatch(r"What is (\d) ([+-]) (\d)\?", problem["prompt"]).groups()
        assert int(problem["answer"]) == (int(a) + int(b) if op == "+" else int(a) - int(b)) >= 0
        assert problem["difficulty"] == "0"


@pytest.mark.parametrize("level", [1, 2, 3])
def test_arithmetic_answers(level):
    for problem in generate_problems("arithmetic", 300, seed=4, difficulties=[level]):
        expression = problem["metadata"]["expression"]
        assert problem["prompt"] == f"What is {expression}?"
        value = exact_value(expression)
        assert value.denominator == 1 and problem["answer"] == str(value.numerator)


def test_arithmetic_level1_is_trivial():
    for problem in generate_problems("arithmetic", 300, seed=4, difficulties=[1]):
        match = re.fullmatch(r"What is ([0-9]{1,2}) ([+-]) ([0-9]{1,2})\?", problem["prompt"])
        assert match, problem["prompt"]
        assert int(problem["answer"]) >= 0


def test_arithmetic_levels_grow():
    def operators(level):
        problems = generate_problems("arithmetic", 200, seed=4, difficulties=[level])
        return {op for p in problems for op in "*/()" if op in p["prompt"]}

    assert operators(1) == set()
    assert operators(2) == {"*"}
    assert operators(3) == set("*/()")
