"""The ``arithmetic`` generator: "What is <expression>?" with an integer answer.

0 = ``a + b`` / ``a - b`` with single digits ("What is 3 + 5?", for tiny models and
demos); 1 = ``a + b`` / ``a - b`` with 1-2 digit numbers ("What is 23 + 15?");
2 = a multiplication or a three-term sum/difference; 3 = mixed expressions with
parentheses (and exact divisions) over larger numbers."""
from __future__ import annotations

import random
from typing import Tuple

from transforms.ingest.generators.common import make_problem


def _sum_or_difference(rng: random.Random, largest: int) -> Tuple[str, int]:
    """``a + b`` or ``a - b`` (a >= b) with numbers from 1 to ``largest``."""
    a, b = rng.randint(1, largest), rng.randint(1, largest)
    if rng.random() < 0.5:
        return f"{a} + {b}", a + b
    a, b = max(a, b), min(a, b)
    return f"{a} - {b}", a - b


def _arithmetic_level0(rng: random.Random) -> Tuple[str, int]:
    """``a + b`` or ``a - b`` (a >= b) with single digits 1-9."""
    return _sum_or_difference(rng, 9)


def _arithmetic_level1(rng: random.Random) -> Tuple[str, int]:
    """``a + b`` or ``a - b`` (a >= b) with 1-2 digit numbers."""
    return _sum_or_difference(rng, 99)


def _arithmetic_level2(rng: random.Random) -> Tuple[str, int]:
    """``a * b`` (2 digits by 2..19) or ``a ± b ± c`` with 2-3 digit numbers."""
    if rng.random() < 0.5:
        a, b = rng.randint(10, 99), rng.randint(2, 19)
        return f"{a} * {b}", a * b
    terms = [rng.randint(10, 199) for _ in range(3)]
    signs = [rng.choice("+-") for _ in range(2)]
    value = terms[0]
    for sign, term in zip(signs, terms[1:]):
        value += term if sign == "+" else -term
    return f"{terms[0]} {signs[0]} {terms[1]} {signs[1]} {terms[2]}", value


#: Level-3 shapes: (format, operand sizes, value). Size "t" is a term (10-999), "f" a factor (2-25).
_LEVEL3_SHAPES = (
    ("({} + {}) * {}", "ttf", lambda a, b, c: (a + b) * c),
    ("({} - {}) * {} + {}", "ttft", lambda a, b, c, d: (a - b) * c + d),
    ("{} * ({} + {}) - {}", "fttt", lambda a, b, c, d: a * (b + c) - d),
    ("({} + {}) * ({} - {})", "ttff", lambda a, b, c, d: (a + b) * (c - d)),
    ("{} - ({} - {}) * {}", "ttff", lambda a, b, c, d: a - (b - c) * d),
)


def _exact_division(rng: random.Random) -> Tuple[str, int]:
    """``(a + b) / c + d`` where c divides a + b."""
    divisor, quotient, d = rng.randint(2, 25), rng.randint(2, 60), rng.randint(10, 999)
    a = rng.randint(1, divisor * quotient - 1)
    return f"({a} + {divisor * quotient - a}) / {divisor} + {d}", quotient + d


def _arithmetic_level3(rng: random.Random) -> Tuple[str, int]:
    """A random shape (or an exact division), redrawn while the answer is a trivial 0."""
    while True:
        shape = rng.randrange(len(_LEVEL3_SHAPES) + 1)
        if shape == len(_LEVEL3_SHAPES):
            return _exact_division(rng)
        text, sizes, value = _LEVEL3_SHAPES[shape]
        operands = [rng.randint(10, 999) if size == "t" else rng.randint(2, 25) for size in sizes]
        if value(*operands) != 0:
            return text.format(*operands), value(*operands)


_ARITHMETIC_LEVELS = {0: _arithmetic_level0, 1: _arithmetic_level1, 2: _arithmetic_level2, 3: _arithmetic_level3}


def arithmetic(index: int, rng: random.Random, difficulty: int) -> dict:
    """"What is 3 + 5?" at level 0, "What is 23 + 15?" at 1, up to "What is (120 + 45) * 7?" at 3."""
    expression, value = _ARITHMETIC_LEVELS[difficulty](rng)
    return make_problem(
        "arithmetic", index, difficulty, f"What is {expression}?", value, {"expression": expression}
    )
