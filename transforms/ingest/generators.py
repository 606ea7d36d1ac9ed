"""Procedural generators of math problems with exact gold answers (no external data).

Four generators, named as the config refers to them (``SourceConfig.generator``):

- ``arithmetic``: 0 = ``a + b`` / ``a - b`` with single digits ("What is 3 + 5?", for
  tiny models and demos); 1 = ``a + b`` / ``a - b`` with 1-2 digit numbers ("What is 23 + 15?");
  2 = a multiplication or a three-term sum/difference; 3 = mixed expressions with
  parentheses (and exact divisions) over larger numbers. Answers are integers.
- ``linear_equation``: "Solve for x: 3x + 5 = 20." 1 = ``ax ± b = c`` with an integer
  root; 2 = x on both sides; 3 = parentheses or fractions on both sides. Answers at
  levels 2-3 may be fractions.
- ``countdown`` (as in TinyZero): 3 numbers at level 1, 4 at 2, 5-6 at 3, and a target
  built from a random expression over all of them (positive integer intermediate
  results), so it is always reachable. Checked by :func:`check_countdown`.
- ``unit_rate``: proportion word problems (speeds, prices, recipes, machines, workers)
  with integer answers; 1 = scale a rate, 2 = reverse or inverse proportion with
  larger numbers, 3 = two-factor (joint) proportion.

Gold answer format: integers as ``"12"`` / ``"-4"``; fractions as reduced ``"a/b"``
with the sign on the numerator (``"-7/3"``), never LaTeX. For countdown the gold
answer is the target and ``metadata["verifier"] == "countdown"``.

Every problem is a dict ``{"id", "prompt", "answer", "difficulty", "metadata"}``
(``metadata`` is JSON-serialisable). Problem ``i`` is drawn from
``random.Random(derive_seed(seed, name, i))``; when its prompt repeats an earlier one,
the same rng draws again, so a problem depends only on the seed, the name, its index
and the earlier problems: asking for more problems never changes earlier ones.
"""
from __future__ import annotations

import ast
import math
import random
import re
from collections import Counter
from fractions import Fraction
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

from transforms.core import derive_seed

#: Difficulty levels every generator understands.
LEVELS = (1, 2, 3)
#: Extra levels of some generators (arithmetic 0: single-digit sums and differences).
EXTRA_LEVELS = {"arithmetic": (0,)}

#: Draws per problem index before giving up on finding a prompt not seen before.
MAX_ATTEMPTS = 100

#: Longest expression :func:`check_countdown` will parse (longer ones are rejected).
MAX_EXPRESSION_CHARS = 256


def format_number(value: Fraction) -> str:
    """The gold-answer text of a rational: ``"5"``, ``"-4"`` or reduced ``"-7/3"``."""
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


def _problem(name: str, index: int, difficulty: int, prompt: str, answer, metadata: dict) -> dict:
    """The problem dict; a numeric ``answer`` is written by :func:`format_number`."""
    return {
        "id": f"{name}-{index}",
        "prompt": prompt,
        "answer": format_number(answer) if not isinstance(answer, str) else answer,
        "difficulty": str(difficulty),
        "metadata": metadata,
    }


# -- arithmetic ----------------------------------------------------------------

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
    return _problem(
        "arithmetic", index, difficulty, f"What is {expression}?", value, {"expression": expression}
    )


# -- linear equations ----------------------------------------------------------

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
    return _problem(
        "linear_equation", index, difficulty, f"Solve for x: {equation}.", root,
        {"equation": equation, "variable": "x"},
    )


# -- countdown -----------------------------------------------------------------

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


def countdown(index: int, rng: random.Random, difficulty: int) -> dict:
    """TinyZero-style: reach a target from given numbers with + - * /, each used at most once."""
    sizes, largest, max_target, cap = _COUNTDOWN_LEVELS[difficulty]
    numbers = [rng.randint(1, largest) for _ in range(rng.choice(sizes))]
    while True:  # ends: an all-"+" fold qualifies (see _COUNTDOWN_LEVELS)
        target, solution = _countdown_solution(rng, numbers, cap)
        if target <= max_target and target not in numbers:
            break
    prompt = (
        f"Using the numbers {numbers}, write an arithmetic expression that equals {target}. "
        "You may use +, -, *, / and parentheses, and each number at most once. "
        "Give the expression as your final answer."
    )
    metadata = {"verifier": "countdown", "numbers": numbers, "target": target, "solution": solution}
    return _problem("countdown", index, difficulty, prompt, str(target), metadata)


#: Operator spellings models use, read as the ASCII operator by check_countdown.
_UNICODE_OPERATORS = {
    "×": "*", "∗": "*", "·": "*", "\\times": "*", "\\cdot": "*",
    "÷": "/", "\\div": "/", "−": "-", "–": "-",
}
_ALLOWED_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div)


def _literals(node: ast.AST) -> List[int]:
    """The integer literals of an expression made only of + - * / and parentheses.

    Raises ValueError naming the first node that is not allowed."""
    if isinstance(node, ast.Expression):
        return _literals(node.body)
    if isinstance(node, ast.BinOp) and isinstance(node.op, _ALLOWED_OPERATORS):
        return _literals(node.left) + _literals(node.right)
    if isinstance(node, ast.Constant):
        if type(node.value) is int:
            return [node.value]
        raise ValueError(f"literal {node.value!r}")
    if isinstance(node, (ast.BinOp, ast.UnaryOp)):
        raise ValueError(type(node.op).__name__)
    raise ValueError(type(node).__name__)


def _evaluate(node: ast.AST) -> Fraction:
    """Exact value of an expression that :func:`_literals` accepted."""
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant):
        return Fraction(node.value)
    left, right = _evaluate(node.left), _evaluate(node.right)
    if isinstance(node.op, ast.Add):
        return left + right
    if isinstance(node.op, ast.Sub):
        return left - right
    if isinstance(node.op, ast.Mult):
        return left * right
    return left / right


def _strip_equation(expression: str, target: int) -> Tuple[Optional[str], str]:
    """Accept ``expr = N`` / ``N = expr``: (the expression, "") or (None, reason)."""
    if "=" not in expression:
        return expression, ""
    parts = [part.strip() for part in expression.split("=")]
    if len(parts) != 2:
        return None, "syntax_error: more than one '='"
    for claimed, side in (parts[1], parts[0]), (parts[0], parts[1]):
        if re.fullmatch(r"[0-9]{1,12}", claimed):
            if int(claimed) != target:
                return None, f"wrong_result: claims {claimed}, want {target}"
            return side, ""
    return None, "syntax_error: '=' without a number on one side"


def check_countdown(expression: str, numbers: Sequence[int], target: int) -> Tuple[bool, str]:
    """Whether ``expression`` reaches ``target`` using each of ``numbers`` at most once.

    Safe: parsed with ``ast.parse(mode="eval")`` and walked, never evaluated by Python;
    only integer literals, ``+ - * /`` and parentheses are allowed (no unary minus, no
    ``**``, names, calls or attributes). Arithmetic is exact (``Fraction``). A trailing
    ``= target`` is accepted, and ``×``/``÷``/``\\times``/``\\div`` are read as ``*``/``/``.
    Returns ``(ok, reason)``; reason is ``"ok"`` or ``"<code>: <detail>"`` with code one of
    empty, too_long, syntax_error, not_allowed, unknown_number, number_reused,
    division_by_zero, wrong_result.
    """
    if not isinstance(expression, str) or not expression.strip():
        return False, "empty: no expression"
    if len(expression) > MAX_EXPRESSION_CHARS:
        return False, f"too_long: {len(expression)} chars > {MAX_EXPRESSION_CHARS}"
    for symbol, operator in _UNICODE_OPERATORS.items():
        expression = expression.replace(symbol, operator)
    expression, reason = _strip_equation(expression.strip(), target)
    if expression is None:
        return False, reason
    try:
        tree = ast.parse(expression, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return False, f"syntax_error: {type(exc).__name__}"
    try:
        used = _literals(tree)
    except ValueError as exc:
        return False, f"not_allowed: {exc}"
    except RecursionError:
        return False, "not_allowed: nested too deeply"
    available = Counter(numbers)
    for number, times in sorted(Counter(used).items()):
        if number not in available:
            return False, f"unknown_number: {number} is not in {list(numbers)}"
        if times > available[number]:
            return False, f"number_reused: {number} used {times} times, given {available[number]}"
    try:
        value = _evaluate(tree)
    except ZeroDivisionError:
        return False, "division_by_zero: the expression divides by zero"
    if value != target:
        return False, f"wrong_result: got {format_number(value)}, want {target}"
    return True, "ok"


# -- unit rates ----------------------------------------------------------------

# Templates of a rate "total per unit": {q1} units give {t1}; ask for the total of {q2}
# units ("scale") or for how many units give {t2} ("reverse").
_RATE_TEMPLATES = [
    {
        "given": "A car travels {t1} km in {q1} hours.",
        "scale": "At the same speed, how many km does it travel in {q2} hours?",
        "reverse": "At the same speed, how many hours does it take to travel {t2} km?",
    },
    {
        "given": "{q1} {item} cost ${t1}.",
        "scale": "At the same price each, how many dollars do {q2} {item} cost?",
        "reverse": "At the same price each, how many {item} can you buy with ${t2}?",
        "items": ["notebooks", "pens", "tickets", "mugs", "books", "apples", "candles", "posters"],
    },
    {
        "given": "A recipe uses {t1} grams of {item} to make {q1} cookies.",
        "scale": "How many grams of {item} are needed for {q2} cookies?",
        "reverse": "How many cookies can be made with {t2} grams of {item}?",
        "items": ["flour", "sugar", "butter", "oats", "chocolate"],
    },
    {
        "given": "A printer prints {t1} pages in {q1} minutes.",
        "scale": "At the same rate, how many pages does it print in {q2} minutes?",
        "reverse": "At the same rate, how many minutes does it take to print {t2} pages?",
    },
    {
        "given": "A pump moves {t1} liters of water in {q1} minutes.",
        "scale": "At the same rate, how many liters does it move in {q2} minutes?",
        "reverse": "At the same rate, how many minutes does it take to move {t2} liters?",
    },
    {
        "given": "A worker packs {t1} boxes in {q1} hours.",
        "scale": "At the same pace, how many boxes does the worker pack in {q2} hours?",
        "reverse": "At the same pace, how many hours does it take to pack {t2} boxes?",
    },
]

# Inverse proportion: {a1} (workers, pipes, km/h) take {b1}; how long for {a2}?
_INVERSE_TEMPLATES = [
    "{a1} workers can paint a house in {b1} days. Working at the same rate, "
    "how many days would {a2} workers take?",
    "{a1} identical pipes fill a tank in {b1} hours. How many hours would {a2} such pipes take?",
    "A trip takes {b1} hours at {a1} km/h. How many hours does it take at {a2} km/h?",
    "{a1} machines finish an order in {b1} hours. How many hours would {a2} machines take?",
]

# Joint proportion: {a1} agents produce {t1} in {b1} time units; what do {a2} make in {b2}?
_JOINT_TEMPLATES = [
    "{a1} workers make {t1} toys in {b1} days. At the same rate, how many toys do "
    "{a2} workers make in {b2} days?",
    "{a1} machines fill {t1} bottles in {b1} hours. At the same rate, how many bottles do "
    "{a2} machines fill in {b2} hours?",
    "{a1} cows eat {t1} kg of hay in {b1} days. At the same rate, how many kg of hay do "
    "{a2} cows eat in {b2} days?",
    "{a1} printers print {t1} pages in {b1} minutes. At the same rate, how many pages do "
    "{a2} printers print in {b2} minutes?",
]


def _two_distinct(rng: random.Random, low: int, high: int) -> Tuple[int, int]:
    """Two different random integers in [low, high]."""
    first, second = rng.sample(range(low, high + 1), 2)
    return first, second


def _rate_problem(rng: random.Random, reverse: bool) -> Tuple[str, int, dict]:
    """A rate of ``rate`` per unit: scale it to q2 units, or (reverse) find the units giving t2."""
    template = rng.choice(_RATE_TEMPLATES)
    item = rng.choice(template.get("items", [""]))
    if reverse:
        rate, (q1, q2) = rng.randint(5, 60), _two_distinct(rng, 3, 25)
    else:
        rate, (q1, q2) = rng.randint(2, 12), _two_distinct(rng, 2, 10)
    t1, t2 = rate * q1, rate * q2
    ask = "reverse" if reverse else "scale"
    text = f"{template['given']} {template[ask]}".format(q1=q1, t1=t1, q2=q2, t2=t2, item=item)
    if reverse:
        return text, q2, {"kind": ask, "q1": q1, "t1": t1, "t2": t2}
    return text, t2, {"kind": ask, "q1": q1, "t1": t1, "q2": q2}


def _inverse_problem(rng: random.Random) -> Tuple[str, int, dict]:
    """``a1 * b1 = a2 * b2`` (the same amount of work): ask for b2."""
    a1, a2 = _two_distinct(rng, 2, 12)
    work = a1 * a2 // math.gcd(a1, a2) * rng.randint(1, 4)
    b1, b2 = work // a1, work // a2
    text = rng.choice(_INVERSE_TEMPLATES).format(a1=a1, b1=b1, a2=a2)
    return text, b2, {"kind": "inverse", "a1": a1, "b1": b1, "a2": a2}


def _joint_problem(rng: random.Random) -> Tuple[str, int, dict]:
    """``total ∝ a * b``: t2 = t1 * (a2 * b2) / (a1 * b1)."""
    rate = rng.randint(2, 15)
    (a1, a2), (b1, b2) = _two_distinct(rng, 2, 12), _two_distinct(rng, 2, 12)
    t1, t2 = rate * a1 * b1, rate * a2 * b2
    text = rng.choice(_JOINT_TEMPLATES).format(a1=a1, t1=t1, b1=b1, a2=a2, b2=b2)
    return text, t2, {"kind": "joint", "a1": a1, "b1": b1, "t1": t1, "a2": a2, "b2": b2}


def unit_rate(index: int, rng: random.Random, difficulty: int) -> dict:
    """Proportion word problems with integer answers.

    ``metadata["kind"]`` names the formula and holds the numbers of the prompt:
    scale: ``t1 / q1 * q2``; reverse: ``t2 / (t1 / q1)``; inverse: ``a1 * b1 / a2``;
    joint: ``t1 / (a1 * b1) * a2 * b2``."""
    if difficulty == 1:
        text, answer, metadata = _rate_problem(rng, reverse=False)
    elif difficulty == 3:
        text, answer, metadata = _joint_problem(rng)
    elif rng.random() < 0.5:
        text, answer, metadata = _rate_problem(rng, reverse=True)
    else:
        text, answer, metadata = _inverse_problem(rng)
    return _problem("unit_rate", index, difficulty, text, answer, metadata)


# -- registry ------------------------------------------------------------------

GENERATORS: Dict[str, Callable[[int, random.Random, int], dict]] = {
    "arithmetic": arithmetic,
    "linear_equation": linear_equation,
    "countdown": countdown,
    "unit_rate": unit_rate,
}


def levels_of(name: str) -> Tuple[int, ...]:
    """The difficulty levels generator ``name`` understands."""
    return tuple(sorted(EXTRA_LEVELS.get(name, ()) + LEVELS))


def check_generator(name: str, difficulties: Sequence[int]) -> None:
    """ValueError naming the field (``generator``, ``difficulty``) for an unknown generator
    or a level it doesn't understand."""
    if name not in GENERATORS:
        raise ValueError(f"generator: unknown generator {name!r}; valid names: {', '.join(sorted(GENERATORS))}")
    levels = levels_of(name)
    if not difficulties or any(type(d) is not int or d not in levels for d in difficulties):
        raise ValueError(f"difficulty: {name} levels are {', '.join(map(str, levels))}, got {list(difficulties)}")


def generate_problems(name: str, count: int, seed: int, difficulties: Sequence[int]) -> List[dict]:
    """``count`` problems of generator ``name``; problem ``i`` has level ``difficulties[i % len]``.

    Prompts are distinct: a prompt seen earlier is redrawn from the same rng (deterministic).
    Raises ValueError for an unknown name, a bad count or level, or when no new prompt is
    found in ``MAX_ATTEMPTS`` draws (the requested count exceeds what the levels can make)."""
    check_generator(name, difficulties)
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    levels = list(difficulties)
    generator = GENERATORS[name]
    seen = set()
    problems = []
    for index in range(count):
        rng = random.Random(derive_seed(seed, name, index))
        difficulty = levels[index % len(levels)]
        for _ in range(MAX_ATTEMPTS):
            problem = generator(index, rng, difficulty)
            if problem["prompt"] not in seen:
                break
        else:
            raise ValueError(
                f"{name}: no new prompt for problem {index} after {MAX_ATTEMPTS} draws; "
                f"count {count} is too large for difficulties {levels}"
            )
        seen.add(problem["prompt"])
        problems.append(problem)
    return problems
