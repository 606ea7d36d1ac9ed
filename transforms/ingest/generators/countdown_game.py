"""The ``countdown`` generator (as in TinyZero): reach a target from given numbers.

3 numbers at level 1, 4 at 2, 5-6 at 3, and a target built from a random expression
over all of them (positive integer intermediate results), so it is always reachable
with every number used exactly once. TinyZero's rule is the default: the answer must use
every number exactly once; ``rule="at_most_once"`` lets it leave numbers out. The gold
answer is the target, ``metadata["verifier"] == "countdown"`` and ``metadata["rule"]``
the rule; answers are checked by :func:`transforms.text.countdown.check_countdown`."""
from __future__ import annotations

import random
from typing import List, Tuple

from transforms.ingest.generators.common import make_problem
from transforms.text.countdown import AT_MOST_ONCE, EXACTLY_ONCE, RULES

#: How the prompt states each rule.
_RULE_TEXT = {EXACTLY_ONCE: "each number exactly once", AT_MOST_ONCE: "each number at most once"}

#: difficulty -> (how many numbers (choices), largest number, largest target, largest product).
#: The sum of all numbers never exceeds the largest target, so an all-``+`` fold always qualifies.
_COUNTDOWN_LEVELS = {
    1: ((3,), 20, 100, 1000),
    2: ((4,), 50, 200, 2000),
    3: ((5, 6), 100, 1000, 10000),
}


def _combine(a: Tuple[int, str], b: Tuple[int, str], cap: int) -> List[Tuple[int, str]]:
    """Every (value, text) of ``a op b`` / ``b op a`` that stays a positive integer <= cap."""
    (x, tx), (y, ty) = a, b
    options = [(x + y, f"({tx} + {ty})")]
    if x != y:
        big, small = (a, b) if x > y else (b, a)
        options.append((big[0] - small[0], f"({big[1]} - {small[1]})"))
    if x * y <= cap:
        options.append((x * y, f"({tx} * {ty})"))
    if y > 1 and x % y == 0:
        options.append((x // y, f"({tx} / {ty})"))
    if x > 1 and y % x == 0:
        options.append((y // x, f"({ty} / {tx})"))
    return options


def _countdown_solution(rng: random.Random, numbers: List[int], cap: int) -> Tuple[int, str]:
    """Fold all numbers pairwise with random operations into one (target, expression)."""
    pool = [(n, str(n)) for n in numbers]
    while len(pool) > 1:
        i, j = rng.sample(range(len(pool)), 2)
        merged = rng.choice(_combine(pool[i], pool[j], cap))
        pool = [item for k, item in enumerate(pool) if k not in (i, j)] + [merged]
    target, text = pool[0]
    return target, text[1:-1]  # drop the outermost parentheses


def countdown(index: int, rng: random.Random, difficulty: int, rule: str = EXACTLY_ONCE) -> dict:
    """TinyZero-style: reach a target from given numbers with + - * /, each used exactly
    once (``rule`` ``exactly_once``) or at most once (``at_most_once``)."""
    if rule not in RULES:
        raise ValueError(f"rule: countdown rules are {', '.join(RULES)}, got {rule!r}")
    sizes, largest, max_target, cap = _COUNTDOWN_LEVELS[difficulty]
    numbers = [rng.randint(1, largest) for _ in range(rng.choice(sizes))]
    while True:  # ends: an all-"+" fold qualifies (see _COUNTDOWN_LEVELS)
        target, solution = _countdown_solution(rng, numbers, cap)
        if target <= max_target and target not in numbers:
            break
    prompt = (
        f"Using the numbers {numbers}, write an arithmetic expression that equals {target}. "
        f"You may use +, -, *, / and parentheses, and {_RULE_TEXT[rule]}. "
        "Give the expression as your final answer."
    )
    metadata = {"verifier": "countdown", "rule": rule, "numbers": numbers, "target": target,
                "solution": solution}
    return make_problem("countdown", index, difficulty, prompt, str(target), metadata)
