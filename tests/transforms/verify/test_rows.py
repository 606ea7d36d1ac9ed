"""Rows of a user's rollouts file (the ``verify`` command): a Rollout from a row, and
the output row of a verdict."""
import pytest

from transforms.core import stable_hash
from transforms.verify.rows import rollout_from_row, verdict_row


def test_rollout_from_row_defaults_and_decoding():
    rollout = rollout_from_row({"prompt": "Sum", "completion": "```python\nprint(3)\n```",
                                "tests": {"inputs": ["1 2\n"], "outputs": ["3\n"]}, "metadata": {"k": 1},
                                "choices": "['a', 'b']", "sample_index": "2"})
    assert rollout.problem_id == stable_hash("prompt", "Sum")
    assert rollout.domain == "code" and rollout.tests == '{"inputs": ["1 2\\n"], "outputs": ["3\\n"]}'
    assert rollout.metadata == '{"k": 1}' and rollout.choices == ["a", "b"]
    assert (rollout.completion, rollout.answer, rollout.sample_index) == ("```python\nprint(3)\n```", "", 0)
    assert rollout_from_row({"prompt": "x", "response": "y"}).domain == "math"


@pytest.mark.parametrize("row", [{"prompt": "x", "response": 5}, {"prompt": "x", "response": "y", "choices": 3}])
def test_rollout_from_row_rejects_bad_fields(row):
    with pytest.raises(ValueError):
        rollout_from_row(row)


def test_verdict_row_keeps_the_input_and_adds_the_verdict():
    fields = dict(extracted_answer="5", verdict="correct", verifier="exact", verifier_version="exact==2",
                  verdict_reason="numeric_equal")
    row = {"prompt": "x", "extra": 1}
    assert verdict_row(row, fields) == {"prompt": "x", "extra": 1, "verdict": "correct", "extracted_answer": "5",
                                        "verifier": "exact", "verifier_version": "exact==2",
                                        "reason": "numeric_equal", "pass_rate": 0.0}
    assert row == {"prompt": "x", "extra": 1}  # a copy
    failed = verdict_row({"input_line": 3}, None, "invalid_json: x")
    assert (failed["verdict"], failed["verifier"], failed["reason"]) == ("error", "none", "invalid_json: x")


def test_rollout_from_row_with_the_files_own_field_names():
    """``verify --fields``: a file's own names (Sky-T1: question, code, gt), and a list
    holding the one response."""
    row = {"question": "What is 2+2?", "code": ["<|begin_of_thought|>…<|end_of_thought|> \\boxed{4}"], "gt": "4"}
    rollout = rollout_from_row(row, {"prompt": "question", "response": "code", "reference_answer": "gt"})
    assert (rollout.prompt, rollout.completion, rollout.reference_answer) == (
        "What is 2+2?", row["code"][0], "4")
    with pytest.raises(ValueError, match="response"):
        rollout_from_row({"code": ["a", "b"]}, {"response": "code"})  # two responses: not one row's
