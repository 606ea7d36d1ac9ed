"""The ``linear_equation`` generator: "Solve for x: 3x + 5 = 20."

1 = ``ax ± b = c`` with an integer root; 2 = x on both sides; 3 = parentheses or
fractions on both sides. Answers at levels 2-3 may be fractions."""
from __future__ import annotations

import random
from fractions import Fraction
from typing import NamedTuple, Tuple

from transforms.ingest.generators.common import make_problem


class _Side(NamedTuple):
    """One side of an equation in x: its text and its value ``coef * x + const``."""

    text: str
    coef: Fraction
    const: Fraction


def _signed(value: int) -> str:
    """`` + 5`` or `` - 5`` to append a constant term."""
    return f" + {value}" if value >= 0 else f" - {-value}"


def _linear_side(coef: int, const: int) -> _Side:
    """``3x + 5``, ``x - 2``, ``-x`` (coef != 0)."""
    head = {1: "x", -1: "-x"}.get(coef, f"{coef}x")
    text = head + (_signed(const) if const else "")
    return _Side(text, Fraction(coef), Fraction(const))


def _scaled_side(factor: int, shift: int, const: int) -> _Side:
    """``factor(x + shift) + const``, e.g. ``4(x - 3) + 7``."""
    text = f"{factor}(x{_signed(shift)})" + (_signed(const) if const else "")
    return _Side(text, Fraction(factor), Fraction(factor * shift + const))


def _divided_side(shift: int, divisor: int) -> _Side:
    """``(x + shift)/divisor``."""
    return _Side(f"(x{_signed(shift)})/{divisor}", Fraction(1, divisor), Fraction(shift, divisor))


def _nonzero(rng: random.Random, low: int, high: int) -> int:
    """A random integer in [low, high] other than 0."""
    value = 0
    while value == 0:
        value = rng.randint(low, high)
    return value


def _constant_side(value: int) -> _Side:
    """A side without x, e.g. ``20``."""
    return _Side(str(value), Fraction(0), Fraction(value))


def _equation_sides(rng: random.Random, difficulty: int) -> Tuple[_Side, _Side]:
    """Both sides of an equation with a unique root (the x coefficients differ)."""
    while True:
        if difficulty == 1:
            coef, root = rng.randint(2, 9), rng.randint(1, 12)
            const = rng.choice([-1, 1]) * rng.randint(1, 20)
            left, right = _linear_side(coef, const), _constant_side(coef * root + const)
        elif difficulty == 2:
            left = _linear_side(_nonzero(rng, -12, 12), _nonzero(rng, -30, 30))
            right = _linear_side(_nonzero(rng, -12, 12), _nonzero(rng, -30, 30))
        elif rng.random() < 0.5:
            left = _scaled_side(rng.randint(2, 9), _nonzero(rng, -15, 15), _nonzero(rng, -20, 20))
            right = _scaled_side(rng.randint(2, 9), _nonzero(rng, -15, 15), 0)
        else:
            left = _divided_side(_nonzero(rng, -15, 15), rng.randint(2, 9))
            right = _divided_side(_nonzero(rng, -15, 15), rng.randint(2, 9))
        if left.coef != right.coef:
            return left, right


def linear_equation(index: int, rng: random.Random, difficulty: int) -> dict:
    """"Solve for x: 3x + 5 = 20." with an integer (level 1) or rational root."""
    left, right = _equation_sides(rng, difficulty)
    root = (right.const - left.const) / (left.coef - right.coef)
    equation = f"{left.text} = {right.text}"
    return make_problem(
        "linear_equation", index, difficulty, f"Solve for x: {equation}.", root,
        {"equation": equation, "variable": "x"},
    )
