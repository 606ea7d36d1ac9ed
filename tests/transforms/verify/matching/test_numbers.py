"""Numbers and structures on the cheap path: plain numbers, sizes, top-level items,
inequalities as intervals."""
import pytest

from transforms.verify.matching.numbers import inequality_to_interval, oversized, parse_plain_number, top_level_items


@pytest.mark.parametrize(
    "text,expected",
    [
        ("1,234", (1234, False)),
        ("18", (18, False)),
        ("27.0", (27, False)),
        ("-3.50", (-3.5, False)),
        ("50%", (50, True)),
        ("50\\%", (50, True)),
        ("3/4", (0.75, False)),
        ("-\\frac{1}{2}", (-0.5, False)),
        ("\\dfrac{3}{4}", (0.75, False)),
        (".5", (0.5, False)),
        ("1,2", None),
        ("1/0", None),
        ("x", None),
        ("\\sqrt{2}", None),
        ("", None),
        ("1" * 5000, None),  # too long for the cheap path (and for int()): math-verify decides
    ],
)
def test_parse_plain_number(text, expected):
    parsed = parse_plain_number(text)
    if expected is None:
        assert parsed is None
    else:
        assert (float(parsed[0]), parsed[1]) == expected

@pytest.mark.parametrize("gold,pred,expected", [
    ("2", "1" * 1001, "answer_too_long: 1001 chars"),
    ("1" * 800, "1" * 1500, None),  # a long reference allows a long answer
    ("2", "(" * 31 + ")" * 31, "answer_too_deep: 31 levels"),
    ("\\frac{\\frac{\\frac{1}{2}}{3}}{4}", "\\frac{\\frac{\\frac{1}{2}}{3}}{4}", None),
])
def test_oversized(gold, pred, expected):
    assert oversized(gold, pred) == expected


@pytest.mark.parametrize("answer,items", [
    ("1, 2", ["1", "2"]), ("(1,2), (3,4)", ["(1,2)", "(3,4)"]), ("1,234", ["1,234"]),
    ("\\{1, 2\\}", ["\\{1, 2\\}"]), ("x", ["x"]),
])
def test_top_level_items(answer, items):
    assert top_level_items(answer) == items


@pytest.mark.parametrize(
    "answer,expected",
    [
        ("x < 3", "(-\\infty, 3)"),
        ("x\\geq -2", "[-2, \\infty)"),
        ("-2 \\le x < 1", "[-2, 1)"),
        ("5 > x \\geq \\frac{1}{2}", "[\\frac{1}{2}, 5)"),
        ("\\{x|-2\\leq x < 1\\}", "[-2, 1)"),
        ("\\{x \\mid x > 3\\}", "(3, \\infty)"),
        ("\\{ t : t \\leqslant 0 \\}", "(-\\infty, 0]"),
        ("\\{x|y > 3\\}", None),  # another variable than the one the set is of
        ("x < 3 or x > 5", None),
        ("[1, 2)", None),
        ("3", None),
    ],
)
def test_inequality_to_interval(answer, expected):
    assert inequality_to_interval(answer) == expected
