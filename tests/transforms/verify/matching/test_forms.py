"""Written forms of one answer made one before any comparison (transforms/verify/matching/forms.py),
issue #17 class 7: Unicode fractions and digits, sets with repeats, Euler-form complex
numbers. The route cases were judged ``incorrect`` before (math-verify reads ``½`` as
text and ``i`` in ``e^{i\\pi}`` as a symbol; the exact path counted a set's repeats)."""
import time

import pytest

from tests.factories import make_rollout
from transforms.verify.dispatch import verify_rollout_fields
from transforms.verify.matching.forms import dedupe_set, euler_to_trig, imaginary_angle, normalize_forms, unicode_math
from transforms.verify.matching.keys import answer_key


@pytest.mark.parametrize("text,expected", [
    ("½", "\\frac{1}{2}"),
    ("1½", "\\frac{3}{2}"),
    ("2 ¾", "\\frac{11}{4}"),
    ("1.5½", "1.5\\frac{1}{2}"),  # not a mixed number
    ("⅐", "\\frac{1}{7}"),
    ("１２", "12"),
    ("١٢", "12"),
    ("x²", "x^{2}"),
    ("a₁₂", "a_{12}"),
    ("√2", "\\sqrt{2}"),
    ("√(x+1)", "\\sqrt{x+1}"),
    ("−3", "-3"),
    ("（1，2）", "(1,2)"),
    ("plain ascii", "plain ascii"),
])
def test_unicode_math(text, expected):
    assert unicode_math(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("e^{i\\pi}", "-1"),
    ("e^{\\pi i}", "-1"),
    ("e^{-i\\pi}", "-1"),
    ("e^{i\\pi/2}", "i"),
    ("e^{3\\pi i/2}", "-i"),
    ("e^{2\\pi i}", "1"),
    ("e^{i\\frac{\\pi}{3}}", "\\frac{1}{2}+\\frac{\\sqrt{3}}{2}i"),
    ("\\exp(i\\pi)", "-1"),
    ("2e^{i\\pi/2}", "2i"),
    ("e^{i}", "\\left(\\cos\\left(1\\right)+i\\sin\\left(1\\right)\\right)"),
    ("e^{2}", "e^{2}"),  # not imaginary: unchanged
    ("e^{x+i}", "e^{x+i}"),  # a sum: unchanged
    ("e^{\\frac{1}{i}}", "e^{\\frac{1}{i}}"),  # i in a denominator: unchanged
    ("\\sece^{i\\pi}", "\\sece^{i\\pi}"),  # the end of a command, not e
])
def test_euler_to_trig(text, expected):
    assert euler_to_trig(text) == expected


def test_imaginary_angle_is_conservative():
    assert imaginary_angle("i\\pi") == "\\pi"
    assert imaginary_angle("-\\frac{\\pi i}{3}").replace(" ", "") == "-\\frac{\\pi}{3}"
    for exponent in ("i + 1", "i i", "\\pi", "x/i", "i, 2"):
        assert imaginary_angle(exponent) is None, exponent


@pytest.mark.parametrize("text,expected", [
    ("\\{1, 2, 2\\}", "\\{1, 2\\}"),
    ("\\{1, -1, 1\\}", "\\{1, -1\\}"),
    ("\\left\\{ a, b, a \\right\\}", "\\{a, b\\}"),
    ("\\{1, 2\\}", "\\{1, 2\\}"),
    ("\\{x \\mid x > 2\\}", "\\{x \\mid x > 2\\}"),  # set-builder: as written
    ("(1, 1)", "(1, 1)"),  # a tuple keeps its repeats
])
def test_dedupe_set(text, expected):
    assert dedupe_set(text) == expected


def test_same_vote_for_every_written_form():
    assert answer_key("½") == answer_key("1/2") == answer_key("\\frac{1}{2}")
    assert answer_key("e^{i\\pi}") == answer_key("-1")
    assert answer_key("１２") == answer_key("12")


def test_normalisation_is_linear():
    started = time.process_time()
    for text in ("½" * 50_000, "e^{i\\pi}" * 20_000, "\\{" + "1, " * 50_000 + "1\\}", "√" * 50_000, "²" * 50_000,
                 "e^{" * 30_000 + "i" + "}" * 30_000):
        normalize_forms(text)
    assert time.process_time() - started < 3.0


#: (reference, boxed prediction, verdict): each "correct" row was "incorrect" before issue #17.
ROUTE_CASES = [
    ("\\frac{1}{2}", "½", "correct"),
    ("1/2", "½", "correct"),
    ("\\frac{3}{2}", "1½", "correct"),
    ("\\frac{1}{4}", "¼", "correct"),
    ("\\{1, 2\\}", "\\{1, 2, 2\\}", "correct"),
    ("\\{-1, 1\\}", "\\{1, -1, 1\\}", "correct"),
    ("-1", "e^{i\\pi}", "correct"),
    ("-1", "e^{\\pi i}", "correct"),
    ("-1", "\\exp(i\\pi)", "correct"),
    ("i", "e^{i\\pi/2}", "correct"),
    ("2i", "2e^{i\\pi/2}", "correct"),
    ("\\frac{\\sqrt{2}}{2}+\\frac{\\sqrt{2}}{2}i", "e^{i\\pi/4}", "correct"),
    ("\\cos 1 + i \\sin 1", "e^{i}", "correct"),
    ("\\sqrt{2}", "√2", "correct"),
    ("x^2", "x²", "correct"),
    # negative controls: a form made one is still compared
    ("\\frac{1}{3}", "½", "incorrect"),
    ("\\{1, 2, 3\\}", "\\{1, 2, 2\\}", "incorrect"),
    ("1", "e^{i\\pi}", "incorrect"),
    ("-i", "e^{i\\pi/2}", "incorrect"),
]


@pytest.mark.parametrize("gold,pred,verdict", ROUTE_CASES)
def test_written_forms_are_judged_by_value(verifier, gold, pred, verdict):
    fields = verify_rollout_fields(make_rollout(reference_answer=gold, answer=f"So \\boxed{{{pred}}}."), verifier)
    assert fields["verdict"] == verdict, fields
