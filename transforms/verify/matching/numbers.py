"""Numbers and structures, compared exactly: plain numbers and percentages, tuples,
intervals, sets and lists of numbers, complex numbers, integer radicals, inequalities
and set-builder sets as intervals, and answers too big to be one.

Standard library only: model text is matched with regular expressions and compared
as strings or exact ``Fraction``s, never through sympy.
"""
from __future__ import annotations

import re
from fractions import Fraction
from typing import List, Optional, Tuple, Union

#: Longest answer the exact path parses as a number (longer ones go to math-verify,
#: which runs bounded in its child process).
MAX_PLAIN_NUMBER_CHARS = 100
#: Longest answer the exact path looks at beyond string equality: every rule is a
#: regular expression or a scan over the answer, and stays fast under this bound.
MAX_CHEAP_CHARS = 2000

_PLAIN_NUMBER = re.compile(
    r"(?P<sign>[-+]?)(?P<int>\d{1,3}(?:,\d{3})+|\d+)?(?:\.(?P<frac>\d+))?(?P<pct>\\?%)?"
)
_SIMPLE_FRACTION = re.compile(
    r"(?P<sign>-?)(?:\\[dt]?frac\{(?P<num>\d+)\}\{(?P<den>\d+)\}|(?P<num2>\d+)/(?P<den2>\d+))"
)
_SPACING = re.compile(r"\\left|\\right|\\[,;:! ]|\s+")
_DEGREES = re.compile(r"\^\s*\{?\\circ\}?$")


def normalize_answer_text(answer: str) -> str:
    """A comparison key: no spaces or sizing macros, ``\\dfrac`` → ``\\frac``, no degree sign."""
    s = _SPACING.sub("", answer)
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    return _DEGREES.sub("", s).rstrip(".")


def parse_plain_number(text: str) -> Optional[Tuple[Fraction, bool]]:
    """(value, is_percent) of a plain number — "1,234", "-3.50", "50%", "3/4",
    "\\frac{3}{4}" — or None. Exact (Fraction), never through sympy."""
    s = normalize_answer_text(text)
    if len(s) > MAX_PLAIN_NUMBER_CHARS:
        return None
    match = _PLAIN_NUMBER.fullmatch(s)
    if match and (match.group("int") or match.group("frac")):
        whole = (match.group("int") or "0").replace(",", "")
        value = Fraction(f"{whole}.{match.group('frac') or '0'}")
        return (-value if match.group("sign") == "-" else value), bool(match.group("pct"))
    match = _SIMPLE_FRACTION.fullmatch(s)
    if match:
        num = int(match.group("num") or match.group("num2"))
        den = int(match.group("den") or match.group("den2"))
        if den == 0:
            return None
        value = Fraction(num, den)
        return (-value if match.group("sign") else value), False
    return None


def number_form(text: str) -> str:
    """fraction ("3/4", "\\frac{3}{4}"), decimal ("0.75") or integer."""
    s = normalize_answer_text(text)
    if _SIMPLE_FRACTION.fullmatch(s):
        return "fraction"
    return "decimal" if "." in s else "integer"


_THOUSANDS = re.compile(r",\d{3}(?!\d)")


def top_level_items(answer: str) -> List[str]:
    """``answer`` split at commas outside brackets ("1, 2" → two items; "(1, 2)" and
    "1,234" stay one)."""
    items, depth, start = [], 0, 0
    for i, ch in enumerate(answer):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(depth - 1, 0)
        elif ch == "," and depth == 0 and not _THOUSANDS.match(answer, i):
            items.append(answer[start:i].strip())
            start = i + 1
    return items + [answer[start:].strip()]


# -- answers too big to be one --------------------------------------------------------

#: Longest / most deeply nested predicted answer sent to math-verify (or twice the
#: gold's length / the gold's depth + 10, if more): a 100k-character "answer" or
#: 5,000 nested fractions is not a final answer, and parsing it would only burn time.
MAX_ANSWER_CHARS = 1000
MAX_ANSWER_DEPTH = 30


def nesting_depth(text: str) -> int:
    """How deeply brackets and braces nest in ``text`` (one pass)."""
    depth = deepest = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth = max(depth - 1, 0)
    return deepest


def oversized(gold: str, pred: str) -> Optional[str]:
    """Why ``pred`` is too big to be an answer to ``gold``, or None."""
    if len(pred) > max(MAX_ANSWER_CHARS, 2 * len(gold)):
        return f"answer_too_long: {len(pred)} chars"
    depth = nesting_depth(pred)
    if depth > max(MAX_ANSWER_DEPTH, nesting_depth(gold) + 10):
        return f"answer_too_deep: {depth} levels"
    return None


# -- tuples, intervals, sets and lists of plain numbers; complex numbers -------------

_BRACKETS = {"(": ")", "[": ")", "\\{": "\\}"}
_INFINITY = {"\\infty": "inf", "+\\infty": "inf", "-\\infty": "-inf", "∞": "inf", "-∞": "-inf"}
_COMPLEX = re.compile(r"(?:(?P<re>[-+]?\d+(?:\.\d+)?)(?P<sign>[-+])|(?P<lone>[-+]))?(?P<im>\d+(?:\.\d+)?)?i")


def _plain_items(inner: str) -> Optional[List]:
    """The values of a comma-separated list of plain numbers (or infinities), else None."""
    values: List[Union[str, Fraction]] = []  # "inf"/"-inf" for infinities, else exact numbers
    for item in top_level_items(inner):
        if item in _INFINITY:
            values.append(_INFINITY[item])
            continue
        number = parse_plain_number(item)
        if number is None or number[1] or re.fullmatch(r"\d{1,3}(,\d{3})+", item.strip()):
            return None
        values.append(number[0])
    return values


def _structure(answer: str) -> Optional[Tuple[str, str, List]]:
    """(opening, closing, values) of a tuple, interval, set or bare list of plain numbers."""
    s = normalize_answer_text(answer)
    for opener in ("\\{", "(", "["):
        if s.startswith(opener):
            for closer in (("\\}",) if opener == "\\{" else (")", "]")):
                if s.endswith(closer) and len(s) > len(opener) + len(closer):
                    inner = s[len(opener):-len(closer)]
                    if nesting_depth(inner) == 0:
                        values = _plain_items(inner)
                        return (opener, closer, values) if values is not None else None
            return None
    if "," in s and nesting_depth(s) == 0:
        values = _plain_items(s)
        return ("", "", values) if values is not None and len(values) > 1 else None
    return None


def _complex(answer: str) -> Optional[Tuple[Fraction, Fraction]]:
    """(real, imaginary) of "a + bi", "-2 - 7i", "3i", "-i" with plain numbers, else None."""
    match = _COMPLEX.fullmatch(normalize_answer_text(answer))
    if not match:
        return None
    real = Fraction(match.group("re")) if match.group("re") else Fraction(0)
    imag = Fraction(match.group("im") or "1")
    return real, -imag if "-" in (match.group("sign") or match.group("lone") or "") else imag


def structured_verdict(gold: str, pred: str) -> Optional[Tuple[str, str]]:
    """Tuples, intervals, sets and lists of plain numbers with the same brackets, and
    complex numbers ``a + bi``, compared exactly (sets and bare lists in any order,
    sets with repeats counted once);
    None when either isn't one, or the brackets differ (math-verify's call)."""
    g, p = _structure(gold), _structure(pred)
    if g is not None and p is not None and g[:2] == p[:2]:
        if g[0] == "\\{":  # a set: order and repeats don't count
            same = set(map(str, g[2])) == set(map(str, p[2]))
        elif g[0] == "":  # a bare list of answers: any order, each as often
            same = sorted(map(str, g[2])) == sorted(map(str, p[2]))
        else:
            same = g[2] == p[2]
        if same:
            return "correct", "same_values"
        both = gold + pred
        if "." in both and ("/" in both or "frac" in both):
            return None  # a rounded decimal against a fraction: math-verify's call
        return "incorrect", "different_values"
    gc, pc = _complex(gold), _complex(pred)
    if gc is not None and pc is not None:
        return ("correct", "same_complex") if gc == pc else ("incorrect", "different_complex")
    return None


# -- square roots of integers ----------------------------------------------------------

_RADICAL = re.compile(
    r"(?P<sign>-?)(?:\\frac\{(?P<fc>\d*)\\sqrt\{?(?P<fa>\d+)\}?\}\{(?P<fd>\d+)\}"
    r"|(?P<c>\d*)\\sqrt\{?(?P<a>\d+)\}?(?:/(?P<d>\d+))?)"
)


def _radical(answer: str) -> Optional[Tuple[int, Fraction]]:
    """(sign, square) of c√a, c√a/d or \\frac{c√a}{d} with plain integers, else None."""
    match = _RADICAL.fullmatch(normalize_answer_text(answer))
    if not match:
        return None
    c, a, d = (match.group("fc"), match.group("fa"), match.group("fd")) if match.group("fa") else \
        (match.group("c"), match.group("a"), match.group("d"))
    if len(a) > 12 or len(c or "") > 12 or len(d or "") > 12 or int(d or 1) == 0:
        return None
    value = Fraction(int(c or 1) ** 2 * int(a), int(d or 1) ** 2)
    return (-1 if match.group("sign") and value else 1), value


def radical_verdict(gold: str, pred: str) -> Optional[Tuple[str, str]]:
    """Square roots of integers with integer factors ("2\\sqrt{3}", "\\sqrt{12}",
    "\\frac{\\sqrt{3}}{2}") compared exactly through their squares; None otherwise."""
    g, p = _radical(gold), _radical(pred)
    if g is None or p is None:
        return None
    return ("correct", "same_radical") if g == p else ("incorrect", "different_radical")


# -- inequalities and set-builder sets as intervals ------------------------------------

_LESS = r"(?:<|\\lt|\\leq?|\\leqslant|≤|<=)"
_MORE = r"(?:>|\\gt|\\geq?|\\geqslant|≥|>=)"
_BOUND = r"(-?[0-9a-zA-Z\\{}.^/]+?)"
_SET_BUILDER = re.compile(
    r"^\\\{\s*([a-z])\s*(?:\\in\s*\\mathbb\{R\}\s*)?(?:\||\\mid|:)\s*(.+?)\s*\\\}$"
)


def _open_or_closed(op: str) -> bool:
    """True for a non-strict comparison (≤, ≥)."""
    return op in ("≤", "≥", "<=", ">=") or op.startswith(("\\le", "\\ge"))


def inequality_to_interval(answer: str) -> Optional[str]:
    """``x < 3``, ``-2 \\le x < 1`` or ``\\{x \\mid x \\geq 2\\}`` as interval
    notation (``(-\\infty, 3)``, ``[-2, 1)``, ``[2, \\infty)``), else None.

    Only one variable and one (possibly chained) condition; math-verify then
    compares intervals, which it does well, instead of relations, which it doesn't."""
    if len(answer) > MAX_CHEAP_CHARS:
        return None
    s = answer.strip().replace("\\left", "").replace("\\right", "")
    builder = _SET_BUILDER.match(s)
    variable = None
    if builder:
        variable, s = builder.group(1), builder.group(2)
    chained = re.fullmatch(rf"\s*{_BOUND}\s*({_LESS})\s*([a-z])\s*({_LESS})\s*{_BOUND}\s*", s)
    if chained and variable in (None, chained.group(3)):
        low, low_op, _, high_op, high = chained.groups()
        return f"{'[' if _open_or_closed(low_op) else '('}{low}, {high}{']' if _open_or_closed(high_op) else ')'}"
    chained = re.fullmatch(rf"\s*{_BOUND}\s*({_MORE})\s*([a-z])\s*({_MORE})\s*{_BOUND}\s*", s)
    if chained and variable in (None, chained.group(3)):
        high, high_op, _, low_op, low = chained.groups()
        return f"{'[' if _open_or_closed(low_op) else '('}{low}, {high}{']' if _open_or_closed(high_op) else ')'}"
    single = re.fullmatch(rf"\s*([a-z])\s*({_LESS}|{_MORE})\s*{_BOUND}\s*", s)
    if single and variable in (None, single.group(1)):
        _, op, bound = single.groups()
        closed = _open_or_closed(op)
        if re.fullmatch(_LESS, op):
            return f"(-\\infty, {bound}{']' if closed else ')'}"
        return f"{'[' if closed else '('}{bound}, \\infty)"
    return None
