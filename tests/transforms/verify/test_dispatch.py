"""Routing one rollout: the reference as a bare answer, the route per rollout, and
the labelled real-style cases (precision and recall of ``correct``)."""
import collections
import json
import os

import pytest

from tests.factories import NoMathVerifier, make_rollout
from transforms.verify.config import VerifyConfig
from transforms.verify.dispatch import normalize_gold, verify_rollout_fields
from transforms.verify.rows import rollout_from_row

TESTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize(
    "reference,expected",
    [
        ("18", "18"),
        ("Janet sells 9 eggs.\n#### 1,234", "1,234"),
        ("so the area is $\\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}"),
        ("$-1-\\sqrt{3}$", "-1-\\sqrt{3}"),
        ("\\text{(B)}", "B"),
        ("(1,2)", "(1,2)"),
        (str(["$\\frac{1}{2 n+2}$"]), "\\frac{1}{2 n+2}"),  # OlympiadBench's final_answer
        (json.dumps(["$2$", "$3$"]), "2, 3"),
        ("[1, 2]", "[1, 2]"),
        ("[1,2)", "[1,2)"),
        ("$\\{x|-2\\leq x < 1\\}$", "\\{x|-2\\leq x < 1\\}"),
    ],
)
def test_normalize_gold(reference, expected):
    assert normalize_gold(reference) == expected


@pytest.mark.parametrize(
    "overrides,expected",
    [
        (
            dict(answer="23 + 15 = 38. The answer is \\boxed{38}."),
            ("38", "correct", "exact", "exact_string_match"),
        ),
        (
            dict(reference_answer="#### 1,234", completion="So 1234 in all.\n#### 1234"),
            ("1234", "correct", "exact", "numeric_equal"),
        ),
        (dict(answer="The answer is 37."), ("37", "incorrect", "exact", "numeric_mismatch")),
        (dict(answer="I don't know."), (None, "no_answer", "math-verify", "no_answer_found")),
        (
            dict(reference_answer=None, answer="The answer is 7."),
            ("7", "unverifiable", "none", "no_reference_answer"),
        ),
        (
            dict(reference_answer="C", choices=["1", "2", "3", "4"], answer="Answer: (C)"),
            ("C", "correct", "exact", "choice_match"),
        ),
        (
            dict(reference_answer="2", choices=["a", "b", "c", "d"], answer="The answer is B."),
            ("B", "incorrect", "exact", "choice_mismatch"),
        ),
        (
            dict(reference_answer="$\\{x|-2\\leq x < 1\\}$", answer="So $x \\in \\boxed{[-2, 1)}$."),
            ("[-2, 1)", "correct", "exact", "same_interval"),
        ),
        (
            dict(reference_answer="\\text{Evelyn}", answer="\\boxed{\\text{Evelyn}}"),
            ("Evelyn", "correct", "exact", "exact_string_match"),
        ),
        (
            dict(domain="knowledge", reference_answer="Paris", prompt="Capital of France?",
                 completion="<think>It is Paris.</think>\nParis."),
            ("Paris", "correct", "knowledge-rules", "normalized_match"),
        ),
        (
            dict(domain="knowledge", reference_answer="Paris", completion="The answer is Lyon."),
            ("Lyon", "incorrect", "knowledge-rules", "no_match (best token_f1=0.00)"),
        ),
        (
            dict(domain="knowledge", reference_answer="George Washington", completion="Washington"),
            ("Washington", "unverifiable", "knowledge-rules", "needs_judge: the rules can't decide"),
        ),
        (
            dict(domain="code", reference_answer=None, tests='{"inputs": ["1"], "outputs": ["1"]}',
                 completion="print(input())"),
            (None, "no_answer", "sandbox", "no_code_block"),
        ),
        (
            dict(domain="code", reference_answer=None, tests=None, completion="```python\nprint(1)\n```"),
            ("print(1)\n", "unverifiable", "sandbox", "no_tests"),
        ),
        (
            dict(domain="code", tests='{"inputs": ["1"], "outputs": ["1"]}', completion="```python\nprint(1)\n```"),
            ("print(1)\n", "infra_unavailable", "sandbox", "no sandbox configured"),
        ),
    ],
)
def test_verify_rollout_fields_routes(overrides, expected):
    fields = verify_rollout_fields(make_rollout(**overrides), NoMathVerifier())
    got = (fields["extracted_answer"], fields["verdict"], fields["verifier"], fields["verdict_reason"])
    assert got == expected


def test_answer_field_preferred_over_completion():
    rollout = make_rollout(completion="<think>maybe 12</think> \\boxed{38}", answer="\\boxed{37}")
    assert verify_rollout_fields(rollout, NoMathVerifier())["extracted_answer"] == "37"


def test_last_number_fallback_config_is_honoured():
    rollout = make_rollout(answer="So she has 38 apples in total")
    on = verify_rollout_fields(rollout, NoMathVerifier(), VerifyConfig(last_number_fallback=True))
    off = verify_rollout_fields(rollout, NoMathVerifier(), VerifyConfig(last_number_fallback=False))
    assert (on["verdict"], off["verdict"]) == ("correct", "no_answer")


# -- the labelled table -------------------------------------------------------

CASES = os.path.join(TESTS, "data", "verify_cases.jsonl")


def test_labelled_cases_precision_and_recall(verifier, record_property):
    """Precision and recall of ``correct`` on the labelled real-style cases (built
    by tests/data/make_verify_cases.py); run with -s to see the figures."""
    with open(CASES, encoding="utf-8") as fh:
        cases = [json.loads(line) for line in fh]
    assert len(cases) >= 300
    confusion = collections.Counter()
    misses = []
    for case in cases:
        fields = verify_rollout_fields(rollout_from_row(case), verifier, VerifyConfig())
        confusion[(case["label"], fields["verdict"])] += 1
        if (case["label"] == "correct") != (fields["verdict"] == "correct"):
            misses.append((case["id"], case["label"], fields["verdict"], fields["extracted_answer"]))
    true_pos = confusion[("correct", "correct")]
    predicted = sum(n for (_, verdict), n in confusion.items() if verdict == "correct")
    actual = sum(n for (label, _), n in confusion.items() if label == "correct")
    precision, recall = true_pos / predicted, true_pos / actual
    no_answer = confusion[("no_answer", "no_answer")] / sum(n for (label, _), n in confusion.items()
                                                             if label == "no_answer")
    print(f"\nlabelled cases: {len(cases)}; correct: precision {precision:.4f}, recall {recall:.4f}; "
          f"no_answer recall {no_answer:.4f}; confusion {dict(confusion)}")
    record_property("precision", precision)
    record_property("recall", recall)
    assert precision >= 0.99 and recall >= 0.99, misses[:20]
    assert no_answer >= 0.95
