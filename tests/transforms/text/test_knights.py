"""Knights and Knaves: statements' truth, brute-force solutions, reading and checking answers."""
import pytest

from transforms.text.knights import check_knights, claimed_roles, consistent, describe, solutions, truth

NAMES = ["Alice", "Bob", "Carol"]
#: Alice: "Bob is a knave." Bob: "Exactly 2 of us are knights." Carol: "Bob and Alice are of the same kind."
STATEMENTS = [["is", 1, "knave"], ["count", 2, "knight"], ["same", 1, 0]]


def test_the_puzzle_has_exactly_one_solution_by_brute_force():
    assert solutions(STATEMENTS) == [(True, False, False)]
    assert consistent(STATEMENTS, (True, False, False))
    assert not consistent(STATEMENTS, (False, True, False))


@pytest.mark.parametrize("statement, assignment, expected", [
    (["is", 1, "knight"], (True, True), True),
    (["is", 1, "knave"], (True, True), False),
    (["both", 0, 1, "knave"], (False, False), True),
    (["both", 0, 1, "knave"], (False, True), False),
    (["either", 0, 1, "knight"], (False, True), True),
    (["either", 0, 1, "knight"], (False, False), False),
    (["same", 0, 1], (False, False), True),
    (["differ", 0, 1], (False, False), False),
    (["count", 2, "knave"], (False, False), True),
    (["count", 1, "knight"], (True, True), False),
])
def test_truth(statement, assignment, expected):
    assert truth(statement, assignment) is expected


def test_a_paradox_and_an_ambiguous_puzzle_have_no_single_solution():
    assert solutions([["is", 0, "knave"], ["is", 0, "knight"]]) == []  # "I am a knave"
    assert len(solutions([["is", 1, "knight"], ["is", 0, "knight"]])) == 2


@pytest.mark.parametrize("statements", [
    [["is", 5, "knight"], ["is", 0, "knight"]], [["maybe", 1]], [["is", 1, "wizard"], ["is", 0, "knight"]],
    [["count", 3, "knight"], ["is", 0, "knight"]], [],
])
def test_malformed_statements_are_errors(statements):
    with pytest.raises(ValueError, match="statements"):
        solutions(statements)


def test_describe_speaks_as_the_speaker():
    assert describe(["is", 1, "knave"], 0, NAMES) == "Bob is a knave."
    assert describe(["same", 1, 0], 1, NAMES) == "Alice and I are of the same kind."
    assert describe(["both", 0, 2, "knight"], 0, NAMES) == "Carol and I are both knights."
    assert describe(["either", 0, 2, "knave"], 0, NAMES) == "At least one of me and Carol is a knave."
    assert describe(["count", 1, "knight"], 2, NAMES) == "Exactly 1 of us is a knight."


@pytest.mark.parametrize("text, expected", [
    ("\\boxed{Alice: knight, Bob: knave, Carol: knave}", (True, "ok")),
    ("So Alice is a knight, Bob is a knave and Carol is a knave.", (True, "ok")),
    ("Alice - Knight\nBob - Knave\nCarol - Knave", (True, "ok")),
    ("First guess: Alice: knave. Wrong. Final: Alice: knight, Bob: knave, Carol: knave", (True, "ok")),
    ("\\boxed{Alice: knight, Bob: knight, Carol: knave}", (False, "wrong_roles: Bob")),
    ("Alice is a knight and Bob is a knave.", (False, "incomplete: no role for Carol")),
    ("I don't know.", (False, "no_roles: no person is named with a role")),
])
def test_check_knights(text, expected):
    read, ok, reason = check_knights(text, NAMES, STATEMENTS)
    assert (ok, reason) == expected
    assert (read is None) == reason.startswith("no_roles")


def test_the_boxed_answer_wins_over_the_working():
    text = "Suppose Alice is a knave ... contradiction.\n\n\\boxed{Alice: knight, Bob: knave, Carol: knave}"
    assert claimed_roles(text, NAMES) == {"Alice": "knight", "Bob": "knave", "Carol": "knave"}


def test_a_puzzle_without_one_solution_is_an_error_not_a_verdict():
    with pytest.raises(ValueError, match="2 solutions"):
        check_knights("Alice: knight, Bob: knight", ["Alice", "Bob"], [["is", 1, "knight"], ["is", 0, "knight"]])
