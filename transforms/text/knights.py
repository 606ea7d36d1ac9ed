"""Knights and Knaves: the statements, their truth, the unique solution by brute force,
and checking an answer. Beam-free; the ``knights_knaves`` generator builds puzzles with
it and the verify stage checks answers with it (``metadata["verifier"] ==
"knights_knaves"``).

Every inhabitant is a knight (always tells the truth) or a knave (always lies). A
statement is a JSON list, people by index (the speaker may name themself):

* ``["is", i, role]``: "i is a knight" / "a knave";
* ``["both", i, j, role]``: "i and j are both knights" / "both knaves";
* ``["either", i, j, role]``: "at least one of i and j is a knight" / "a knave";
* ``["same", i, j]`` / ``["differ", i, j]``: "i and j are of the same kind" / "of different kinds";
* ``["count", k, role]``: "exactly k of us are knights" / "knaves".

An assignment is a tuple of booleans (True: knight). It is consistent when every
speaker's statement is true exactly when the speaker is a knight; a puzzle is fair when
exactly one assignment is consistent (:func:`solutions` tries all ``2**n``).
"""
from __future__ import annotations

import itertools
import re
from typing import Dict, List, Optional, Sequence, Tuple

KNIGHT, KNAVE = "knight", "knave"
ROLES = (KNIGHT, KNAVE)
#: Statement forms and their arity (besides the form's name).
FORMS = {"is": 2, "both": 3, "either": 3, "same": 2, "differ": 2, "count": 2}
#: Most people a puzzle may have (2**n assignments are tried).
MAX_PEOPLE = 10

Assignment = Tuple[bool, ...]


def _check_statement(statement: Sequence, people: int) -> None:
    """ValueError unless ``statement`` is a well-formed statement about ``people`` people."""
    if not statement or statement[0] not in FORMS or len(statement) != FORMS[statement[0]] + 1:
        raise ValueError(f"statements: not a statement: {statement!r}")
    form, args = statement[0], list(statement[1:])
    indexes = args[:-1] if form in ("is", "both", "either") else (args if form in ("same", "differ") else [])
    if any(type(i) is not int or not 0 <= i < people for i in indexes):
        raise ValueError(f"statements: a person index out of range in {statement!r}")
    if form in ("is", "both", "either", "count") and args[-1] not in ROLES:
        raise ValueError(f"statements: role must be knight or knave in {statement!r}")
    if form == "count" and (type(args[0]) is not int or not 0 <= args[0] <= people):
        raise ValueError(f"statements: count out of range in {statement!r}")


def truth(statement: Sequence, assignment: Assignment) -> bool:
    """Whether ``statement`` is true when ``assignment`` says who is a knight."""
    form = statement[0]
    if form == "is":
        return assignment[statement[1]] == (statement[2] == KNIGHT)
    if form == "both":
        want = statement[3] == KNIGHT
        return assignment[statement[1]] == want and assignment[statement[2]] == want
    if form == "either":
        want = statement[3] == KNIGHT
        return assignment[statement[1]] == want or assignment[statement[2]] == want
    if form == "same":
        return assignment[statement[1]] == assignment[statement[2]]
    if form == "differ":
        return assignment[statement[1]] != assignment[statement[2]]
    if form == "count":
        knights = sum(assignment)
        return (knights if statement[2] == KNIGHT else len(assignment) - knights) == statement[1]
    raise ValueError(f"statements: unknown form {form!r}")


def consistent(statements: Sequence[Sequence], assignment: Assignment) -> bool:
    """Whether each speaker's statement is true exactly when the speaker is a knight."""
    return all(truth(s, assignment) == assignment[speaker] for speaker, s in enumerate(statements))


def solutions(statements: Sequence[Sequence]) -> List[Assignment]:
    """Every consistent assignment (one statement per person), by brute force.

    ValueError for malformed statements or more than ``MAX_PEOPLE`` people."""
    people = len(statements)
    if not 1 <= people <= MAX_PEOPLE:
        raise ValueError(f"statements: expected 1 to {MAX_PEOPLE} people, got {people}")
    for statement in statements:
        _check_statement(statement, people)
    return [a for a in itertools.product((True, False), repeat=people) if consistent(statements, a)]


def describe(statement: Sequence, speaker: int, names: Sequence[str]) -> str:
    """The statement as its speaker says it (the speaker is "I")."""
    def who(i: int) -> str:
        return "I" if i == speaker else names[i]

    form = statement[0]
    if form == "is":
        verb = "am" if statement[1] == speaker else "is"
        return f"{who(statement[1])} {verb} a {statement[2]}."
    if form in ("both", "either"):
        a, b = who(statement[1]), who(statement[2])
        if b == "I":
            a, b = b, a
        if form == "both":
            return f"{b} and I are both {statement[3]}s." if a == "I" else f"{a} and {b} are both {statement[3]}s."
        return f"At least one of {'me' if a == 'I' else a} and {b} is a {statement[3]}."
    if form in ("same", "differ"):
        a, b = who(statement[1]), who(statement[2])
        if b == "I":
            a, b = b, a
        return f"{b} and {a} are of {'the same kind' if form == 'same' else 'different kinds'}."
    count, role = statement[1], statement[2]
    return f"Exactly {count} of us {'is a' if count == 1 else 'are'} {role}{'' if count == 1 else 's'}."


def answer_text(names: Sequence[str], assignment: Assignment) -> str:
    """The gold answer: ``"Alice: knight, Bob: knave"``."""
    return ", ".join(f"{name}: {KNIGHT if knight else KNAVE}" for name, knight in zip(names, assignment))


_BOXED = re.compile(r"\\boxed\s*\{([^{}]*)\}")


def claimed_roles(text: str, names: Sequence[str]) -> Dict[str, str]:
    """{name: role} as an answer states them: inside its last ``\\boxed{}`` when it has
    one, else anywhere; per name the last "Name: knight", "Name is a knave", "Name -
    knight", "Name (knave)" wins."""
    boxed = _BOXED.findall(text or "")
    text = boxed[-1] if boxed else (text or "")
    claimed = {}
    for name in names:
        pattern = (rf"\b{re.escape(name)}\b\s*(?:[:=(\-–—]|\bis\b(?:\s+(?:a|an|the))?|\bwas\b(?:\s+(?:a|an))?)"
                   rf"\s*(?:a\s+)?\**\s*({KNIGHT}|{KNAVE})s?\b")
        found = re.findall(pattern, text, flags=re.IGNORECASE)
        if found:
            claimed[name] = found[-1].lower()
    return claimed


def check_knights(text: str, names: Sequence[str], statements: Sequence[Sequence]) -> Tuple[Optional[str], bool, str]:
    """``(the roles read, ok, reason)`` of an answer to a puzzle.

    The solution is found again by brute force (ValueError when the puzzle does not have
    exactly one); ``ok`` when every person's stated role is the solution's. Reasons:
    ``ok``, ``no_roles`` (no name with a role), ``incomplete: <names>``, ``wrong_roles:
    <names>``."""
    if len(names) != len(statements):
        raise ValueError(f"people: {len(names)} names for {len(statements)} statements")
    found = solutions(statements)
    if len(found) != 1:
        raise ValueError(f"statements: the puzzle has {len(found)} solutions, not one")
    claimed = claimed_roles(text, names)
    if not claimed:
        return None, False, "no_roles: no person is named with a role"
    read = ", ".join(f"{name}: {claimed[name]}" for name in names if name in claimed)
    missing = [name for name in names if name not in claimed]
    if missing:
        return read, False, f"incomplete: no role for {', '.join(missing)}"
    wrong = [name for name, knight in zip(names, found[0]) if claimed[name] != (KNIGHT if knight else KNAVE)]
    if wrong:
        return read, False, f"wrong_roles: {', '.join(wrong)}"
    return read, True, "ok"
