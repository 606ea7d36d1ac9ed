"""Simple LaTeX expressions, read and evaluated here without sympy: numbers (with
``a \\times 10^{b}`` and ``1.87e6`` scientific notation), ``+ - \\cdot \\times /``,
implicit products, powers, ``\\frac``, ``\\sqrt``, ``\\pi``, ``e``, ``i``, the
usual functions (``\\sin``, ``\\ln``, ``\\exp`` …), and variables (letters, Greek
letters, subscripts).

Two answers are compared by their values: constants exactly as complex floats, and
expressions with variables at a few fixed points (the same points every run: a
polynomial identity test, no randomness). Whatever this reader doesn't know (a
relation, ``\\pm``, a set, a matrix, text, an unknown command) is ``None``: the caller
asks math-verify. A recursive-descent parser over a token list: linear in the
answer (callers bound its length), depth bounded; model text is never evaluated as
code.
"""
from __future__ import annotations

import cmath
import re
from typing import Callable, Dict, List, Optional, Tuple

#: Deepest nesting read (deeper answers go to math-verify).
MAX_DEPTH = 40
#: Longest answer read.
MAX_CHARS = 400

_FUNCTIONS: Dict[str, Callable[[complex], complex]] = {
    "sin": cmath.sin, "cos": cmath.cos, "tan": cmath.tan, "cot": lambda z: 1 / cmath.tan(z),
    "sec": lambda z: 1 / cmath.cos(z), "csc": lambda z: 1 / cmath.sin(z), "arcsin": cmath.asin,
    "arccos": cmath.acos, "arctan": cmath.atan, "sinh": cmath.sinh, "cosh": cmath.cosh, "tanh": cmath.tanh,
    "ln": cmath.log, "log": cmath.log, "exp": cmath.exp,
}
_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "kappa",
          "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "phi", "varphi", "chi", "psi", "omega", "Gamma",
          "Delta", "Theta", "Lambda", "Sigma", "Phi", "Psi", "Omega"}
_SPACING = re.compile(r"\\left\b|\\right\b|\\[,;:! ]|\\[dt]frac|\\displaystyle|\s+")
_TOKEN = re.compile(
    r"(?P<num>\d+(?:\.\d*)?(?:e[-+]?\d+(?![a-zA-Z]))?|\.\d+)|(?P<cmd>\\[A-Za-z]+)|(?P<ch>[A-Za-z])"
    r"|(?P<op>[-+*/^_(){}\[\]|!,=<>'])|(?P<space>\s+)|(?P<other>.)"
)


class Unreadable(ValueError):
    """The answer isn't a simple expression this reader knows."""


_SHORT_ARGUMENTS = ((re.compile(r"\\([dt]?frac)\s*(\d)\s*(\d)"), r"\\\1{\2}{\3}"),
                    (re.compile(r"\\([dt]?frac|sqrt)\s*(\d)"), r"\\\1{\2}"))


def _tokens(text: str) -> List[str]:
    for pattern, replacement in _SHORT_ARGUMENTS:  # "\frac43", "\frac 59", "\sqrt2"
        text = pattern.sub(replacement, text)
    s = _SPACING.sub(lambda m: "\\frac" if "frac" in m.group() else " ", text)
    out = []
    for match in _TOKEN.finditer(s):
        if match.group("space"):
            continue
        if match.group("other"):
            raise Unreadable(match.group())
        out.append(match.group())
    return out


Value = Callable[[Dict[str, complex]], complex]


class _Parser:
    def __init__(self, tokens: List[str]):
        self.tokens, self.i, self.depth = tokens, 0, 0
        self.variables: set = set()

    def peek(self) -> Optional[str]:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, expected: Optional[str] = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise Unreadable(f"expected {expected!r}")
        self.i += 1
        return token

    def expression(self) -> Value:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise Unreadable("too deep")
        sign = 1
        if self.peek() in ("+", "-"):
            sign = -1 if self.take() == "-" else 1
        first = self.term()
        terms = [(sign, first)]
        while self.peek() in ("+", "-"):
            sign = -1 if self.take() == "-" else 1
            terms.append((sign, self.term()))
        self.depth -= 1
        return lambda env: sum(s * t(env) for s, t in terms)

    def term(self) -> Value:
        factors: List[Tuple[bool, Value]] = [(False, self.power())]
        while True:
            token = self.peek()
            if token in ("*", "\\cdot", "\\times", "/", "\\div"):
                self.take()
                factors.append((token in ("/", "\\div"), self.power()))
            elif token is not None and self._starts_factor(token):
                factors.append((False, self.power()))
            else:
                break

        def value(env):
            out = 1 + 0j
            for divide, factor in factors:
                out = out / factor(env) if divide else out * factor(env)
            return out
        return value

    @staticmethod
    def _starts_factor(token: str) -> bool:
        return (token[0].isdigit() or token[0] == "." or token.isalpha() or token in ("(", "[", "{")
                or (token.startswith("\\") and (token[1:] in _FUNCTIONS or token[1:] in _GREEK
                                                 or token in ("\\frac", "\\sqrt", "\\pi", "\\dot", "\\ddot", "\\hat",
                                                              "\\bar", "\\mathbf"))))

    def power(self) -> Value:
        base = self.atom()
        if self.peek() == "^":
            self.take()
            exponent = self.group_or_atom()
            return lambda env: base(env) ** exponent(env)
        return base

    def group_or_atom(self) -> Value:
        if self.peek() == "{":
            self.take()
            inner = self.expression()
            self.take("}")
            return inner
        if self.peek() == "-":
            self.take()
            inner = self.atom()
            return lambda env: -inner(env)
        return self.atom()

    def atom(self) -> Value:
        token = self.take()
        if token[0].isdigit() or token[0] == ".":
            number = complex(float(token))
            return lambda env: number
        if token in ("(", "[", "{"):
            inner = self.expression()
            self.take({"(": ")", "[": "]", "{": "}"}[token])
            return inner
        if token == "\\frac":
            numerator, denominator = self.group_or_atom(), self.group_or_atom()
            return lambda env: numerator(env) / denominator(env)
        if token == "\\sqrt":
            index: Optional[Value] = None
            if self.peek() == "[":
                self.take()
                index = self.expression()
                self.take("]")
            radicand = self.group_or_atom()
            if index is None:
                return lambda env: cmath.sqrt(radicand(env))
            root = index
            return lambda env: radicand(env) ** (1 / root(env))
        if token == "\\pi":
            return lambda env: cmath.pi + 0j
        if token[1:] in _FUNCTIONS:
            function = _FUNCTIONS[token[1:]]
            if self.peek() == "^":  # \sin^2 x
                self.take()
                exponent = self.group_or_atom()
                argument = self.argument()
                return lambda env: function(argument(env)) ** exponent(env)
            argument = self.argument()
            return lambda env: function(argument(env))
        if token in ("\\dot", "\\ddot", "\\hat", "\\bar", "\\mathbf"):
            name = token + "".join(self._group_tokens())
            return self._variable(name)
        if token[1:] in _GREEK:
            return self._variable(token)
        if token.isalpha() and len(token) == 1:
            if token == "i" and self.peek() != "_":
                return lambda env: 1j
            if token == "e" and self.peek() != "_":
                return lambda env: cmath.e + 0j
            return self._variable(token)
        raise Unreadable(token)

    def argument(self) -> Value:
        """A function's argument: a bracketed group, or the next implicit product."""
        if self.peek() in ("(", "[", "{"):
            return self.atom()
        return self.power()

    def _group_tokens(self) -> List[str]:
        if self.peek() != "{":
            return [self.take()]
        start = self.i
        self.atom()  # checks it is readable and balanced
        return self.tokens[start:self.i]

    def _variable(self, name: str) -> Value:
        if self.peek() == "_":
            self.take()
            name += "_" + "".join(self._group_tokens())
        self.variables.add(name)
        return lambda env: env[name]


def read(text: str) -> Optional[Tuple[Value, frozenset]]:
    """(value function, variable names) of a simple expression, or None."""
    if len(text) > MAX_CHARS or "\\text" in text or "\\mbox" in text or "\\mathrm" in text:
        return None
    try:
        tokens = _tokens(text)
        if not tokens:
            return None
        parser = _Parser(tokens)
        value = parser.expression()
        if parser.peek() is not None:
            return None
    except (Unreadable, ValueError, IndexError, RecursionError):
        return None
    return value, frozenset(parser.variables)


#: Points the variables take (each variable its own value, by its name's place).
_POINTS = ((0.7313, 1.1618, 0.4142, 1.7321, 0.5772, 1.3247, 0.8660, 1.4142),
           (1.2071, 0.6180, 1.5708, 0.3679, 1.4427, 0.9003, 1.1892, 0.6931),
           (0.5403, 1.3863, 0.8415, 1.2599, 0.6065, 1.6487, 0.9510, 0.4472))


def _close(a: complex, b: complex, rel: float) -> bool:
    """Within ``rel`` of each other, or both within float noise of zero."""
    return abs(a - b) <= rel * max(abs(a), abs(b)) or max(abs(a), abs(b)) < 1e-13


_TERMINATING = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+|(?:\\times|\\cdot)10\^\{?[-+]?\d+\}?)?")


def _as_written(gold: str, pred: str) -> bool:
    """Both without a decimal point (exact values), or both decimals written out
    (``3.89e-10``, ``1.4890 \\times 10^{4}``): their values are compared as they are,
    no rounding of one to the other."""
    if "." not in gold and "." not in pred:
        return True
    return all(_TERMINATING.fullmatch(re.sub(r"\s+|\\[,;:! ]", "", text)) for text in (gold, pred))


def value_verdict(gold: str, pred: str) -> Optional[Tuple[str, str]]:
    """(verdict, reason) when both answers are simple expressions of the same
    variables (or constants), compared by value; None when either isn't one, or when
    a rounded decimal is near the exact value (math-verify knows rounding)."""
    g, p = read(gold), read(pred)
    if g is None or p is None:
        return None
    names = sorted(g[1] | p[1])
    if len(names) > len(_POINTS[0]):
        return None
    points = _POINTS if names else _POINTS[:1]
    far = False
    for point in points:
        env = {name: complex(point[k]) for k, name in enumerate(names)}
        try:
            a, b = g[0](env), p[0](env)
        except (ArithmeticError, ValueError, OverflowError, KeyError, TypeError):
            return None
        if not (cmath.isfinite(a) and cmath.isfinite(b)):
            return None
        if not _close(a, b, 1e-9):
            if _close(a, b, 1e-2) and not _as_written(gold, pred):
                return None  # a rounded decimal near the value: math-verify's call
            far = True
    if far:
        return "incorrect", ("different_expression" if names else "different_value")
    return "correct", ("same_expression" if names else "same_value")


_EQUATION = re.compile(r"^\s*(?:[A-Za-z]|\\[A-Za-z]+)(?:_\{?[A-Za-z0-9]+\}?)?(?:\([A-Za-z]\))?\s*=(?!.*=)(.+)$", re.S)
_SIZING = re.compile(r"\\left\b|\\right\b")
_MATRIX = re.compile(r"^\\begin\{([pb]matrix)\}(.*)\\end\{\1\}$", re.S)


def right_side(answer: str) -> str:
    """``x = …``, ``f(t) = …``, ``X_{d} = …`` → the right side; other answers unchanged."""
    match = _EQUATION.match(answer)
    return match.group(1).strip() if match else answer


def _cells(answer: str) -> Optional[List[str]]:
    """The cells of a ``pmatrix``/``bmatrix``, row by row (``&`` and ``\\\\`` split them)."""
    match = _MATRIX.match(answer.strip())
    if not match:
        return None
    rows = [row for row in match.group(2).split("\\\\")]
    return [f"{len(rows)}x"] + [cell.strip() for row in rows for cell in row.split("&")]


def expression_verdict(gold: str, pred: str, items: Callable[[str], List[str]]) -> Optional[Tuple[str, str]]:
    """:func:`value_verdict` on the answers, their right sides (``x = …``), or item by
    item for tuples/lists (split by ``items``, the same brackets) and matrices of the
    same shape; None when any part is beyond this reader. A bare list (no brackets)
    is only ever found correct (in the same order): in another order it may still be
    the same answers."""
    gold, pred = _bare(gold), _bare(pred)
    if _written(gold) == _written(pred):
        return ("correct", "same_written_form") if gold else None
    if "=" in gold or "=" in pred:
        gold, pred = right_side(gold), right_side(pred)
        if "=" in gold or "=" in pred:
            return None
    g_cells, p_cells = _cells(gold), _cells(pred)
    if g_cells is not None or p_cells is not None:
        if g_cells is None or p_cells is None or len(g_cells) != len(p_cells) or g_cells[0] != p_cells[0]:
            return None
        return _all(list(zip(g_cells[1:], p_cells[1:])))
    (g_open, g_items), (p_open, p_items) = _parts(gold, items), _parts(pred, items)
    if len(g_items) > 1 or len(p_items) > 1:
        several, one = (g_open, p_items) if len(g_items) > 1 else (p_open, g_items)
        if len(one) == 1 and several in ("()", "[]"):  # (6, 31, -1) against a lone 1
            return ("incorrect", "different_items") if read(one[0]) is not None else None
        if len(g_items) != len(p_items) or g_open != p_open:
            return None
        verdict = _all(list(zip(g_items, p_items)))
        return None if not g_open and verdict is not None and verdict[0] != "correct" else verdict
    return value_verdict(gold, pred)


_MEMBER = re.compile(r"^[A-Za-z]\s*\\in\s*")
_UNIT = re.compile(r"(?<=[\d}])\s*\\(?:text|mbox|mathrm)\s*\{\s*[A-Za-z ]*\}(?:\^\{?\d\}?)?$")
_BARE_SUBSCRIPT = re.compile(r"_([A-Za-z0-9])")


def _bare(answer: str) -> str:
    """The answer without sizing macros, a leading ``x \\in`` or a trailing unit
    (``864 \\mbox{ inches}^2``); compared as written once spaces are gone and
    one-character subscripts braced (``4210_5`` = ``4210_{5}``)."""
    return _UNIT.sub("", _MEMBER.sub("", _SIZING.sub("", answer).strip())).strip()


def _written(answer: str) -> str:
    """Spaces out (but one kept after a command before a letter: ``\\omega t`` is not
    ``\\omegat``), one-character subscripts braced."""
    s = re.sub(r"(\\[A-Za-z]+)\s+(?=[A-Za-z])", lambda m: m.group(1) + "{}", answer)
    return _BARE_SUBSCRIPT.sub(r"_{\1}", re.sub(r"\s+", "", s))


def _parts(answer: str, items: Callable[[str], List[str]]) -> Tuple[str, List[str]]:
    """(brackets, items) of a tuple or interval ``(a, b)`` / ``[a, b)``, else ("", the
    answer's comma-separated items)."""
    if answer[:1] in "([" and answer[-1:] in ")]":
        depth = 0
        for k, ch in enumerate(answer):
            depth += 1 if ch in "([{" else -1 if ch in ")]}" else 0
            if depth == 0:
                if k == len(answer) - 1:
                    return answer[0] + answer[-1], items(answer[1:-1])
                break
    return "", items(answer)


def _all(pairs: List[Tuple[str, str]]) -> Optional[Tuple[str, str]]:
    """Correct when every pair is, incorrect when any is (and none undecided)."""
    verdicts = [value_verdict(g, p) for g, p in pairs]
    if any(v is None for v in verdicts):
        return None
    if all(v is not None and v[0] == "correct" for v in verdicts):
        return "correct", "same_items"
    return "incorrect", "different_items"
