"""Written forms of one maths answer, rewritten to one form before any comparison
(the exact path and math-verify both see the rewritten text):

* Unicode: vulgar fractions (``½`` → ``\\frac{1}{2}``, a mixed ``1½`` →
  ``\\frac{3}{2}``), digits of any script (full-width ``１２``, Arabic-Indic ``١٢``,
  maths alphanumerics) → ASCII, superscripts and subscripts (``x²`` → ``x^{2}``),
  full-width ASCII forms (``（``, ``，``), and maths symbols (``√2`` →
  ``\\sqrt{2}``, ``π``, ``∞``, ``×``, ``÷``, ``·``, ``≤``, ``≥``, ``≠``, ``°``, the
  fraction slash ``⁄``, the minus sign ``−``);
* upright constants: ``\\mathrm{i}``, ``\\mathrm{e}`` (and ``\\text``,
  ``\\operatorname``, ``{\\rm i}``) → ``i``, ``e``;
* Euler-form complex numbers: ``r e^{i θ}`` / ``\\exp(i θ)`` with ``i`` a factor of
  the exponent → ``r (a + bi)`` exactly when θ is a plain multiple of π/4 or π/6
  (``e^{i\\pi}`` → ``-1``), else ``r (\\cos θ + i \\sin θ)`` (math-verify reads ``i``
  as a symbol, so ``e^{i\\pi}`` was not ``-1``; it compares these forms right);
* sets: ``\\{a, b, a\\}`` → ``\\{a, b\\}`` (a repeated element written twice, the
  same text once).

Standard library only, linear in the answer (callers bound its length first); model
text is only rewritten as text, never evaluated.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Dict, List, Optional, Tuple

from transforms.verify.matching.numbers import normalize_answer_text, top_level_items

_SYMBOLS = {
    "\u2212": "-", "\u00d7": "\\times ", "\u00f7": "\\div ", "\u00b7": "\\cdot ", "\u22c5": "\\cdot ",
    "\u2044": "/", "\u2215": "/", "\u03c0": "\\pi ", "\u221e": "\\infty ", "\u2264": "\\le ", "\u2265": "\\ge ",
    "\u2260": "\\ne ", "\u00b0": "^{\\circ}", "\u221b": "\\sqrt[3]", "\u221c": "\\sqrt[4]", "\u3000": " ",
}
_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁽⁾", "0123456789+-()"))
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋₍₎", "0123456789+-()"))
_UPRIGHT = re.compile(r"\\(?:mathrm|textrm|text|mathit|operatorname|rm)\s*\{\s*([ie])\s*\}|\{\s*\\rm\s+([ie])\s*\}")
#: ``i`` as a factor: not inside a word or a command (``\\pi``, ``\\sin``, ``\\int``).
_STANDALONE_I = re.compile(r"(?<![A-Za-z\\])i")
_EULER = re.compile(r"e\s*\^\s*\{|\\exp\s*(?:\\left\s*)?[({]")
_TIMES = ("\\cdot", "\\times", "*")


def normalize_forms(answer: str) -> str:
    """``answer`` with the forms above rewritten (unchanged when none applies)."""
    s = unicode_math(answer)
    if "\\" in s:
        s = _UPRIGHT.sub(lambda m: m.group(1) or m.group(2), s)
    if "e" in s:
        s = euler_to_trig(s)
    return dedupe_set(s)


# -- Unicode ------------------------------------------------------------------------


def _vulgar(ch: str) -> Optional[Tuple[int, int]]:
    """(numerator, denominator) of a vulgar fraction character (``½``), else None."""
    parts = unicodedata.decomposition(ch).split()
    if len(parts) < 4 or parts[0] != "<fraction>" or "2044" not in parts:
        return None
    slash = parts.index("2044")
    digits = [unicodedata.decimal(chr(int(p, 16)), None) for p in parts[1:]]
    if None in digits[:slash - 1] or None in digits[slash:]:
        return None
    numerator = int("".join(str(d) for d in digits[:slash - 1]))
    denominator = int("".join(str(d) for d in digits[slash:]))
    return (numerator, denominator) if denominator else None


def unicode_math(text: str) -> str:
    """``text`` with its Unicode maths written as ASCII LaTeX (linear)."""
    if text.isascii():
        return text
    out: List[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isascii():
            out.append(ch)
        elif ch in _SUPERSCRIPTS or ch in _SUBSCRIPTS:
            table, mark = (_SUPERSCRIPTS, "^") if ch in _SUPERSCRIPTS else (_SUBSCRIPTS, "_")
            j = i
            while j < n and text[j] in table:
                j += 1
            out.append(mark + "{" + "".join(table[c] for c in text[i:j]) + "}")
            i = j
            continue
        elif ch == "\u221a":  # √
            i = _sqrt(text, i + 1, out)
            continue
        elif ch in _SYMBOLS:
            out.append(_SYMBOLS[ch])
        elif 0xFF01 <= ord(ch) <= 0xFF5E:  # full-width ASCII
            out.append(chr(ord(ch) - 0xFEE0))
        elif unicodedata.decimal(ch, None) is not None:
            out.append(str(unicodedata.decimal(ch)))
        elif (vulgar := _vulgar(ch)) is not None:
            out.append(_fraction(out, *vulgar))
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _fraction(out: List[str], numerator: int, denominator: int) -> str:
    """A vulgar fraction as ``\\frac``: a mixed number when ASCII digits stand just
    before it, or one space before it (they are taken out of ``out``)."""
    digits = ""
    spaced = len(out) >= 2 and out[-1] == " " and out[-2].isdigit()  # "2 ½": mixed too
    if spaced:
        out.pop()
    while out and len(out[-1]) == 1 and out[-1].isdigit() and len(digits) < 18:
        digits = out.pop() + digits
    if digits and out and out[-1] in (".", ","):  # "1.5½", "1,½": not a mixed number
        out.extend(digits + (" " if spaced else ""))
        digits = ""
    if digits:
        numerator += int(digits) * denominator
    return f"\\frac{{{numerator}}}{{{denominator}}}"


def _sqrt(text: str, i: int, out: List[str]) -> int:
    """``√`` at ``i - 1``: ``\\sqrt`` with the digits, letter or parenthesised group
    after it as its argument; where the reading goes on."""
    n = len(text)
    if i < n and text[i] == "(":
        depth = 0
        for j in range(i, n):
            depth += {"(": 1, ")": -1}.get(text[j], 0)
            if depth == 0:
                out.append("\\sqrt{" + unicode_math(text[i + 1:j]) + "}")
                return j + 1
    j = i
    while j < n and text[j].isascii() and text[j].isdigit():
        j += 1
    if j == i and i < n and text[i].isascii() and text[i].isalpha():
        j = i + 1
    out.append("\\sqrt{" + text[i:j] + "}" if j > i else "\\sqrt")
    return j


# -- Euler form ---------------------------------------------------------------------


def _closing(text: str) -> Dict[int, int]:
    """{index of an opening bracket: index of its closing one} for ``{}`` and ``()``."""
    pairs: Dict[int, int] = {}
    stacks: Dict[str, List[int]] = {"{": [], "(": []}
    for i, ch in enumerate(text):
        if ch in stacks:
            stacks[ch].append(i)
        elif ch in "})":
            stack = stacks["{" if ch == "}" else "("]
            if stack:
                pairs[stack.pop()] = i
    return pairs


#: The most powers of e one answer is read for (nested ones are read again each).
MAX_POWERS = 64
#: The longest exponent read as ``i`` times an angle (an angle is written short).
MAX_EXPONENT_CHARS = 200


def euler_to_trig(text: str) -> str:
    """``e^{iθ}`` and ``\\exp(iθ)`` (``i`` a factor of the exponent) as ``a+bi`` when
    θ is a plain multiple of π/4 or π/6 (``e^{i\\pi}`` → ``-1``), else as
    ``\\left(\\cos\\left(θ\\right)+i\\sin\\left(θ\\right)\\right)``; other powers of
    ``e`` unchanged."""
    if not _EULER.search(text):
        return text
    pairs = _closing(text)
    first, last = len(text) - len(text.lstrip()), len(text.rstrip()) - 1
    out, done = [], 0
    for count, match in enumerate(_EULER.finditer(text)):
        start, opening = match.start(), match.end() - 1
        if count >= MAX_POWERS:
            break
        if start < done or opening not in pairs or not _is_e(text, start):
            continue
        close = pairs[opening]
        exponent = text[opening + 1:close]
        if text[opening] == "(":
            exponent = re.sub(r"\\right\s*$", "", exponent)
        angle = imaginary_angle(exponent)
        if angle is None:
            continue
        whole = start == first and close == last
        out.append(text[done:start])
        out.append(unit_complex(angle, bare=whole))
        done = close + 1
    return "".join(out) + text[done:]


_PI_ANGLE = re.compile(
    r"(?P<sign>-?)(?:(?P<a>\d{0,6})\\pi(?:/(?P<b>\d{1,6}))?"
    r"|\\[dt]?frac\{(?P<c>\d{0,6})\\pi\}\{(?P<d>\d{1,6})\}"
    r"|\\[dt]?frac\{(?P<e>\d{1,6})\}\{(?P<f>\d{1,6})\}\\pi)"
)
#: cos and sin of k·π/12 in the first quadrant, for the k with exact values.
_FIRST_QUADRANT = {
    0: ("1", "0"),
    2: ("\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}"),
    3: ("\\frac{\\sqrt{2}}{2}", "\\frac{\\sqrt{2}}{2}"),
    4: ("\\frac{1}{2}", "\\frac{\\sqrt{3}}{2}"),
}


def unit_complex(angle: str, bare: bool = False) -> str:
    """e^{i·angle}: exact (``a+bi``) when the angle is a multiple of π/4 or π/6
    written plainly, else ``\\left(\\cos\\left(θ\\right)+i\\sin\\left(θ\\right)\\right)``.
    ``bare``: the power is the whole answer (no brackets needed)."""
    exact = _exact_unit(angle)
    if exact is None:
        return f"\\left(\\cos\\left({angle}\\right)+i\\sin\\left({angle}\\right)\\right)"
    return exact if bare or not re.search(r".[-+]", exact) else f"\\left({exact}\\right)"


def _exact_unit(angle: str) -> Optional[str]:
    match = _PI_ANGLE.fullmatch(re.sub(r"\s+", "", angle))
    if not match:
        return None
    g = match.groupdict()
    if g["d"] is not None:
        numerator, denominator = int(g["c"] or 1), int(g["d"])
    elif g["f"] is not None:
        numerator, denominator = int(g["e"]), int(g["f"])
    else:
        numerator, denominator = int(g["a"] or 1), int(g["b"] or 1)
    if not denominator:
        return None
    twelfths, rest = divmod(12 * numerator, denominator)
    if rest:
        return None
    k = (-twelfths if g["sign"] else twelfths) % 24  # the angle in twelfths of π, in [0, 2π)
    quadrant, within = divmod(k, 6)
    if within not in _FIRST_QUADRANT:
        return None
    cos, sin = _FIRST_QUADRANT[within]
    if quadrant % 2:  # a quarter turn: (cos, sin) → (-sin, cos)
        cos, sin = "-" + sin, cos
    if quadrant >= 2:  # a half turn
        cos, sin = "-" + cos, "-" + sin
    cos, sin = (v.replace("--", "") for v in (cos, sin))
    cos, sin = ("0" if v == "-0" else v for v in (cos, sin))
    imaginary = {"0": "", "1": "i", "-1": "-i"}.get(sin, sin + "i")
    if cos == "0":
        return imaginary or "0"
    if not imaginary:
        return cos
    return cos + ("" if imaginary.startswith("-") else "+") + imaginary


def _is_e(text: str, start: int) -> bool:
    """Whether the ``e`` (or ``\\exp``) at ``start`` is the constant, not the end of a
    command (``\\sece``) or a word."""
    if text.startswith("\\exp", start):
        return True
    j = start
    while j > 0 and text[j - 1].isalpha():
        j -= 1
    return not (j > 0 and text[j - 1] == "\\") and start - j <= 1  # "re^{iθ}": a coefficient r


def imaginary_angle(exponent: str) -> Optional[str]:
    """θ when ``exponent`` is ``i`` times a real factor θ (``i\\pi``, ``-\\frac{\\pi i}{3}``,
    ``2\\pi i/3``), else None. Conservative: one standalone ``i``, no sum, ``i`` not
    in a denominator or an argument other than a leading ``\\frac``'s numerator."""
    x = exponent.strip()
    if len(x) > MAX_EXPONENT_CHARS:
        return None
    sign = ""
    if x[:1] in ("+", "-"):
        sign, x = ("-" if x[0] == "-" else ""), x[1:].strip()
    found = list(_STANDALONE_I.finditer(x))
    if len(found) != 1 or re.search(r"[-+=<>,|]", x):
        return None
    k = found[0].start()
    frac = re.match(r"\\[dt]?frac\s*\{", x)
    numerator_end = _closing(x).get(frac.end() - 1, -1) if frac else -1
    depth = 0
    for ch in x[:k]:
        depth += {"{": 1, "(": 1, "}": -1, ")": -1}.get(ch, 0)
        if ch == "/" and depth == 0:
            return None
    if depth != 0 and not (frac and depth == 1 and k < numerator_end and "(" not in x[frac.end():k]):
        return None
    if re.search(r"\\over\b", x):
        return None
    left, right = x[:k].rstrip(), x[k + 1:].lstrip()
    for times in _TIMES:
        if left.endswith(times):
            left = left[: -len(times)].rstrip()
            break
        if right.startswith(times):
            right = right[len(times):].lstrip()
            break
    angle = (left + " " + right).strip() if left and right and left[-1].isalpha() else left + right
    angle = re.sub(r"(\\[dt]?frac\s*)\{\s*\}", r"\1{1}", angle)
    if not angle or angle.startswith("/"):
        angle = "1" + angle
    return sign + angle


# -- sets --------------------------------------------------------------------------------

_SET = re.compile(r"^\s*(?:\\left\s*)?\\\{(.*?)(?:\\right\s*)?\\\}\s*$", re.S)


def dedupe_set(answer: str) -> str:
    """A set literal with an element written more than once, with each written once
    (the same text after :func:`~transforms.verify.matching.numbers.normalize_answer_text`);
    set-builder sets and other answers unchanged."""
    match = _SET.match(answer)
    if not match or re.search(r"\\mid|[|:]|\\[{}]", match.group(1)):
        return answer  # set-builder notation, sets of sets: as written
    items = top_level_items(match.group(1))
    kept: Dict[str, str] = {}
    for item in items:
        kept.setdefault(normalize_answer_text(item), item)
    if len(kept) == len(items) or "" in kept:
        return answer
    return "\\{" + ", ".join(kept.values()) + "\\}"
