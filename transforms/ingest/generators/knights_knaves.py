"""The ``knights_knaves`` generator: who is a knight (always truthful) and who a knave
(always lying), from one statement by each inhabitant.

2 people at level 1, 3 at 2, 4-5 at 3. A hidden assignment is drawn, then each
speaker's statement is drawn until it is true exactly when its speaker is a knight; the
puzzle is kept only when brute force over every assignment finds exactly one consistent
one (:func:`transforms.text.knights.solutions`), else the statements are drawn again.
The gold answer is ``"Alice: knight, Bob: knave"``; ``metadata`` holds the
``verifier`` (``knights_knaves``), the ``people``, the ``statements`` and the
``solution``; answers are checked by :func:`transforms.text.knights.check_knights`."""
from __future__ import annotations

import random
from typing import List

from transforms.ingest.generators.common import make_problem
from transforms.text.knights import KNAVE, KNIGHT, answer_text, describe, solutions, truth

#: difficulty -> how many people (choices).
_LEVELS = {1: (2,), 2: (3,), 3: (4, 5)}
#: Names no one of which is a prefix word of another.
_NAMES = ("Alice", "Bob", "Carol", "David", "Emma", "Frank", "Grace", "Henry", "Iris", "Jack", "Kate", "Liam",
          "Mia", "Noah", "Olivia", "Peter", "Quinn", "Ruby", "Sam", "Tina")
#: Statement draws per speaker, then puzzle draws per assignment, before a new assignment.
_TRIES = 50


def _draw_statement(rng: random.Random, speaker: int, people: int) -> list:
    """One random statement by ``speaker`` (others named; ``same``/``differ`` may name the speaker)."""
    others = [i for i in range(people) if i != speaker]
    role = rng.choice((KNIGHT, KNAVE))
    form = rng.choice(("is", "is", "both", "either", "same", "differ", "count"))
    if form == "is":
        return ["is", rng.choice(others), role]
    if form in ("both", "either"):
        if len(others) < 2:
            return [form, speaker, others[0], role]
        a, b = sorted(rng.sample(others, 2))
        return [form, a, b, role]
    if form in ("same", "differ"):
        return [form, speaker, rng.choice(others)]
    return ["count", rng.randint(1, people - 1), role]


def _puzzle(rng: random.Random, people: int) -> tuple:
    """(assignment, statements) with exactly one consistent assignment."""
    while True:  # ends: a puzzle of "is" statements about a knave/knight chain is unique often enough
        assignment = tuple(rng.random() < 0.5 for _ in range(people))
        for _ in range(_TRIES):
            statements: List[list] = []
            for speaker in range(people):
                for _ in range(_TRIES):
                    statement = _draw_statement(rng, speaker, people)
                    if truth(statement, assignment) == assignment[speaker]:
                        break
                statements.append(statement)
            if solutions(statements) == [assignment]:
                return assignment, statements


def knights_knaves(index: int, rng: random.Random, difficulty: int) -> dict:
    """A Knights and Knaves puzzle with a unique solution (checked by brute force)."""
    people = rng.choice(_LEVELS[difficulty])
    names = rng.sample(_NAMES, people)
    assignment, statements = _puzzle(rng, people)
    listed = ", ".join(names[:-1]) + f" and {names[-1]}"
    said = " ".join(f'{name} says: "{describe(s, i, names)}"' for i, (name, s) in enumerate(zip(names, statements)))
    prompt = (
        "On an island every inhabitant is either a knight, who always tells the truth, or a knave, "
        f"who always lies. You meet {people} inhabitants: {listed}. {said} "
        "Who is a knight and who is a knave? Give your final answer as a list of name: role "
        'for every inhabitant, e.g. "X: knight, Y: knave".'
    )
    metadata = {"verifier": "knights_knaves", "people": names, "statements": statements,
                "solution": [KNIGHT if knight else KNAVE for knight in assignment]}
    return make_problem("knights_knaves", index, difficulty, prompt, answer_text(names, assignment), metadata)
