"""check_countdown: accepted and rejected expressions, limits, and that it never runs code."""
import pytest

from transforms.text.countdown import AT_MOST_ONCE, EXACTLY_ONCE, MAX_EXPRESSION_CHARS, check_countdown

NUMBERS = [25, 3, 7, 7]


@pytest.mark.parametrize("expression, target", [
    ("25 + 3 * 7", 46),
    ("(25 - 7) / 3", 6),
    ("(25 + 3 / 7) * 7", 178),  # exact through a fractional intermediate
    ("7 * 7 - 25 + 3", 27),
    ("  (7+7) * 3 - 25 ", 17),
    ("25 × 7 ÷ 7", 25),
    ("25 \\times 3 - 7", 68),
    ("25 + 3 * 7 = 46", 46),
    ("46 = 25 + 3 * 7", 46),
    ("25", 25),
])
def test_check_countdown_accepts(expression, target):
    assert check_countdown(expression, NUMBERS, target, AT_MOST_ONCE) == (True, "ok")


@pytest.mark.parametrize("expression, target, code", [
    ("25 + 3 * 7", 47, "wrong_result"),
    ("25 + 3 * 7 = 47", 46, "wrong_result"),
    ("25 / 3", 8, "wrong_result"),  # no integer division
    ("25 + 25", 50, "number_reused"),
    ("7 * 7 * 7", 343, "number_reused"),
    ("25 + 4", 29, "unknown_number"),
    ("__import__('os')", 0, "not_allowed"),
    ("__import__('os').system('true')", 0, "not_allowed"),
    ("2**99999", 0, "not_allowed"),
    ("25 ** 3", 15625, "not_allowed"),
    ("x + 3", 3, "not_allowed"),
    ("(25).real + 3", 28, "not_allowed"),
    ("-3 + 25", 22, "not_allowed"),
    ("25 // 3", 8, "not_allowed"),
    ("25 % 7", 4, "not_allowed"),
    ("3.0 + 25", 28, "not_allowed"),
    ("True + 25", 26, "not_allowed"),
    ("[25][0]", 25, "not_allowed"),
    ("lambda: 25", 25, "not_allowed"),
    ("25 / (7 - 7)", 0, "division_by_zero"),
    ("25 +", 25, "syntax_error"),
    ("25 == 25", 25, "syntax_error"),
    ("a = 25", 25, "not_allowed"),
    ("25 = 3 + 7", 10, "wrong_result"),
    ("25 + 3 = 7 + 7", 28, "syntax_error"),
    ("", 25, "empty"),
    ("   ", 25, "empty"),
    ("+".join(["7"] * 200), 1400, "too_long"),
    ("(" * 150 + "25" + ")" * 150, 25, "too_long"),
])
def test_check_countdown_rejects(expression, target, code):
    ok, reason = check_countdown(expression, NUMBERS, target, AT_MOST_ONCE)
    assert not ok
    assert reason.split(":")[0] == code, reason


def test_check_countdown_limits_are_just_above_real_answers():
    deep = "(" * 100 + "25" + ")" * 100
    assert len(deep) <= MAX_EXPRESSION_CHARS
    assert check_countdown(deep, NUMBERS, 25, AT_MOST_ONCE) == (True, "ok")
    assert check_countdown(None, NUMBERS, 25, AT_MOST_ONCE)[0] is False


def test_check_countdown_never_runs_code(tmp_path):
    marker = tmp_path / "ran"
    expression = f"open({str(marker)!r}, 'w').write('x')"
    assert check_countdown(expression, NUMBERS, 1, AT_MOST_ONCE)[0] is False
    assert not marker.exists()


@pytest.mark.parametrize("expression, reason", [
    ("25 / 3", "wrong_result: got 25/3, want 8"),
    ("3 - 25", "wrong_result: got -22, want 8"),
    ("3 / 7 - 25", "wrong_result: got -172/7, want 8"),
])
def test_check_countdown_writes_values_like_gold_answers(expression, reason):
    # the reason's value is written as the generators write gold answers (reduced a/b)
    assert check_countdown(expression, NUMBERS, 8, AT_MOST_ONCE) == (False, reason)


def test_check_countdown_stays_importable_from_the_generators():
    from transforms.ingest import generators

    assert generators.check_countdown is check_countdown


@pytest.mark.parametrize("expression, target, expected", [
    ("25 + 3 + 7 + 7", 42, (True, "ok")),
    ("(25 - 7) / 3 * 7", 42, (True, "ok")),
    ("7 * 7 - 25 + 3", 27, (True, "ok")),
    ("25 + 3 * 7", 46, (False, "number_unused: 7 not used (each number exactly once)")),
    ("25", 25, (False, "number_unused: 3, 7, 7 not used (each number exactly once)")),
    ("25 + 25 + 3 + 7", 60, (False, "number_reused: 25 used 2 times, given 1")),
    ("25 + 3 + 7 + 7", 41, (False, "wrong_result: got 42, want 41")),
])
def test_check_countdown_uses_every_number_exactly_once_by_default(expression, target, expected):
    """TinyZero's rule: every given number exactly once; at most once stays an option."""
    assert check_countdown(expression, NUMBERS, target) == expected
    assert check_countdown(expression, NUMBERS, target, EXACTLY_ONCE) == expected
    if expected[1].startswith("number_unused"):
        assert check_countdown(expression, NUMBERS, target, AT_MOST_ONCE) == (True, "ok")


def test_check_countdown_rejects_an_unknown_rule():
    with pytest.raises(ValueError, match="rule: must be one of exactly_once, at_most_once"):
        check_countdown("25", NUMBERS, 25, "sometimes")
