"""The answer key of a majority vote: what two samples' answers must share to count
as the same vote."""
from __future__ import annotations

from transforms.verify.matching.forms import normalize_forms
from transforms.verify.matching.numbers import MAX_CHEAP_CHARS, normalize_answer_text, parse_plain_number
from transforms.verify.matching.prose import as_text_answer


def answer_key(answer: str) -> str:
    """What two answers must share to count as the same vote: the exact value of a
    plain number ("0.5", "1/2" and "\\frac{1}{2}" agree), the words of a prose
    answer, else the normalized text; written forms made one first ("½" = "1/2")."""
    if len(answer) <= MAX_CHEAP_CHARS:
        answer = normalize_forms(answer)
    number = parse_plain_number(answer)
    if number is not None:
        value, percent = number
        return f"number:{value / 100 if percent else value}"
    text = as_text_answer(answer)
    if text is not None:
        return f"text:{text}"
    return f"latex:{normalize_answer_text(answer)}"
