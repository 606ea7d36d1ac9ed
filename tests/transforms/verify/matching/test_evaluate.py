"""Simple LaTeX expressions compared by value, without sympy (transforms/verify/matching/evaluate.py)."""
import pytest

from transforms.verify.matching.evaluate import expression_verdict, read
from transforms.verify.matching.numbers import top_level_items


@pytest.mark.parametrize("gold, pred, expected", [
    ("\\frac43", "\\frac{4}{3}", ("correct", "same_value")),
    ("\\frac 59", "\\dfrac{5}{9}", ("correct", "same_value")),
    ("2 \\sqrt{3}", "\\sqrt{12}", ("correct", "same_value")),
    ("\\frac{\\pi}{2}", "\\pi/2", ("correct", "same_value")),
    ("\\ln2+i\\pi/3", "\\ln 2 + i \\cdot \\frac{\\pi}{3}", ("correct", "same_value")),
    ("\\sqrt{51}", "2", ("incorrect", "different_value")),
    ("\\frac{\\pi}{2}", "0", ("incorrect", "different_value")),
    ("1.87e6", "1.87 \\times 10^{6}", ("correct", "same_value")),  # Minerva's scientific notation
    ("1.4903e4", "1.4890 \\times 10^{4}", ("incorrect", "different_value")),  # both written out: as written
    ("3.89e-10", "3.88e-10", ("incorrect", "different_value")),
    ("\\frac{1}{3}", "0.333", None),  # a rounded decimal near the value: math-verify's call
    ("\\sqrt{2}", "1.41421356", None),
    ("x/2-1/4+ce^{-2x}", "y = \\frac{1}{2}x - \\frac{1}{4} + c e^{-2x}", ("correct", "same_expression")),
    ("\\sin x", "\\sin(x)", ("correct", "same_expression")),
    ("s^{2}+\\omega^{2}", "2", ("incorrect", "different_expression")),
    ("2\\pi/\\omega", "\\frac{\\pi}{\\omega}", ("incorrect", "different_expression")),
    ("y=-2x+5", "y=-2x+6", ("incorrect", "different_expression")),
    ("(3,\\frac{\\pi}{2})", "\\left( 3, \\pi/2 \\right)", ("correct", "same_items")),
    ("(6,31,-1)", "1", ("incorrect", "different_items")),
    ("[1,2)", "(1,2)", None),  # other brackets: math-verify's call
    ("1,2", "2,1", None),  # a bare list in another order may be the same answers
    ("\\begin{pmatrix} -1/3 \\\\ 2/3 \\end{pmatrix}", "\\begin{pmatrix} -\\frac{1}{3} \\\\ \\frac{2}{3} \\end{pmatrix}",
     ("correct", "same_items")),
    ("x \\in [-2,7]", "[-2, 7]", ("correct", "same_written_form")),
    ("4210_{5}", "4210_5", ("correct", "same_written_form")),
    ("864 \\mbox{ inches}^2", "864", ("correct", "same_written_form")),
    ("(-\\infty, \\frac{\\pi}{2})", "(-\\infty, \\pi/2)", None),  # beyond the reader
    ("x_{0}\\cos(\\omegat)", "x_{0} \\cos(\\omega t)", None),  # an unknown command
    ("5x - 7y + 11z + 4 = 0", "0", None),  # an equation, not ``x = …``
    ("3 \\pm 2 \\sqrt{2}", "3 + 2\\sqrt{2}", None),
])
def test_expression_verdict(gold, pred, expected):
    assert expression_verdict(gold, pred, top_level_items) == expected


@pytest.mark.parametrize("text", [
    "__import__('os').system('x')", "9^{9^{9^{9}}}" * 50, "{" * 500 + "1" + "}" * 500, "\\text{east}", "x \\le 3",
])
def test_unreadable_or_oversized_answers_are_none(text):
    assert read(text) is None


def test_huge_powers_are_left_to_math_verify():
    assert expression_verdict("2", "9^{9^{9^{9}}}", top_level_items) is None
