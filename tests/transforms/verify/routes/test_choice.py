"""The multiple-choice route: which letter an answer names."""
import pytest

from transforms.verify.routes.choice import choice_letter


@pytest.mark.parametrize(
    "answer,allow_index,expected",
    [
        ("B", False, "B"),
        ("(c)", False, "C"),
        ("increase the mortality rate", False, "D"),
        ("2", True, "C"),
        ("2", False, None),
        ("E", False, None),
    ],
)
def test_choice_letter(answer, allow_index, expected):
    choices = ["keep it", "zero control", "reduce K", "increase the mortality rate"]
    assert choice_letter(answer, choices, allow_index=allow_index) == expected
