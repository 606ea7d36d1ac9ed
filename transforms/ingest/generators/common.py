"""What every generator shares: the gold-answer text of a number and the problem dict.

Gold answer format: integers as ``"12"`` / ``"-4"``; fractions as reduced ``"a/b"``
with the sign on the numerator (``"-7/3"``), never LaTeX."""
from __future__ import annotations

from fractions import Fraction


def format_number(value: Fraction) -> str:
    """The gold-answer text of a rational: ``"5"``, ``"-4"`` or reduced ``"-7/3"``."""
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


def make_problem(name: str, index: int, difficulty: int, prompt: str, answer, metadata: dict) -> dict:
    """The problem dict; a numeric ``answer`` is written by :func:`format_number`."""
    return {
        "id": f"{name}-{index}",
        "prompt": prompt,
        "answer": format_number(answer) if not isinstance(answer, str) else answer,
        "difficulty": str(difficulty),
        "metadata": metadata,
    }
