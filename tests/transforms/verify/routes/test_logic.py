"""The logic route: a Knights and Knaves answer checked exactly through verify_rollout_fields."""
import json

import pytest

from tests.factories import NoMathVerifier, make_rollout
from transforms.verify.dispatch import verify_rollout_fields

META = {"verifier": "knights_knaves", "people": ["Alice", "Bob"],
        "statements": [["same", 0, 1], ["is", 0, "knave"]], "solution": ["knave", "knight"]}


@pytest.mark.parametrize("answer, verdict, reason", [
    ("\\boxed{Alice: knave, Bob: knight}", "correct", "ok"),
    ("Alice is a knight and Bob is a knave.", "incorrect", "wrong_roles: Alice, Bob"),
    ("Bob is a knight.", "incorrect", "incomplete: no role for Alice"),
    ("No idea.", "no_answer", "no_roles: no person is named with a role"),
])
def test_knights_route(answer, verdict, reason):
    rollout = make_rollout(reference_answer="Alice: knave, Bob: knight", metadata=json.dumps(META), answer=answer)
    fields = verify_rollout_fields(rollout, NoMathVerifier())
    assert (fields["verdict"], fields["verdict_reason"]) == (verdict, reason)
    assert (fields["verifier"], fields["verifier_version"]) == ("knights_knaves", "knights_knaves==1")


def test_a_broken_puzzle_raises_for_the_stage_to_dead_letter():
    meta = dict(META, statements=[["is", 1, "knight"], ["is", 0, "knight"]])  # two solutions
    with pytest.raises(ValueError, match="2 solutions"):
        verify_rollout_fields(make_rollout(metadata=json.dumps(meta), answer="Alice: knight, Bob: knight"),
                              NoMathVerifier())
