"""Answers in words: prose answers of maths problems ("Monday", "\\text{even}") and
knowledge answers (normalized match, numeric tolerance, token F1 over the aliases
of a reference).

Standard library only; ``ast.literal_eval`` reads dataset references, never model text.
"""
from __future__ import annotations

import ast
import json
import math
import re
import string
import unicodedata
from collections import Counter
from typing import List, Optional, Tuple

from transforms.text.extract import clean_answer
from transforms.verify.matching.numbers import parse_plain_number

# -- text answers ("Monday", "\\text{even}") -------------------------------------------

#: LaTeX and function names that make a word maths, not prose.
_MATH_WORDS = {"sin", "cos", "tan", "cot", "sec", "csc", "log", "ln", "exp", "sqrt", "frac", "pi", "infty",
               "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "min", "max", "gcd", "lcm", "mod",
               "det", "lim", "sum", "prod", "int", "cup", "cap", "in", "le", "ge", "leq", "geq", "neq",
               "cdot", "times", "div", "pm", "mp", "circ", "deg", "dfrac", "tfrac", "left", "right", "text",
               "mathrm", "textbf", "mathbf", "boxed", "quad", "qquad", "emptyset", "varnothing", "mathbb",
               "and", "or"}
_TEXT_COMMAND = re.compile(r"\\(?:text|textrm|textbf|mathrm|mbox)\s*\{([^{}]*)\}")
_WORD = re.compile(r"[A-Za-z]{3,}")


def as_text_answer(answer: str) -> Optional[str]:
    """The answer as lower-case words when it is prose ("Monday", "\\text{even}",
    "Evelyn"), None when it is maths (any digit, operator, or a LaTeX command other
    than ``\\text``)."""
    s = _TEXT_COMMAND.sub(r" \1 ", answer).strip().strip(".")
    if not s or re.search(r"[\d\\^_=<>+*/|{}\[\]()]", s):
        return None
    words = re.findall(r"[A-Za-z']+", s)
    if not words or not any(_WORD.fullmatch(w) and w.lower() not in _MATH_WORDS for w in words):
        return None
    return " ".join(w.lower() for w in words)


def text_verdict(gold: str, pred: str) -> Optional[Tuple[str, str]]:
    """Prose gold answers are compared as words (math-verify would read "Monday" as
    the product of six symbols): the same words are correct; a prose answer with
    other words is incorrect; None when either side is maths."""
    gold_text, pred_text = as_text_answer(gold), as_text_answer(pred)
    if gold_text is None or pred_text is None:
        return None
    if gold_text == pred_text:
        return "correct", "text_match"
    return "incorrect", "text_mismatch"


# -- knowledge answers ---------------------------------------------------------------

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize_text(text: str) -> str:
    """SQuAD-style normalization: lower case, accents and punctuation dropped, no
    articles, single spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = _ARTICLES.sub(" ", text.translate(_PUNCTUATION))
    return " ".join(text.split())


def token_f1(pred: str, gold: str) -> float:
    """Token-overlap F1 of the normalized texts (0 when either is empty)."""
    pred_tokens, gold_tokens = normalize_text(pred).split(), normalize_text(gold).split()
    common = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
    if not common:
        return 0.0
    precision, recall = common / len(pred_tokens), common / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def gold_aliases(reference: str) -> List[str]:
    """The accepted answers of a knowledge reference: the items of a JSON or Python
    list of strings (``["Paris", "City of Paris"]``), else the reference itself.
    ``ast.literal_eval`` evaluates literals only, and only dataset text comes here."""
    text = reference.strip()
    if text.startswith("[") and text.endswith("]"):
        for loader in (json.loads, ast.literal_eval):
            try:
                items = loader(text)
            except (ValueError, SyntaxError):
                continue
            if isinstance(items, list) and items and all(isinstance(i, str) for i in items):
                return [i for i in items if i.strip()]
    return [text]


def _number_of(text: str) -> Optional[float]:
    """The value of an answer that is a number, possibly with a unit ("5 km", "$1,200")."""
    cleaned = clean_answer(text)
    parsed = parse_plain_number(cleaned)
    if parsed is None:
        return None
    value, percent = parsed
    return float(value / 100 if percent else value)


def knowledge_verdict(gold: str, pred: str, *, rel_tol: float, f1_correct: float, f1_incorrect: float,
                      max_gold_words: int) -> Optional[Tuple[str, str]]:
    """(verdict, reason) of a short knowledge answer against its reference, or None
    when the rules can't decide (a judge may).

    Any alias decides ``correct`` by normalized match, numbers within ``rel_tol``, or
    token F1 ≥ ``f1_correct``; ``incorrect`` needs every alias to say so: numbers
    outside the tolerance, or (for aliases of at most ``max_gold_words`` words) a
    token F1 ≤ ``f1_incorrect``. Long references are left to the judge."""
    aliases = gold_aliases(gold)
    best_f1, all_wrong = 0.0, True
    for alias in aliases:
        g, p = _number_of(alias), _number_of(pred)
        if g is not None and p is not None:  # numbers first: "3.5" and "35" normalize alike
            if math.isclose(g, p, rel_tol=rel_tol, abs_tol=0.0) or g == p:
                return "correct", f"numeric_within_tolerance (rel {rel_tol:g})"
            continue
        if normalize_text(alias) and normalize_text(alias) == normalize_text(pred):
            return "correct", "normalized_match"
        f1 = token_f1(pred, alias)
        best_f1 = max(best_f1, f1)
        if f1 >= f1_correct:
            return "correct", f"token_f1={f1:.2f}"
        if f1 > f1_incorrect or len(normalize_text(alias).split()) > max_gold_words:
            all_wrong = False
    if all_wrong:
        return "incorrect", f"no_match (best token_f1={best_f1:.2f})"
    return None
