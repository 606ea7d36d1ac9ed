"""The checker's rules (transforms/verify/sandbox/compare.py), pinned by rule tables:
integers exactly, a tolerance only with a decimal or exponent form, ASCII digits only,
never a non-finite value, and never an exception whatever the sandbox sent."""
import pytest

from transforms.verify.sandbox.compare import MAX_VALUE_DEPTH, outputs_match, tokens_match, values_match

BIG = "1" + "0" * 400  # 401 digits: inf as a float

#: (printed token, expected token, match, the rule that decides)
TOKEN_RULES = [
    ("42", "42", True, "the same text"),
    ("inf", "inf", True, "the same text"),
    ("abc", "abc", True, "the same text"),
    ("1000000008", "1000000007", False, "integers: exact (issue #17: 1e-6 took them as equal)"),
    ("987654000", "987654321", False, "integers: exact"),
    ("007", "7", True, "integers: by value"),
    ("+7", "7", True, "integers: by value"),
    ("-0", "0", True, "integers: by value"),
    ("-5", "5", False, "integers: by value"),
    (BIG, BIG[:-1] + "1", False, "integers: exact at any length"),
    (BIG + "0", BIG + "0", True, "the same text"),
    ("3.0", "3", True, "expected an integer: absolute tolerance, exactly"),
    ("2.9999999", "3", True, "expected an integer: absolute tolerance, exactly"),
    ("3.00001", "3", False, "expected an integer: absolute tolerance, exactly"),
    ("1000000008.0", "1000000007", False, "expected an integer: absolute tolerance (1e-6 relative took them)"),
    ("1000000007.0", "1000000007", True, "expected an integer: absolute tolerance, exactly"),
    ("1e9", "1000000001", False, "expected an integer: absolute tolerance (1e-6 relative took them)"),
    ("1e9", "1000000000", True, "expected an integer: absolute tolerance, exactly"),
    ("1" + "0" * 400 + ".0", BIG, True, "expected an integer: exactly at any length"),
    ("1" + "0" * 399 + "1.0", BIG, False, "expected an integer: exactly at any length"),
    ("5e-999999999", "0", True, "expected an integer: a tiny exponent form is near 0"),
    ("1e999999999", "5", False, "expected an integer: a huge exponent form never (and never hangs)"),
    ("3", "3.0", True, "expected a decimal: tolerance"),
    ("1000000007", "1000000008.0", True, "expected a decimal: relative tolerance (a float answer)"),
    ("0.3333333333", "0.333333333", True, "a decimal: tolerance"),
    ("1.5", "1.6", False, "a decimal: tolerance"),
    ("1e5", "100000", True, "an exponent form: tolerance"),
    ("1E-7", "0", True, "an exponent form: absolute tolerance near 0"),
    ("1.0000005e9", "1e9", True, "expected an exponent form: relative tolerance"),
    (".5", "0.5", True, "a decimal: tolerance"),
    ("inf", BIG, False, "never a non-finite value (issue #17: inf matched 309+ digits)"),
    ("1e999", BIG, False, "never a non-finite value"),
    ("1e999", "1e999", True, "the same text"),
    ("1e999", "1e998", False, "never a non-finite value"),
    ("infinity", "inf", False, "not numbers"),
    (BIG, BIG + ".0", False, "a float of 401 digits is inf: never"),
    ("１２３", "123", False, "ASCII digits only (issue #17: full-width digits matched)"),
    ("١٢٣", "123", False, "ASCII digits only"),
    ("1_000_000", "1000000", False, "ASCII digits only (issue #17: underscores matched)"),
    ("0x10", "16", False, "ASCII decimal only"),
    ("1,000", "1000", False, "not a number"),
    ("PASS", "3", False, "not a number"),
]


@pytest.mark.parametrize("got,want,match,rule", TOKEN_RULES)
def test_token_rules(got, want, match, rule):
    assert tokens_match(got, want) is match, rule
    assert outputs_match(got + "\n", want + "\n") is match, rule


@pytest.mark.parametrize("actual,expected,match", [
    ("3\n", "3", True),
    ("1 2 3  \n\n", "1 2 3\n", True),
    ("1\n2\n", "1 2", True),
    ("3\n", "4\n", False),
    ("", "3", False),
    ("1000000008\n", "1000000007\n", False),
    ("5 1000000008\n", "5 1000000007\n", False),
    ("0.5000001 2\n", "0.5 2\n", True),
])
def test_outputs_match(actual, expected, match):
    assert outputs_match(actual, expected) is match


def _nested(depth):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


#: (returned JSON value, expected value, match, the rule that decides)
VALUE_RULES = [
    (3, 3, True, "integers: exact"),
    (987654000, 987654321, False, "integers: exact (issue #17: 1e-6 took them as equal)"),
    (10 ** 400, 10 ** 400, True, "integers: exact at any size"),
    (10 ** 400, 10 ** 400 + 1, False, "integers: exact at any size"),
    (10 ** 400, 5, False, "a huge integer: compared, never raises (issue #17: OverflowError)"),
    (10 ** 400, 1e308, False, "a huge integer against a float: never raises"),
    (3.0, 3, True, "expected an integer: absolute tolerance, exactly"),
    (1000000008.0, 1000000007, False, "expected an integer: absolute tolerance (1e-6 relative took them)"),
    (2.9999999, 3, True, "expected an integer: absolute tolerance"),
    (1e300, 10 ** 300, False, "expected an integer: exactly (1e300 is not 10**300 as a float)"),
    (float("inf"), 10 ** 400, False, "never a non-finite value"),
    (3, 3.0, True, "expected a float: tolerance"),
    (0.1 + 0.2, 0.3, True, "a float: tolerance"),
    (1.5, 1.6, False, "a float: tolerance"),
    (float("inf"), float("inf"), False, "never a non-finite value"),
    (float("inf"), 1e308, False, "never a non-finite value"),
    (float("nan"), float("nan"), False, "never a non-finite value"),
    (True, 1, False, "bool only equals bool"),
    (1, True, False, "bool only equals bool"),
    (True, True, True, "bool only equals bool"),
    ("3", 3, False, "strings exactly"),
    (None, 0, False, "null exactly"),
    (None, None, True, "null exactly"),
    ([1, 2], [1, 2], True, "lists item by item"),
    ([1, 2], [2, 1], False, "lists item by item"),
    ([[987654000]], [[987654321]], False, "lists item by item, integers exact"),
    ({"a": [1]}, {"a": [1]}, True, "objects key by key"),
    ({"a": 1}, {"b": 1}, False, "objects key by key"),
    (3, [3], True, "an expected [x] accepts x"),
    ([3], 3, False, "not the other way round"),
    (_nested(MAX_VALUE_DEPTH + 5), _nested(MAX_VALUE_DEPTH + 5), False, "nested too deeply: never"),
    (_nested(10), _nested(10), True, "nested within the bound"),
]


@pytest.mark.parametrize("actual,expected,match,rule", VALUE_RULES)
def test_value_rules(actual, expected, match, rule):
    assert values_match(actual, expected) is match, rule


def test_tolerance_is_the_configured_one():
    assert tokens_match("1.0001", "1", 1e-3) and not tokens_match("1.0001", "1", 1e-6)
    assert values_match(1.0001, 1, 1e-3) and not values_match(1.0001, 1, 1e-6)
    assert not tokens_match("1000000008", "1000000007", 1.0)  # integers stay exact whatever the tolerance
    assert not values_match(987654000, 987654321, 1.0)
