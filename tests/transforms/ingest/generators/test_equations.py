"""The ``linear_equation`` generator: the gold root satisfies the equation (substituted
with Fraction), levels."""
import re
from fractions import Fraction

import pytest

from tests.transforms.ingest.generators.exact import exact_value
from transforms.ingest.generators import format_number, generate_problems


def explicit_products(equation_side: str) -> str:
    """``3x`` → ``3*x``, ``4(x`` → ``4*(x`` so Python can parse a side of an equation."""
    return re.sub(r"([0-9])\s*(x|\()", r"\1*\2", equation_side)


@pytest.mark.parametrize("level", [1, 2, 3])
def test_linear_equation_root_satisfies_equation(level):
    for problem in generate_problems("linear_equation", 300, seed=6, difficulties=[level]):
        equation = problem["metadata"]["equation"]
        assert problem["prompt"] == f"Solve for x: {equation}."
        root = Fraction(problem["answer"])
        assert format_number(root) == problem["answer"]  # reduced
        left, right = (explicit_products(side) for side in equation.split(" = "))
        assert exact_value(left, root) == exact_value(right, root)
        assert exact_value(left, root + 1) != exact_value(right, root + 1)


def test_linear_equation_levels():
    answers = {level: [p["answer"] for p in generate_problems(
        "linear_equation", 200, seed=6, difficulties=[level])] for level in (1, 2, 3)}
    assert all("/" not in answer for answer in answers[1])
    assert any("/" in answer for answer in answers[2] + answers[3])
    level3 = generate_problems("linear_equation", 50, seed=6, difficulties=[3])
    assert all("(" in p["prompt"] for p in level3)
