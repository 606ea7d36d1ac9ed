"""The gold-answer text of a number, shared by every generator."""
from fractions import Fraction

import pytest

from transforms.ingest.generators import format_number


@pytest.mark.parametrize("value, text", [
    (Fraction(5), "5"), (Fraction(-4), "-4"), (Fraction(14, 6), "7/3"),
    (Fraction(7, -3), "-7/3"), (0, "0"),
])
def test_format_number(value, text):
    assert format_number(value) == text
