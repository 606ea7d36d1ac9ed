"""Countdown answers ("reach the target with these numbers"): the arithmetic
expression a response states, checked by the generator's own rule."""
from __future__ import annotations

from transforms.text.countdown import AT_MOST_ONCE, check_countdown
from transforms.text.extract import extract_answer, last_arithmetic_expression
from transforms.verify.verdicts import verdict_fields

#: 2: the rule (``metadata["rule"]``: exactly once, TinyZero's; at most once) is checked.
COUNTDOWN_VERSION = "countdown==2"


def verify_countdown(text: str, meta: dict, fallback: bool) -> dict:
    """The verdict fields of a countdown response; ``meta`` holds the ``numbers``, the
    ``target`` and the ``rule`` (absent: ``at_most_once``, what problems generated before
    the rule was recorded asked for); ``fallback``: the last arithmetic expression when
    none is stated."""
    extracted = extract_answer(text, last_number_fallback=False, keep_expression=True)
    if extracted is None and fallback:
        extracted = last_arithmetic_expression(text)
    if extracted is None:
        return verdict_fields(None, "no_answer", "countdown", COUNTDOWN_VERSION, "no_expression_found")
    ok, reason = check_countdown(extracted, list(meta["numbers"]), meta["target"],
                                 meta.get("rule", AT_MOST_ONCE))
    return verdict_fields(extracted, "correct" if ok else "incorrect", "countdown", COUNTDOWN_VERSION, reason)
