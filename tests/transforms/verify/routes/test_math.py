"""The maths route: the cheap exact path, math-verify through the child, and answers
that must never be executed or take unbounded time."""
import os
import time

import pytest

from tests.factories import DownMathVerifier, make_rollout
from transforms.verify.config import VerifyConfig
from transforms.verify.dispatch import normalize_gold, verify_rollout_fields
from transforms.verify.matching.keys import answer_key
from transforms.verify.matching.numbers import inequality_to_interval, oversized
from transforms.verify.matching.prose import knowledge_verdict
from transforms.verify.mathcheck import MathVerifierProcess
from transforms.verify.routes.math import exact_verdict

#: A prediction whose comparison with "2" makes sympy compute for minutes.
POWER_TOWER = "9^{9^{9^{9}}}"
KNOWLEDGE = dict(rel_tol=1e-4, f1_correct=0.8, f1_incorrect=0.0, max_gold_words=10)


@pytest.mark.parametrize(
    "gold,pred,expected",
    [
        ("1000", "1,000", ("correct", "numeric_equal")),
        ("18", "18.00", ("correct", "numeric_equal")),
        ("50", "50%", ("correct", "numeric_equal")),
        ("0.5", "50\\%", ("correct", "numeric_equal")),
        ("0.5", "\\frac{1}{2}", ("correct", "numeric_equal")),
        ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})", ("correct", "exact_string_match")),
        ("30^\\circ", "30", ("correct", "exact_string_match")),
        ("18", "19", ("incorrect", "numeric_mismatch")),
        ("3.14", "3.14159", ("incorrect", "numeric_mismatch")),
        ("50", "0.5", ("incorrect", "numeric_mismatch")),
        ("\\frac{3}{4}", "\\frac{4}{5}", ("incorrect", "numeric_mismatch")),
        ("\\frac{1}{3}", "0.333", None),  # rounding: math-verify's call
        ("\\frac{\\sqrt2}{2}", "\\sqrt{2}/2", ("correct", "same_radical")),
        ("2\\sqrt{3}", "\\sqrt{12}", ("correct", "same_radical")),
        ("\\sqrt{5}", "\\sqrt{6}", ("incorrect", "different_radical")),
        ("(1,2)", "(2,1)", ("incorrect", "different_values")),
        ("\\{1,2\\}", "\\{2, 1\\}", ("correct", "same_values")),
        ("1,-2", "-2, 1", ("correct", "same_values")),
        ("(2,\\infty)", "(3,\\infty)", ("incorrect", "different_values")),
        ("[1,2)", "(1,2)", None),  # other brackets: math-verify's call
        ("(\\frac{1}{3}, 1)", "(0.333, 1)", None),  # rounding: math-verify's call
        ("-2 + 7i", "-2+7i", ("correct", "exact_string_match")),
        ("6 - 5i", "6 - 4i", ("incorrect", "different_complex")),
        ("5", "x = 5", ("correct", "numeric_equal")),
        ("k=1", "k = 2", ("incorrect", "numeric_mismatch")),
        ("y=-2x+5", "y=-2x+6", ("incorrect", "different_expression")),  # compared by value (#18)
        ("\\frac{\\pi}{2}", "\\pi/2", ("correct", "same_value")),
        ("(-\\infty, \\frac{\\pi}{2})", "(-\\infty, \\pi/2)", None),  # beyond the reader: math-verify's call
        ("Monday", "monday", ("correct", "text_match")),
        ("\\text{Evelyn}", "Evelyn", ("correct", "text_match")),
        ("\\text{odd}", "even", ("incorrect", "text_mismatch")),
        ("Monday", "dynamo", ("incorrect", "text_mismatch")),  # the same letters: not the same word
        ("\\text{east}", "3", None),
    ],
)
def test_exact_verdict(gold, pred, expected):
    assert exact_verdict(gold, pred) == expected


def test_unavailable_verifier_gives_infra_unavailable():
    rollout = make_rollout(reference_answer="(-\\infty, \\frac{\\pi}{2})", answer="\\boxed{(-\\infty, \\pi/2)}")
    fields = verify_rollout_fields(rollout, DownMathVerifier())
    assert fields["verdict"] == "infra_unavailable"


def test_math_verify_route_records_version(verifier):
    rollout = make_rollout(reference_answer="(-\\infty, \\frac{\\pi}{2})", answer="\\boxed{(-\\infty, \\pi/2)}")
    fields = verify_rollout_fields(rollout, verifier)
    assert (fields["verdict"], fields["verifier"]) == ("correct", "math-verify")
    assert fields["verifier_version"].startswith("math-verify==0.9")


# -- pathological answers ------------------------------------------------------

PWNED = "/tmp/reasoning-corpus-verify-pwned"
PATHOLOGICAL = {
    "power_tower": POWER_TOWER,
    "power_tower_10": "10^{10^{10^{10}}}",
    "power_tower_2": "2^{2^{2^{2^{2^{2}}}}}",
    "huge_power": "9999999999999999^{99999999999999}",
    "factorial": "100000000!",
    "factorial_of_power": "(10^{10})!",
    "factorial_fraction": "\\frac{(10^{9})!}{(10^{9}-1)!}",
    "binomial": "\\binom{10^{12}}{10^{6}}",
    "huge_sum": "\\sum_{n=1}^{10^{12}} n^{n}",
    "huge_product": "\\prod_{k=1}^{10^{9}} k",
    "integral": "\\int_{0}^{1} e^{x^{1000}} \\, dx",
    "limit": "\\lim_{x \\to 0} \\frac{\\sin(x^{100})}{x^{99}}",
    "exp_notation": "1e100000000",
    "tiny": "10^{-10^{10}}",
    "long_digits_100k": "1" * 100_000,
    "long_symbols_100k": "x" * 100_000,
    "long_sum_100k": "1+" * 50_000 + "1",
    "deep_parens": "(" * 5_000 + "1" + ")" * 5_000,
    "deep_fracs": "\\frac{1}{" * 2_000 + "2" + "}" * 2_000,
    "deep_sqrts": "\\sqrt{" * 3_000 + "2" + "}" * 3_000,
    "deep_braces": "{" * 20_000 + "2" + "}" * 20_000,
    "deep_exponents": "x^{" * 1_000 + "2" + "}" * 1_000,
    "big_matrix": "\\begin{pmatrix}" + "\\\\".join("&".join("x" for _ in range(60)) for _ in range(60))
                  + "\\end{pmatrix}",
    "import_os": f"__import__('os').system('touch {PWNED}')",
    "eval_string": f"eval(\"__import__('os').system('touch {PWNED}')\")",
    "exec_string": f"exec('import os; os.system(\"touch {PWNED}\")')",
    "lambda": f"(lambda: __import__('os').system('touch {PWNED}'))()",
    "subclasses": "().__class__.__bases__[0].__subclasses__()",
    "open_file": f"open('{PWNED}', 'w').write('x')",
    "latex_write18": f"\\immediate\\write18{{touch {PWNED}}}",
    "latex_input": "\\input{/etc/passwd}",
    "python_in_dollars": f"$__import__('os').system('touch {PWNED}')$",
    "sympy_function_names": "Function('f')(exec)",
    "null_and_bidi": "2\x00\u202e1",
    "deep_parens_short": "(" * 300 + "1" + ")" * 300,
    "nested_sqrt_short": "\\sqrt{" * 60 + "2" + "}" * 60,
    "long_complex": "1" * 5000 + "+" + "2" * 5000 + "i",
    "long_radical": "1" * 3000 + "\\sqrt{" + "7" * 3000 + "}",
    "long_tuple": "(" + ",".join(["1"] * 3000) + ")",
}


def test_cheap_paths_stay_fast_on_pathological_answers():
    """Everything that runs in the parent (no child, no bound but its own speed)."""
    started = time.process_time()
    for answer in PATHOLOGICAL.values():
        for gold in ("2", "(1, 2)", "\\sqrt{2}", "x < 3", "Paris"):
            exact_verdict(gold, answer)
            oversized(gold, answer)
        inequality_to_interval(answer)
        answer_key(answer)
        normalize_gold(answer)
        knowledge_verdict("2", answer, **KNOWLEDGE)
    assert time.process_time() - started < 5.0


@pytest.mark.slow
@pytest.mark.timeout(180)  # each answer is bounded; a hang in the parent must fail, not stall the suite
def test_pathological_answers_are_bounded_and_never_executed():
    timeout_s = 1.0
    config = VerifyConfig(timeout_s=timeout_s)
    assert len(PATHOLOGICAL) >= 30
    with MathVerifierProcess() as math_verifier:
        for name, answer in PATHOLOGICAL.items():
            math_verifier.start()  # a restart after a kill is not this answer's time
            rollout = make_rollout(reference_answer="2", answer=f"The answer is \\boxed{{{answer}}}.")
            started = time.monotonic()
            fields = verify_rollout_fields(rollout, math_verifier, config)
            elapsed = time.monotonic() - started
            assert elapsed <= timeout_s + 1.0, (name, elapsed, fields)
            assert fields["verdict"] in ("incorrect", "timeout", "error", "unverifiable"), (name, fields)
            assert not os.path.exists(PWNED), name
        # the worker survives, and so does its checker
        assert verify_rollout_fields(make_rollout(reference_answer="\\frac{\\sqrt2}{2}", answer="\\boxed{\\sqrt{2}/2}"),
                                     math_verifier, config)["verdict"] == "correct"


def test_injection_payload_is_never_executed(verifier, tmp_path):
    target = tmp_path / "pwned"
    payloads = [
        f"__import__('os').system('touch {target}')",
        f"eval(\"__import__('os').system('touch {target}')\")",
        f"\\boxed{{__import__('os').system('touch {target}')}}",
    ]
    for payload in payloads:
        rollout = make_rollout(reference_answer="2", answer=f"The answer is {payload}")
        fields = verify_rollout_fields(rollout, verifier)
        assert fields["verdict"] == "incorrect"
        assert verifier.verify("2", payload, timeout_s=10)[0] == "incorrect"
    assert not target.exists()
