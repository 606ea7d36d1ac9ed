"""The answer keys a majority vote counts."""
import pytest

from transforms.verify.matching.keys import answer_key


@pytest.mark.parametrize("a,b,same", [
    ("0.5", "\\frac{1}{2}", True), ("1,000", "1000", True), ("Monday", "\\text{monday}", True),
    ("x+1", "x + 1", True), ("2", "3", False), ("\\sqrt{2}", "\\sqrt{3}", False),
])
def test_answer_key(a, b, same):
    assert (answer_key(a) == answer_key(b)) is same
