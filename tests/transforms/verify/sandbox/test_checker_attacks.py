"""Wrong code the checker judged correct (issue #17, class 1), run for real in the
sandbox: every program here prints or returns a wrong answer that the old comparison
(every number through ``float()`` with a 1e-6 relative tolerance) took for the
expected one. Each must now be ``incorrect``; the controls after them, right answers
written another way, stay ``correct``."""
import pytest

from transforms.verify.sandbox.config import SandboxConfig
from transforms.verify.sandbox.suites import CodeTests, run_tests

BIG = "1" + "0" * 400

#: name → (mode, source, expected output (stdin) or value (call)); all wrong answers.
CHECKER_ATTACKS = {
    "off_by_one_mod_prime": ("stdin", "print(1000000008)", "1000000007\n"),
    "low_digits_wrong": ("stdin", "print(987654000)", "987654321\n"),
    "off_by_one_near_2_63": ("stdin", "print(2 ** 63)", f"{2 ** 63 - 1}\n"),
    "inf_for_huge_integer": ("stdin", "print('inf')", BIG + "\n"),
    "float_inf_for_huge_integer": ("stdin", "print(float('inf'))", BIG + "\n"),
    "exponent_overflow_for_huge_integer": ("stdin", "print('1e999')", BIG + "\n"),
    "huge_integer_off_by_one": ("stdin", "print(10 ** 400 + 1)", BIG + "\n"),
    "full_width_digits": ("stdin", "print('\\uff11\\uff12\\uff13')", "123\n"),
    "arabic_indic_digits": ("stdin", "print('\\u0661\\u0662\\u0663')", "123\n"),
    "underscore_separators": ("stdin", "print('1_000_000')", "1000000\n"),
    "hex_literal": ("stdin", "print('0x10')", "16\n"),
    "float_form_off_by_one": ("stdin", "print('1000000008.0')", "1000000007\n"),
    "exponent_form_off_by_one": ("stdin", "print('1e9')", "1000000001\n"),
    "one_wrong_token_of_many": ("stdin", "print(5, 1000000008, 7)", "5 1000000007 7\n"),
    "nan_for_number": ("stdin", "print('nan')", "0\n"),
    "call_off_by_one": ("call", "def solve(x):\n    return 1000000008", 1000000007),
    "call_low_digits_wrong": ("call", "def solve(x):\n    return 987654000", 987654321),
    "call_float_for_integer": ("call", "def solve(x):\n    return 1000000008.0", 1000000007),
    "call_inf_for_huge_integer": ("call", "def solve(x):\n    return float('inf')", 10 ** 300),
    "call_nan_for_nan": ("call", "def solve(x):\n    return float('nan')", float("nan")),
    "call_huge_integer_against_float": ("call", "def solve(x):\n    return 10 ** 400", 1e308),
    "call_true_for_one": ("call", "def solve(x):\n    return True", 1),
    "call_nested_off_by_one": ("call", "def solve(x):\n    return [[1, 1000000008]]", [[1, 1000000007]]),
}

#: Right answers written another way: still correct.
CONTROLS = {
    "leading_zeros": ("stdin", "print('007')", "7\n"),
    "float_for_integer": ("stdin", "print('3.0')", "3\n"),
    "rounded_float": ("stdin", "print(f'{1/3:.10f}')", "0.333333333\n"),
    "huge_integer": ("stdin", "print(10 ** 400)", BIG + "\n"),
    "call_float_for_float": ("call", "def solve(x):\n    return 0.1 + 0.2", 0.3),
    "call_huge_integer": ("call", "def solve(x):\n    return 10 ** 400", 10 ** 400),
}


@pytest.fixture(scope="module")
def sandbox(working_sandbox):
    return working_sandbox(SandboxConfig(timeout_s=5.0))


def _suite(mode, expected):
    if mode == "call":
        return CodeTests("call", [([1], expected)], "solve")
    return CodeTests("stdin", [("", expected)])


@pytest.mark.parametrize("name", sorted(CHECKER_ATTACKS))
def test_wrong_answer_is_incorrect(sandbox, name):
    mode, source, expected = CHECKER_ATTACKS[name]
    verdict, reason = run_tests(source, _suite(mode, expected), sandbox)
    assert (verdict, reason.rsplit(": ", 1)[-1]) == ("incorrect", "wrong_answer"), reason


@pytest.mark.parametrize("name", sorted(CONTROLS))
def test_right_answer_written_otherwise_is_correct(sandbox, name):
    mode, source, expected = CONTROLS[name]
    assert run_tests(source, _suite(mode, expected), sandbox) == ("correct", "passed 1/1 tests")


def test_checker_attack_suite_is_large_enough():
    assert len(CHECKER_ATTACKS) >= 20
