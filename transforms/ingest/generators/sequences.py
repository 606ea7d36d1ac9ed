"""The ``sequence`` generator: what comes next in a number sequence (a pattern puzzle).

Each puzzle shows the first terms of a sequence whose rule is fixed by them and asks
for the next term; the gold answer is that term, checked as a number.

0 = counting on by 1 or 2 from a small start (a laptop model's level), 1 = adding or
subtracting a constant, 2 = multiplying by a constant or alternating two steps,
3 = second differences that grow by a constant, or each term the sum of the two before.
Four terms are shown at levels 0-1, five at 2 and six at 3: enough to pin the rule down
among the kinds of its level."""
from __future__ import annotations

import random
from typing import List

from transforms.ingest.generators.common import make_problem


def _arithmetic_run(rng: random.Random, start: int, step: int, terms: int) -> List[int]:
    return [start + step * i for i in range(terms)]


def _level0(rng: random.Random) -> List[int]:
    return _arithmetic_run(rng, rng.randint(1, 30), rng.choice((1, 2)), 5)


def _level1(rng: random.Random) -> List[int]:
    step = rng.randint(3, 12)
    if rng.random() < 0.3:  # counting down, staying positive
        return _arithmetic_run(rng, step * 5 + rng.randint(1, 20), -step, 5)
    return _arithmetic_run(rng, rng.randint(1, 30), step, 5)


def _level2(rng: random.Random) -> List[int]:
    if rng.random() < 0.5:
        factor = rng.choice((2, 3))
        start = rng.randint(1, 6)
        return [start * factor ** i for i in range(6)]
    up, down = rng.randint(4, 9), rng.randint(1, 3)
    terms = [rng.randint(1, 20)]
    for i in range(5):
        terms.append(terms[-1] + (up if i % 2 == 0 else -down))
    return terms


def _level3(rng: random.Random) -> List[int]:
    if rng.random() < 0.5:
        terms = [rng.randint(1, 10)]
        gap, growth = rng.randint(1, 5), rng.randint(1, 4)
        for i in range(6):
            terms.append(terms[-1] + gap + growth * i)
        return terms
    terms = [rng.randint(1, 5), rng.randint(1, 8)]
    while len(terms) < 7:
        terms.append(terms[-1] + terms[-2])
    return terms


_LEVELS = {0: _level0, 1: _level1, 2: _level2, 3: _level3}


def sequence(index: int, rng: random.Random, difficulty: int) -> dict:
    """A number sequence without its last term; the answer is that term."""
    terms = _LEVELS[difficulty](rng)
    shown, answer = terms[:-1], terms[-1]
    prompt = (f"What number comes next in the sequence {', '.join(map(str, shown))}, ...? "
              "Find the pattern and give the next number.")
    return make_problem("sequence", index, difficulty, prompt, answer, {"terms": shown})
