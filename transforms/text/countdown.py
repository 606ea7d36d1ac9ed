"""Checking a Countdown answer: does an arithmetic expression reach the target from the
given numbers, each used exactly once (TinyZero's rule) or, under ``at_most_once``, at
most once? Beam-free; used by the verify stage for problems whose
``metadata["verifier"]`` is ``"countdown"`` (as the countdown generator writes, with the
rule in ``metadata["rule"]``)."""
from __future__ import annotations

import ast
import re
from collections import Counter
from fractions import Fraction
from typing import List, Optional, Sequence, Tuple, cast

#: Every given number used exactly once (TinyZero's rule, the default).
EXACTLY_ONCE = "exactly_once"
#: Each given number used at most once (some may be left out).
AT_MOST_ONCE = "at_most_once"
#: The rules :func:`check_countdown` knows.
RULES = (EXACTLY_ONCE, AT_MOST_ONCE)

#: Longest expression :func:`check_countdown` will parse (longer ones are rejected).
MAX_EXPRESSION_CHARS = 256

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
        return Fraction(cast(int, node.value))  # _literals let only int constants through
    node = cast(ast.BinOp, node)  # ... and, besides them, only BinOps of + - * /
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


def _number_text(value: Fraction) -> str:
    """A rational as ``"5"``, ``"-4"`` or reduced ``"-7/3"`` (the generators' gold-answer form)."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


def check_countdown(expression: str, numbers: Sequence[int], target: int,
                    rule: str = EXACTLY_ONCE) -> Tuple[bool, str]:
    """Whether ``expression`` reaches ``target`` using each of ``numbers`` exactly once
    (``rule`` ``exactly_once``, TinyZero's) or at most once (``at_most_once``).

    Safe: parsed with ``ast.parse(mode="eval")`` and walked, never evaluated by Python;
    only integer literals, ``+ - * /`` and parentheses are allowed (no unary minus, no
    ``**``, names, calls or attributes). Arithmetic is exact (``Fraction``). A trailing
    ``= target`` is accepted, and ``×``/``÷``/``\\times``/``\\div`` are read as ``*``/``/``.
    Returns ``(ok, reason)``; reason is ``"ok"`` or ``"<code>: <detail>"`` with code one of
    empty, too_long, syntax_error, not_allowed, unknown_number, number_reused,
    number_unused (``exactly_once`` only), division_by_zero, wrong_result.
    ValueError for an unknown ``rule``.
    """
    if rule not in RULES:
        raise ValueError(f"rule: must be one of {', '.join(RULES)}, got {rule!r}")
    if not isinstance(expression, str) or not expression.strip():
        return False, "empty: no expression"
    if len(expression) > MAX_EXPRESSION_CHARS:
        return False, f"too_long: {len(expression)} chars > {MAX_EXPRESSION_CHARS}"
    for symbol, operator in _UNICODE_OPERATORS.items():
        expression = expression.replace(symbol, operator)
    stripped, reason = _strip_equation(expression.strip(), target)
    if stripped is None:
        return False, reason
    try:
        tree = ast.parse(stripped, mode="eval")
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
    if rule == EXACTLY_ONCE:
        unused = sorted((available - Counter(used)).elements())
        if unused:
            return False, f"number_unused: {', '.join(map(str, unused))} not used (each number exactly once)"
    try:
        value = _evaluate(tree)
    except ZeroDivisionError:
        return False, "division_by_zero: the expression divides by zero"
    if value != target:
        return False, f"wrong_result: got {_number_text(value)}, want {target}"
    return True, "ok"
