"""The countdown route: the stated (or last) arithmetic expression, checked."""
import json

import pytest

from tests.factories import NoMathVerifier, make_rollout
from transforms.verify.config import VerifyConfig
from transforms.verify.dispatch import verify_rollout_fields


@pytest.mark.parametrize(
    "answer,fallback,expected",
    [
        ("\\boxed{(25 - 5) * 4}", True, ("(25 - 5) * 4", "correct")),
        ("Final answer: (25 - 5) \\times 4 = 80", True, ("(25 - 5) \\times 4 = 80", "correct")),
        ("Trying things, (25 - 5) * 4 = 80 works.", True, ("(25 - 5) * 4 = 80", "correct")),
        ("Trying things, (25 - 5) * 4 = 80 works.", False, (None, "no_answer")),
        ("The answer is 25 * 4 - 5 = 95", True, ("25 * 4 - 5 = 95", "incorrect")),
        ("The answer is 25 * 4 - 5 * 4", True, ("25 * 4 - 5 * 4", "incorrect")),  # 4 used twice
        ("I give up.", True, (None, "no_answer")),
    ],
)
def test_countdown_route(answer, fallback, expected):
    meta = json.dumps({"verifier": "countdown", "numbers": [25, 5, 4], "target": 80})
    rollout = make_rollout(reference_answer="80", metadata=meta, answer=answer)
    fields = verify_rollout_fields(rollout, NoMathVerifier(), VerifyConfig(last_number_fallback=fallback))
    assert (fields["extracted_answer"], fields["verdict"]) == expected
    assert fields["verifier"] == "countdown"


@pytest.mark.parametrize("rule, answer, expected", [
    ("exactly_once", "\\boxed{(25 - 5) * 4}", ("incorrect", "number_unused: 1 not used (each number exactly once)")),
    ("exactly_once", "\\boxed{25 * 4 - 20}", ("incorrect", "unknown_number: 20 is not in [25, 5, 4, 1]")),
    ("exactly_once", "\\boxed{(25 - 5) * 4 * 1}", ("correct", "ok")),
    (None, "\\boxed{(25 - 5) * 4}", ("correct", "ok")),  # problems from before the rule: at most once
    ("at_most_once", "\\boxed{(25 - 5) * 4}", ("correct", "ok")),
])
def test_countdown_route_holds_answers_to_the_problems_rule(rule, answer, expected):
    numbers = [25, 5, 4, 1]
    meta = {"verifier": "countdown", "numbers": numbers, "target": 80}
    if rule is not None:
        meta["rule"] = rule
    rollout = make_rollout(reference_answer="80", metadata=json.dumps(meta), answer=answer)
    fields = verify_rollout_fields(rollout, NoMathVerifier(), VerifyConfig())
    assert (fields["verdict"], fields["verdict_reason"]) == expected
    assert fields["verifier_version"] == "countdown==2"
