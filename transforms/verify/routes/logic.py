"""Logic puzzle answers: Knights and Knaves (who is a knight, who a knave), checked
exactly against the puzzle's unique solution, found again by brute force from its
statements (:func:`transforms.text.knights.check_knights`)."""
from __future__ import annotations

from transforms.text.knights import check_knights
from transforms.verify.verdicts import verdict_fields

KNIGHTS_VERSION = "knights_knaves==1"


def verify_knights(text: str, meta: dict) -> dict:
    """The verdict fields of a Knights and Knaves response; ``meta`` holds the ``people``
    and their ``statements``. Raises ValueError on a broken puzzle (the stage dead-letters it)."""
    read, ok, reason = check_knights(text, list(meta["people"]), list(meta["statements"]))
    if read is None:
        return verdict_fields(None, "no_answer", "knights_knaves", KNIGHTS_VERSION, reason)
    return verdict_fields(read, "correct" if ok else "incorrect", "knights_knaves", KNIGHTS_VERSION, reason)
