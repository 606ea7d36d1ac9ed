"""The problem rules: each fires on what it names and lets ordinary problems through,
and on the real sets (as the presets load them) they reject few problems."""
import json
import os

import pytest

from transforms.text.problems import REASONS, screen

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "shared", "data")


@pytest.mark.parametrize("prompt, answer, choices, reason", [
    ("In the figure below, ABCD is a square of side 2. Find its area.", "4", [], "figure"),
    ("As shown in the diagram, the two circles touch. Find the radius.", "3", [], "figure"),
    ("Use Figure 2 to find the slope of the line.", "1/2", [], "figure"),
    ("What is the area? <image>", "6", [], "figure"),
    ("Prove that there are infinitely many primes.", None, [], "proof"),
    ("Show that $n^2 + n$ is even for every integer $n$.", "\\text{proof}", [], "proof"),
    ("A car drives 60 km.\n(a) How long does it take at 30 km/h?\n(b) What is its speed if it takes 3 h?",
     "2", [], "multi_part"),
    ("Let f(x) = x^2. (1) Find f(2). (2) Find f(3).", "4", [], "multi_part"),
    ("Which of the following is a prime number?", "B", [], "mcq_without_options"),
    ("What is the capital of France?", "C", [], "mcq_without_options"),
    ("What is 2 + 2?", None, [], "missing_answer"),
    ("What is 2 + 2?", "  ", [], "missing_answer"),
    ("Compute x.", "\\frac{1}{2", [], "unparseable_answer"),
    ("Compute x.", "$3", [], "unparseable_answer"),
    ("Compute x.", "see solution", [], "unparseable_answer"),
    ("Compute x.", "\\boxed{}", [], "unparseable_answer"),
    ("Compute x.", "1" * 500, [], "unparseable_answer"),
    ("What is 12 times 12? The answer is 144.", "144", [], "answer_leaked"),
    ("Find $x$ if $2x = 7$. (Hint: \\boxed{3.5})", "3.5", [], "answer_leaked"),
    ("Show that the sum of the angles of a triangle, in degrees, is 180.", "180", [], "answer_leaked"),
])
def test_each_rule_fires_on_what_it_names(prompt, answer, choices, reason):
    found = screen(prompt, answer, choices)
    assert found is not None and found[0] == reason, found
    assert screen(prompt, answer, choices, enabled=[r for r in REASONS if r != reason]) is None or reason in (
        "proof", "mcq_without_options")  # a proof without an answer is also a missing answer


@pytest.mark.parametrize("prompt, answer, choices", [
    ("What is 12 times 12?", "144", []),
    ("Which of the following is prime?", "B", ["4", "5", "6"]),
    ("Which of the following is prime? (A) 4 (B) 5 (C) 6", "B", []),
    ("Points A, B and C lie on a line. Which point is in the middle?", "B", []),
    ("Find the area of the triangle drawn below.\n[asy]draw((0,0)--(1,0)--(0,1)--cycle);[/asy]", "\\frac12", []),
    ("Let S be a set such that:\n(i) 1 is in S;\n(ii) n in S implies 2n in S.\nFind the least element.", "1", []),
    ("An investment of $\\$24,\\!000$ grows by $1\\%$. What is it worth?", "\\$24,\\!240", []),
    ("By equation (1) and equation (2), find x.", "3", []),
])
def test_ordinary_problems_pass(prompt, answer, choices):
    assert screen(prompt, answer, choices) is None


def test_knowledge_and_code_prompts_need_no_answer():
    assert screen("Write a haiku about the sea.", None, [], needs_answer=False) is None


def _rejected_share(path, question, answer):
    with open(path, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    return sum(screen(r[question], str(r[answer]), []) is not None for r in rows) / len(rows)


def test_the_real_sets_are_not_rejected_wholesale():
    assert _rejected_share(os.path.join(DATA, "math500", "test.jsonl"), "problem", "answer") < 0.02
    assert _rejected_share(os.path.join(DATA, "qwen_math_eval", "olympiadbench", "test.jsonl"),
                           "question", "final_answer") < 0.02
    assert _rejected_share(os.path.join(DATA, "qwen_math_eval", "aime24", "test.jsonl"), "problem", "answer") < 0.05
