"""Maths answers against a (normalized) reference.

Answers too long or too deeply nested to be one are ``incorrect``; both sides'
written forms are then made one (Unicode, Euler form, repeated set elements:
:mod:`transforms.verify.matching.forms`); then the cheap exact path in this process
(:func:`exact_verdict`: normalized strings, exact rationals and percentages, prose
answers, tuples/intervals/sets of numbers, complex numbers, integer radicals); then
math-verify on LaTeX in its child process (:mod:`transforms.verify.mathcheck`),
inequalities and set-builder sets compared as intervals. Several answers in several
boxes are joined when the reference has several. The whole check, extraction
included, runs within ``timeout_s``. Model text never reaches sympy's
``sympify``/``parse_expr``.
"""
from __future__ import annotations

import re
import time
import typing
from typing import Optional, Tuple, Union

from transforms.text.extract import extract_answer, final_boxed_answers
from transforms.verify.config import VerifyConfig
from transforms.verify.matching.evaluate import expression_verdict
from transforms.verify.matching.forms import normalize_forms
from transforms.verify.matching.numbers import (
    MAX_CHEAP_CHARS,
    inequality_to_interval,
    normalize_answer_text,
    number_form,
    oversized,
    parse_plain_number,
    radical_verdict,
    structured_verdict,
    top_level_items,
)
from transforms.verify.matching.prose import text_verdict
from transforms.verify.mathcheck import VerifierError, VerifierUnavailable
from transforms.verify.verdicts import EXACT_VERSION, NEEDS_JUDGE, verdict_fields


def exact_verdict(gold: str, pred: str) -> Optional[Tuple[str, str]]:
    """(verdict, reason) when the cheap path decides, else None (ask math-verify).

    Equal normalized strings are correct; two plain numbers are compared exactly
    (a percentage also matches its value / 100: "50%" = "50" = "0.5"). A rounded
    decimal against a fraction ("0.333" for "1/3") is left to math-verify, which
    knows about rounding; so are text answers and everything else."""
    if normalize_answer_text(gold) == normalize_answer_text(pred) and gold.strip():
        return "correct", "exact_string_match"
    if max(len(gold), len(pred)) > MAX_CHEAP_CHARS:
        return None
    text = text_verdict(gold, pred)
    if text is not None:
        return text
    structured = structured_verdict(gold, pred) or radical_verdict(gold, pred)
    if structured is not None:
        return structured
    gold, pred = _without_variable(gold), _without_variable(pred)
    g, p = parse_plain_number(gold), parse_plain_number(pred)
    if g is None or p is None:
        return expression_verdict(gold, pred, top_level_items)
    (g_value, g_pct), (p_value, p_pct) = g, p
    candidates = {(g_value, p_value)}
    if g_pct:
        candidates.add((g_value / 100, p_value))
    if p_pct:
        candidates.add((g_value, p_value / 100))
    if any(a == b for a, b in candidates):
        return "correct", "numeric_equal"
    if {number_form(gold), number_form(pred)} == {"fraction", "decimal"} and \
            abs(g_value - p_value) <= abs(g_value) / 100:
        return None  # a rounded decimal near the fraction: math-verify's call
    return "incorrect", "numeric_mismatch"


_VARIABLE_EQUALS = re.compile(r"^[A-Za-z]\s*=\s*(.+)$")


def _without_variable(answer: str) -> str:
    """"x = 5" → "5" when the right side is a plain number (math-verify reads them alike)."""
    match = _VARIABLE_EQUALS.match(answer.strip())
    if match and parse_plain_number(match.group(1)) is not None:
        return match.group(1)
    return answer


class Pending(typing.NamedTuple):
    """A maths answer the rules left to math-verify: the comparison to run in the child."""

    extracted: str
    gold: str
    pred: str
    left_s: float  # of ``timeout_s``, after the extraction and the rules


def verify_math(text: str, gold_answer: str, verifier, config: VerifyConfig) -> dict:
    """The verdict fields of a maths response against ``gold_answer``, the reference
    as a bare answer (:func:`transforms.verify.dispatch.normalize_gold`). ``verifier``
    runs math-verify: ``verify(gold, pred, timeout_s)`` and ``version``.

    ``config.timeout_s`` bounds the whole check: the answer's extraction (linear in
    the text) and the rules spend it first, math-verify gets what is left (none left:
    ``timeout``)."""
    checked = math_rules(text, gold_answer, verifier.version, config)
    if not isinstance(checked, Pending):
        return checked
    try:
        result = verifier.verify(checked.gold, checked.pred, checked.left_s)
    except (VerifierUnavailable, VerifierError) as exc:
        return math_verify_fields(checked, exc, verifier.version)
    return math_verify_fields(checked, result, verifier.version)


def math_rules(text: str, gold_answer: str, version: str, config: VerifyConfig) -> Union[dict, Pending]:
    """The verdict fields when the rules decide, else the :class:`Pending` comparison
    for math-verify (``version``: math-verify's, named on a ``no_answer``)."""
    started = time.monotonic()
    extracted = extract_answer(text, last_number_fallback=config.last_number_fallback)
    boxes = final_boxed_answers(text)
    if len(boxes) > 1 and len(top_level_items(gold_answer)) > 1:
        extracted = ", ".join(boxes)  # several answers asked for, stated in several boxes
    if extracted is None:
        return verdict_fields(None, "no_answer", "math-verify", version, "no_answer_found")
    too_big = oversized(gold_answer, extracted)
    if too_big and normalize_answer_text(gold_answer) != normalize_answer_text(extracted):
        return verdict_fields(extracted, "incorrect", "exact", EXACT_VERSION, too_big)
    gold, pred = normalize_forms(gold_answer), normalize_forms(extracted)
    decided = exact_verdict(gold, pred)
    left = config.timeout_s - (time.monotonic() - started)
    if left <= 0:
        return verdict_fields(extracted, "timeout", "exact", EXACT_VERSION,
                              f"answer_extraction_timeout: over {config.timeout_s:g}s")
    if decided is not None:
        return verdict_fields(extracted, decided[0], "exact", EXACT_VERSION, decided[1])
    gold_cmp = inequality_to_interval(gold) or gold
    pred_cmp = inequality_to_interval(pred) or pred
    if normalize_answer_text(gold_cmp) == normalize_answer_text(pred_cmp):
        return verdict_fields(extracted, "correct", "exact", EXACT_VERSION, "same_interval")
    return Pending(extracted, gold_cmp, pred_cmp, left)


def math_verify_fields(pending: Pending, result, version: str) -> dict:
    """The verdict fields of a :class:`Pending` comparison from math-verify's result:
    ``(verdict, reason)``, or the ``VerifierUnavailable`` / ``VerifierError`` it met."""
    if isinstance(result, VerifierUnavailable):
        return verdict_fields(pending.extracted, "infra_unavailable", "math-verify", version, str(result))
    if isinstance(result, VerifierError):
        return verdict_fields(pending.extracted, "error", "math-verify", version, f"math_verify_error: {result}")
    verdict, reason = result
    if verdict == "unverifiable":
        reason = f"{NEEDS_JUDGE}: {reason}"
    return verdict_fields(pending.extracted, verdict, "math-verify", version, reason)
