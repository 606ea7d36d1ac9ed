"""The checker: a run's output against the expected one, decided in the parent.

Everything compared here came out of the sandbox (stdout, the harness's result lines)
and is untrusted: the rules are exact by default, bounded, and never raise.

stdin tests (:func:`outputs_match`): the same lines (trailing whitespace and blank
lines ignored), or else the same whitespace-separated tokens, token by token. The
expected token decides how exact a number must be:

==========================================  ===========================================
tokens (printed, expected)                  rule
==========================================  ===========================================
the same text                               equal (``inf`` = ``inf``, ``abc`` = ``abc``)
both integers (``[+-]?[0-9]+``)             equal values, exactly: ``007`` = ``7``,
                                            ``-0`` = ``0``, ``1000000008`` ≠ ``1000000007``
                                            (any length; never through ``float``)
expected an integer, printed a decimal or   within ``float_tolerance`` *absolute*,
exponent form (``3.0``, ``1e9``)            computed exactly: ``3.0`` = ``3``,
                                            ``2.9999999`` = ``3``, ``1000000008.0`` ≠
                                            ``1000000007``, ``1e9`` ≠ ``1000000001``
expected a decimal or exponent form         within ``float_tolerance`` relative or
(``1.5``, ``.5``, ``3.``, ``1e9``), printed  absolute (floats): ``3`` = ``3.0``,
a number                                    ``0.3333333333`` = ``0.333333333``
a non-finite value (``1e999``, ``inf``,     never equal to anything but the same text
``nan``, 309+ digits as a float)
anything else: other digits (full-width,    compared as text only: ``１２`` ≠ ``12``,
Arabic-Indic …), ``1_000``, ``0x10``        ``1_000`` ≠ ``1000``
==========================================  ===========================================

call tests (:func:`values_match`), on JSON values, the same way: ``bool`` only equals
``bool``; two integers compare exactly; an expected integer accepts a float within
the tolerance absolute (exactly computed); an expected float accepts an integer or a
float within the tolerance relative or absolute, when both are finite (an integer
too big for a float never matches one); strings, ``null`` exactly; lists item by
item, objects key by key; an expected ``[x]`` also accepts ``x`` (APPS wraps call
outputs in a list). Values nested deeper than :data:`MAX_VALUE_DEPTH` never match.
"""
from __future__ import annotations

import math
import re
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal
from fractions import Fraction

#: The deepest JSON value compared (the result channel refuses deeper ones anyway).
MAX_VALUE_DEPTH = 64

_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def outputs_match(actual: str, expected: str, tolerance: float = 1e-6) -> bool:
    """stdout against the expected output (the rules in this module's docstring)."""
    def lines(text):
        return [line.rstrip() for line in text.strip().splitlines()]

    if lines(actual) == lines(expected):
        return True
    got, want = actual.split(), expected.split()
    return len(got) == len(want) and all(tokens_match(g, w, tolerance) for g, w in zip(got, want))


def tokens_match(got: str, want: str, tolerance: float = 1e-6) -> bool:
    """One output token against the expected one (the table in this module's docstring)."""
    if got == want:
        return True
    if _INTEGER.fullmatch(got) and _INTEGER.fullmatch(want):
        return _integer_key(got) == _integer_key(want)
    if not (_NUMBER.fullmatch(got) and _NUMBER.fullmatch(want)):
        return False
    if _INTEGER.fullmatch(want):
        return _near_integer(Decimal(got), Decimal(want), tolerance)  # ASCII: can't raise
    return _close(float(got), float(want), tolerance)  # ASCII decimals: float() can't raise


#: Exact enough for the difference of two decimals (the difference is rounded, not the
#: operands; no exponent overflows, nothing traps).
_EXACT = Context(prec=60, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[])


def _near_integer(got: Decimal, want: Decimal, tolerance: float) -> bool:
    """A printed decimal within ``tolerance`` absolute of an expected integer, computed
    exactly (``1000000008.0`` is not ``1000000007``, whatever the magnitude)."""
    if not got.is_finite() or got.adjusted() > want.adjusted() + 2:
        return False
    return abs(_EXACT.subtract(got, want)) <= Decimal(repr(tolerance))


def _integer_key(token: str):
    """(negative, digits) of an ASCII integer, without leading zeros or a "+"."""
    digits = token.lstrip("+-").lstrip("0") or "0"
    return token.startswith("-") and digits != "0", digits


def _close(a, b, tolerance: float) -> bool:
    """Both finite and within ``tolerance`` (relative or absolute); False for an
    integer too big to be a float."""
    try:
        a, b = float(a), float(b)
    except OverflowError:
        return False
    if not (math.isfinite(a) and math.isfinite(b)):
        return False
    return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)


def values_match(actual, expected, tolerance: float = 1e-6) -> bool:
    """A call's JSON value against the expected one (the rules in this module's docstring)."""
    if _same_value(actual, expected, tolerance, 0):
        return True
    return isinstance(expected, list) and len(expected) == 1 and _same_value(actual, expected[0], tolerance, 0)


def _same_value(a, b, tolerance: float, depth: int) -> bool:
    if depth > MAX_VALUE_DEPTH:
        return False
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if type(a) is int and type(b) is int:
        return a == b
    if type(b) is int and type(a) is float:  # expected an integer: absolute, exactly
        return math.isfinite(a) and abs(Fraction(a) - b) <= Fraction(tolerance)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return _close(a, b, tolerance)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_value(x, y, tolerance, depth + 1) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_value(a[k], b[k], tolerance, depth + 1) for k in a)
    return type(a) is type(b) and a == b
