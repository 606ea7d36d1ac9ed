"""Verification: the cheap paths (exact, text, intervals, knowledge), math-verify in
its child process (timeouts, restarts, back-off, pathological answers, no eval of
model text), routing per rollout, majority vote, pass rates and the band, and the
VerifyAnswers stage under every DirectRunner mode."""
import collections
import json
import os
import signal
import subprocess
import sys
import time

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing import test_pipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.records import Rollout, VerifiedRollout, project
from transforms.verify.judge import JudgeConfig
from transforms.verify.mathcheck import Comparer
from transforms.verify.matching import (
    answer_key,
    as_text_answer,
    gold_aliases,
    knowledge_verdict,
    token_f1,
)
from transforms.verify.sandbox.runner import Sandbox, SandboxConfig
from transforms.verify.transform import (
    MathVerifierProcess,
    VerifierUnavailable,
    Verifiers,
    VerifyAnswers,
    VerifyConfig,
    assign_pass_rates,
    band_rejection,
    choice_letter,
    exact_verdict,
    finish_problem,
    inequality_to_interval,
    majority_vote,
    normalize_gold,
    parse_plain_number,
    rollout_from_row,
    verify_batch,
    verify_rollout_fields,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")

#: A prediction whose comparison with "2" makes sympy compute for minutes.
POWER_TOWER = "9^{9^{9^{9}}}"


def make_rollout(**overrides) -> Rollout:
    values = {name: None for name in Rollout._fields}
    values.update(
        problem_id="p1", source="test", source_id="1", domain="math", kind="reasoning",
        prompt="What is 23 + 15?", reference_answer="38", choices=[], rollout_id="r1", sample_index=0,
        sample_seed=7, teacher_model="fake", backend="fake", temperature=0.7, top_p=0.95, max_tokens=256,
        completion="", reasoning="", answer="", finish_reason="stop", prompt_tokens=10,
        completion_tokens=20, latency_s=0.1, seed=1234, config_hash="cfg", schema_version="1.0",
    )
    values.update(overrides)
    return Rollout(**values)


def make_verified(rollout=None, **fields) -> VerifiedRollout:
    values = dict(extracted_answer=None, verdict="unverifiable", verifier="none", verifier_version="",
                  verdict_reason="no_reference_answer", pass_rate=0.0)
    values.update(fields)
    return project(VerifiedRollout, rollout or make_rollout(), **values)


@pytest.fixture(scope="module")
def verifier():
    with MathVerifierProcess() as process:
        process.start()
        yield process


# -- the cheap exact path ------------------------------------------------------


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
        ("y=-2x+5", "y=-2x+6", None),
        ("\\frac{\\pi}{2}", "\\pi/2", None),
        ("Monday", "monday", ("correct", "text_match")),
        ("\\text{Evelyn}", "Evelyn", ("correct", "text_match")),
        ("\\text{odd}", "even", ("incorrect", "text_mismatch")),
        ("Monday", "dynamo", ("incorrect", "text_mismatch")),  # the same letters: not the same word
        ("\\text{east}", "3", None),
    ],
)
def test_exact_verdict(gold, pred, expected):
    assert exact_verdict(gold, pred) == expected


@pytest.mark.parametrize(
    "answer,expected",
    [
        ("Monday", "monday"), ("\\text{Evelyn}", "evelyn"), ("\\text{ even }", "even"), ("the north pole", "the north pole"),
        ("x", None), ("\\sin x", None), ("3 apples", None), ("\\text{(C)}", None), ("ab", None), ("x + y", None),
    ],
)
def test_as_text_answer(answer, expected):
    assert as_text_answer(answer) == expected


@pytest.mark.parametrize("gold,pred,expected", [
    ("2", "1" * 1001, "answer_too_long: 1001 chars"),
    ("1" * 800, "1" * 1500, None),  # a long reference allows a long answer
    ("2", "(" * 31 + ")" * 31, "answer_too_deep: 31 levels"),
    ("\\frac{\\frac{\\frac{1}{2}}{3}}{4}", "\\frac{\\frac{\\frac{1}{2}}{3}}{4}", None),
])
def test_oversized(gold, pred, expected):
    from transforms.verify.matching import oversized

    assert oversized(gold, pred) == expected


@pytest.mark.parametrize("answer,items", [
    ("1, 2", ["1", "2"]), ("(1,2), (3,4)", ["(1,2)", "(3,4)"]), ("1,234", ["1,234"]),
    ("\\{1, 2\\}", ["\\{1, 2\\}"]), ("x", ["x"]),
])
def test_top_level_items(answer, items):
    from transforms.verify.matching import top_level_items

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
    "answer,allow_index,expected",
    [
        ("B", False, "B"),
        ("(c)", False, "C"),
        ("increase the mortality rate", False, "D"),
        ("2", True, "C"),
        ("2", False, None),
        ("E", False, None),
    ],
)
def test_choice_letter(answer, allow_index, expected):
    choices = ["keep it", "zero control", "reduce K", "increase the mortality rate"]
    assert choice_letter(answer, choices, allow_index=allow_index) == expected


# -- knowledge rules -------------------------------------------------------------

KNOWLEDGE = dict(rel_tol=1e-4, f1_correct=0.8, f1_incorrect=0.0, max_gold_words=10)


@pytest.mark.parametrize(
    "gold,pred,expected",
    [
        ("Paris", "paris", ("correct", "normalized_match")),
        ("The Beatles", "Beatles!", ("correct", "normalized_match")),
        ("Gabriel García Márquez", "gabriel garcia marquez", ("correct", "normalized_match")),
        ('["Everest", "Mount Everest"]', "Mount Everest", ("correct", "normalized_match")),
        ("299792458", "299,792,458", ("correct", "numeric_within_tolerance (rel 0.0001)")),
        ("35", "3.5", ("incorrect", "no_match (best token_f1=0.00)")),
        ("9.81", "9.8100001", ("correct", "numeric_within_tolerance (rel 0.0001)")),
        ("1945", "1944", ("incorrect", "no_match (best token_f1=0.00)")),
        ("George Washington", "President George Washington", ("correct", "token_f1=0.80")),
        ("Paris", "Lyon", ("incorrect", "no_match (best token_f1=0.00)")),
        ("George Washington", "Washington", None),  # partial: the judge decides
        ("the process by which plants turn light, water and carbon dioxide into sugar and oxygen",
         "respiration", None),  # a long reference is never ruled incorrect by F1
    ],
)
def test_knowledge_verdict(gold, pred, expected):
    assert knowledge_verdict(gold, pred, **KNOWLEDGE) == expected


@pytest.mark.parametrize("pred,gold,f1", [("x b c", "b c d", 2 / 3), ("", "x", 0.0), ("The cat", "cat", 1.0)])
def test_token_f1(pred, gold, f1):
    assert token_f1(pred, gold) == pytest.approx(f1)


def test_gold_aliases():
    assert gold_aliases("['a', 'b']") == ["a", "b"]
    assert gold_aliases("[1, 2]") == ["[1, 2]"]
    assert gold_aliases("Paris") == ["Paris"]


@pytest.mark.parametrize("a,b,same", [
    ("0.5", "\\frac{1}{2}", True), ("1,000", "1000", True), ("Monday", "\\text{monday}", True),
    ("x+1", "x + 1", True), ("2", "3", False), ("\\sqrt{2}", "\\sqrt{3}", False),
])
def test_answer_key(a, b, same):
    assert (answer_key(a) == answer_key(b)) is same


# -- math-verify in the child process -----------------------------------------

EQUIVALENT = [
    ("\\frac{\\sqrt2}{2}", "\\sqrt{2}/2"),
    ("\\frac{1}{2}", "0.5"),
    ("(1,2]", "(1, 2]"),
    ("[1,2)", "x \\in [1,2)"),
    ("\\{1,2\\}", "\\{2,1\\}"),
    ("5", "x=5"),
    ("-1-\\sqrt{3}", "-\\sqrt3-1"),
    ("10^{10}", "10000000000"),
    ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\pi/2)"),
    ("\\frac{1}{3}", "0.333333"),
    ("[-2, 1)", "[-2,1)"),
]
NOT_EQUIVALENT = [
    ("(1,2)", "(2,1)"),
    ("[1,2)", "(1,2)"),
    ("\\frac{\\sqrt2}{2}", "\\sqrt{3}/2"),
    ("x^2", "x^3"),
    ("\\{1,2\\}", "\\{1,3\\}"),
]


@pytest.mark.parametrize("gold,pred", EQUIVALENT)
def test_math_verify_equivalent(verifier, gold, pred):
    assert verifier.verify(gold, pred, timeout_s=10) == ("correct", "math_verify_equal")


@pytest.mark.parametrize("gold,pred", NOT_EQUIVALENT)
def test_math_verify_not_equivalent(verifier, gold, pred):
    assert verifier.verify(gold, pred, timeout_s=10)[0] == "incorrect"


def test_timeout_is_its_own_verdict_and_the_child_restarts(verifier):
    verifier.start()
    first_pid, starts = verifier.pid, verifier.starts
    started = time.monotonic()
    verdict, reason = verifier.verify("2", POWER_TOWER, timeout_s=1.0)
    elapsed = time.monotonic() - started
    assert verdict == "timeout", reason
    assert elapsed < 1.0 + 1.0
    assert not os.path.exists(f"/proc/{first_pid}")  # killed and reaped
    assert verifier.verify("\\frac{\\sqrt2}{4}", "\\sqrt{2}/4", timeout_s=10) == ("correct", "math_verify_equal")
    assert verifier.starts == starts + 1 and verifier.pid != first_pid


def test_busy_child_ends_itself_when_nobody_kills_it():
    """The CPU limit bounds a request even if the parent died before killing the child."""
    with MathVerifierProcess() as process:
        process.start()
        child = process._process
        child.stdin.write((json.dumps(["2", POWER_TOWER, 0.5]) + "\n").encode())  # as verify() would
        child.stdin.flush()  # ... and then never read the reply
        assert child.wait(20) == -signal.SIGXCPU


def test_close_leaves_no_process_behind():
    process = MathVerifierProcess()
    process.start()
    pid = process.pid
    assert os.path.exists(f"/proc/{pid}")
    process.close()
    assert process.pid is None
    assert not os.path.exists(f"/proc/{pid}")


def test_start_failure_is_unavailable_and_backs_off():
    process = MathVerifierProcess(memory_limit_mb=1)  # the child can't even import
    with pytest.raises(VerifierUnavailable):
        process.start()
    assert process.pid is None and process.starts == 1
    started = time.monotonic()
    with pytest.raises(VerifierUnavailable, match="next try in"):
        process.verify("1", "x", timeout_s=5)  # within the back-off: no new child
    assert process.starts == 1 and time.monotonic() - started < 0.5


def test_child_imports_no_beam():
    code = ("import sys, transforms.verify.mathcheck as m; m.Comparer().compare('1', '1'); "
            "print(sorted(k for k in sys.modules if k.split('.')[0] in ('apache_beam', 'schemas', 'pyarrow')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.stdout.strip() == "[]"


def test_comparer_never_calls_parse_expr(monkeypatch):
    import latex2sympy2_extended.latex2sympy2 as l2s
    import math_verify.parser as mv_parser
    import sympy

    def forbidden(*args, **kwargs):
        raise AssertionError("parse_expr/sympify called on model text")

    monkeypatch.setattr(mv_parser, "parse_expr", forbidden)
    monkeypatch.setattr(l2s, "parse_expr", forbidden)
    monkeypatch.setattr(sympy, "sympify", forbidden)
    mv_parser.parse_expr_cached.cache_clear()
    comparer = Comparer()
    assert comparer.compare("3", "1+2") == ("correct", "math_verify_equal")
    assert comparer.compare("2", "x**2 + 1")[0] == "incorrect"
    assert comparer.compare("2", "__import__('os').getcwd()")[0] == "incorrect"


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
    from transforms.verify.matching import oversized

    started = time.monotonic()
    for answer in PATHOLOGICAL.values():
        for gold in ("2", "(1, 2)", "\\sqrt{2}", "x < 3", "Paris"):
            exact_verdict(gold, answer)
            oversized(gold, answer)
        inequality_to_interval(answer)
        answer_key(answer)
        normalize_gold(answer)
        knowledge_verdict("2", answer, **KNOWLEDGE)
    assert time.monotonic() - started < 5.0


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


# -- the labelled table -------------------------------------------------------

CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "verify_cases.jsonl")


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


# -- routing one rollout -------------------------------------------------------


class _NoVerifier:
    """Stands in for the child process where the cheap paths must decide."""

    version = "math-verify==test"

    def verify(self, gold, pred, timeout_s):
        raise AssertionError("math-verify should not be needed")


class _DownVerifier(_NoVerifier):
    def verify(self, gold, pred, timeout_s):
        raise VerifierUnavailable("child not ready")


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
    fields = verify_rollout_fields(make_rollout(**overrides), _NoVerifier())
    got = (fields["extracted_answer"], fields["verdict"], fields["verifier"], fields["verdict_reason"])
    assert got == expected


def test_answer_field_preferred_over_completion():
    rollout = make_rollout(completion="<think>maybe 12</think> \\boxed{38}", answer="\\boxed{37}")
    assert verify_rollout_fields(rollout, _NoVerifier())["extracted_answer"] == "37"


def test_last_number_fallback_config_is_honoured():
    rollout = make_rollout(answer="So she has 38 apples in total")
    on = verify_rollout_fields(rollout, _NoVerifier(), VerifyConfig(last_number_fallback=True))
    off = verify_rollout_fields(rollout, _NoVerifier(), VerifyConfig(last_number_fallback=False))
    assert (on["verdict"], off["verdict"]) == ("correct", "no_answer")


def test_unavailable_verifier_gives_infra_unavailable():
    rollout = make_rollout(reference_answer="\\frac{\\pi}{2}", answer="\\boxed{\\pi/2}")
    fields = verify_rollout_fields(rollout, _DownVerifier())
    assert fields["verdict"] == "infra_unavailable"


def test_math_verify_route_records_version(verifier):
    rollout = make_rollout(reference_answer="\\frac{\\pi}{2}", answer="\\boxed{\\pi/2}")
    fields = verify_rollout_fields(rollout, verifier)
    assert (fields["verdict"], fields["verifier"]) == ("correct", "math-verify")
    assert fields["verifier_version"].startswith("math-verify==0.9")


@pytest.mark.parametrize(
    "answer,fallback,expected",
    [
        ("\\boxed{(25 - 5) * 4}", True, ("(25 - 5) * 4", "correct")),
        ("Final answer: (25 - 5) \\times 4 = 80", True, ("(25 - 5) \\times 4 = 80", "correct")),
        ("Trying things, (25 - 5) * 4 = 80 works.", True, ("(25 - 5) * 4 = 80", "correct")),
        ("Trying things, (25 - 5) * 4 = 80 works.", False, (None, "no_answer")),
        ("The answer is 25 * 4 - 5 = 95", True, ("25 * 4 - 5 = 95", "incorrect")),
        ("The answer is 25 * 4 - 5 * 4", True, ("25 * 4 - 5 * 4", "incorrect")),  # 4 used twice
        ("I give up.", True, (None, "no_answer")),
    ],
)
def test_countdown_route(answer, fallback, expected):
    meta = json.dumps({"verifier": "countdown", "numbers": [25, 5, 4], "target": 80})
    rollout = make_rollout(reference_answer="80", metadata=meta, answer=answer)
    fields = verify_rollout_fields(rollout, _NoVerifier(), VerifyConfig(last_number_fallback=fallback))
    assert (fields["extracted_answer"], fields["verdict"]) == expected
    assert fields["verifier"] == "countdown"


# -- the judge, wired through verify_batch ------------------------------------------


class _ScriptedJudgeBackend:
    """A sampler backend whose 'model' answers from a table keyed by the response."""

    name = "scripted"

    def __init__(self, answers):
        self.answers = answers
        self.requests = []

    def load(self):
        pass

    def render(self, messages):
        return "\n".join(m["content"] for m in messages)

    def generate(self, requests):
        from transforms.models.backends.base import GenerationResult, Sample

        self.requests.extend(requests)
        out = []
        for request in requests:
            response = request.prompt.split("Response:\n", 1)[1].split("\n\n", 1)[0]
            out.append(GenerationResult([Sample(self.answers[response], "stop", 5)], 10, 0.0))
        return out


def test_judge_decides_what_the_rules_cannot():
    backend = _ScriptedJudgeBackend({
        "Washington": '{"rationale": "Same person, surname only.", "verdict": "correct"}',
        "George Bush": 'Thinking... {"verdict": "incorrect", "rationale": "A different president."}',
        "Abe Lincoln's successor, George": "I cannot decide.",
    })
    config = VerifyConfig(judge=JudgeConfig(enabled=True, backend="fake", batch_size=2))
    verifiers = Verifiers(config, judge_backend=backend)
    rollouts = [make_rollout(domain="knowledge", reference_answer="George Washington", completion=c,
                             prompt="Who was the first US president?")
                for c in ("Washington", "George Bush", "Abe Lincoln's successor, George", "George Washington")]
    outcomes = verify_batch(rollouts, verifiers, config)
    got = [(o.fields["verdict"], o.fields["verifier"], o.fields["verdict_reason"]) for o in outcomes]
    assert got == [
        ("correct", "llm-judge", "judge: Same person, surname only."),
        ("incorrect", "llm-judge", "judge: A different president."),
        ("unverifiable", "llm-judge", "judge_unparseable"),
        ("correct", "knowledge-rules", "normalized_match"),  # decided by the rules: no judge call
    ]
    assert len(backend.requests) == 3  # one call per undecided rollout, batched by 2
    assert "George Washington" in backend.requests[0].prompt  # the reference reaches the judge


def test_judge_is_not_asked_outside_its_domains_or_when_off():
    backend = _ScriptedJudgeBackend({})
    rollout = make_rollout(domain="knowledge", reference_answer="George Washington", completion="Washington")
    for config in (VerifyConfig(), VerifyConfig(judge=JudgeConfig(enabled=True, domains=("math",)))):
        outcome = verify_batch([rollout], Verifiers(config, judge_backend=backend), config)[0]
        assert outcome.fields["verdict"] == "unverifiable"
    assert backend.requests == []


def test_broken_record_is_an_error_outcome_not_a_crash():
    config = VerifyConfig()
    outcomes = verify_batch([make_rollout(metadata="{not json", answer="\\boxed{38}"),
                             make_rollout(answer="\\boxed{38}")], Verifiers(config), config)
    assert outcomes[0].fields is None and "JSONDecodeError" in outcomes[0].error
    assert outcomes[1].fields["verdict"] == "correct"


# -- majority vote, pass rate, band --------------------------------------------------


def _no_gold(answers, **config):
    config = VerifyConfig(majority_vote=True, **config)
    records = [make_verified(make_rollout(rollout_id=f"r{i}", sample_index=i, reference_answer=None),
                             extracted_answer=a) for i, a in enumerate(answers)]
    return majority_vote(records, config)


def test_majority_vote_gives_a_pseudo_label():
    out = _no_gold(["0.5", "\\frac{1}{2}", "3", None])
    assert [r.verdict for r in out] == ["correct", "correct", "incorrect", "no_answer"]
    assert {r.verifier for r in out} == {"majority-vote"}
    assert out[0].verdict_reason == "pseudo_label: 2/4 samples agree on '0.5'"


@pytest.mark.parametrize("answers,config", [
    (["1", "2", "3", "4"], {}),  # no answer reaches half
    (["1", "1", "2", "2"], {}),  # a tie
    (["1", "1"], {}),  # too few samples
    (["1", "1", "1", "2"], {"majority_min_share": 0.8}),
])
def test_no_majority_stays_unverifiable(answers, config):
    out = _no_gold(answers, **config)
    assert {r.verdict for r in out} == {"unverifiable"}
    assert out[0].verdict_reason.startswith("no_majority")


def test_majority_vote_needs_every_sample_without_reference_and_the_switch():
    records = [make_verified(make_rollout(rollout_id=f"r{i}", sample_index=i), extracted_answer="1")
               for i in range(3)]
    assert majority_vote(records, VerifyConfig()) is None  # off by default
    mixed = records[:2] + [make_verified(extracted_answer="1", verdict="correct", verdict_reason="numeric_equal")]
    assert majority_vote(mixed, VerifyConfig(majority_vote=True)) is None


def test_assign_pass_rates():
    verified = [
        make_verified(make_rollout(rollout_id=f"r{i}", sample_index=i), extracted_answer="1", verdict=v,
                      verifier="exact", verdict_reason="")
        for i, v in enumerate(["correct", "incorrect", "timeout", "correct"])
    ]
    rates = {r.rollout_id: r.pass_rate for r in assign_pass_rates(("p1", verified))}
    assert rates == {"r0": 0.5, "r1": 0.5, "r2": 0.5, "r3": 0.5}


@pytest.mark.parametrize("verdicts,band,expected", [
    (["correct"] * 4, (0.0, 0.99), "pass_rate_too_high"),
    (["incorrect"] * 4, (0.01, 1.0), "pass_rate_too_low"),
    (["correct", "incorrect"], (0.01, 0.99), None),
    (["unverifiable"] * 4, (0.01, 0.99), None),  # nothing decided: the rate says nothing
])
def test_pass_rate_band(verdicts, band, expected):
    config = VerifyConfig(min_pass_rate=band[0], max_pass_rate=band[1])
    records = [make_verified(verdict=v, verdict_reason="x") for v in verdicts]
    records, rejection = finish_problem(records, config)
    assert (rejection[0] if rejection else None) == expected
    assert band_rejection(records[0].pass_rate, records, config) == rejection


# -- the Beam stage ------------------------------------------------------------

CODE_TESTS = json.dumps({"inputs": ["2 3\n", "10 -4\n"], "outputs": ["5\n", "6\n"]})
GOOD_CODE = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"
BAD_CODE = "```python\na, b = map(int, input().split())\nprint(a * b)\n```"


def _stage_inputs():
    no_gold = dict(reference_answer=None, prompt="Pick a number")
    return [
        make_rollout(rollout_id="a1", sample_index=0, answer="The answer is \\boxed{38}."),
        make_rollout(rollout_id="a2", sample_index=1, answer="23 + 15 = 37"),
        make_rollout(rollout_id="a3", sample_index=2, answer="\\boxed{38.0}"),
        make_rollout(rollout_id="a4", sample_index=3, answer="Hmm."),
        make_rollout(problem_id="p2", rollout_id="b1", reference_answer="\\frac{\\pi}{2}",
                     answer="<think>x</think> \\boxed{\\pi/2}"),
        make_rollout(problem_id="p3", rollout_id="c1", reference_answer=None, answer="\\boxed{4}"),
        make_rollout(problem_id="p4", rollout_id="d1", metadata="{not json", answer="\\boxed{4}"),
        make_rollout(problem_id="p5", rollout_id="e1", sample_index=0, answer="\\boxed{7}", **no_gold),
        make_rollout(problem_id="p5", rollout_id="e2", sample_index=1, answer="\\boxed{7.0}", **no_gold),
        make_rollout(problem_id="p5", rollout_id="e3", sample_index=2, answer="\\boxed{8}", **no_gold),
        make_rollout(problem_id="p6", rollout_id="f1", domain="knowledge", reference_answer="Paris",
                     answer="Paris"),
        make_rollout(problem_id="p7", rollout_id="g1", sample_index=0, domain="code", reference_answer=None,
                     tests=CODE_TESTS, completion=GOOD_CODE),
        make_rollout(problem_id="p7", rollout_id="g2", sample_index=1, domain="code", reference_answer=None,
                     tests=CODE_TESTS, completion=BAD_CODE),
    ]


def _expected_kept(sandbox_ok: bool):
    code = [("g1", "correct" if sandbox_ok else "infra_unavailable", 0.5 if sandbox_ok else 0.0),
            ("g2", "incorrect" if sandbox_ok else "infra_unavailable", 0.5 if sandbox_ok else 0.0)]
    return [
        ("a1", "correct", 0.5), ("a2", "incorrect", 0.5), ("a3", "correct", 0.5), ("a4", "no_answer", 0.5),
        ("b1", "correct", 1.0), ("c1", "unverifiable", 0.0),
        ("e1", "correct", 2 / 3), ("e2", "correct", 2 / 3), ("e3", "incorrect", 2 / 3),
        ("f1", "correct", 1.0),
    ] + code


STAGE_CONFIG = VerifyConfig(timeout_s=10, majority_vote=True, code=SandboxConfig(timeout_s=10))


def _run_stage(options=None):
    sandbox_ok = Sandbox(SandboxConfig()).unavailable() is None
    with test_pipeline.TestPipeline(options=options) as p:
        out = p | beam.Create(_stage_inputs()) | VerifyAnswers(STAGE_CONFIG)
        kept = out.kept | "Summary" >> beam.Map(lambda r: (r.rollout_id, r.verdict, round(r.pass_rate, 6)))
        expected = [(i, v, round(rate, 6)) for i, v, rate in _expected_kept(sandbox_ok)]
        assert_that(kept, equal_to(expected), label="kept")
        assert_that(
            out.dead | "DeadIds" >> beam.Map(lambda d: (d.record_id, d.stage, d.step)),
            equal_to([("d1", "curate", "verify")]),
            label="dead",
        )
        assert_that(out.rejected, equal_to([]), label="rejected")


def _verifier_children():
    """Live math-verify children of this process (other processes' ones don't count)."""
    found = set()
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/cmdline", "rb") as fh:
                cmdline = fh.read()
            with open(f"/proc/{name}/status") as fh:
                status = fh.read()
        except OSError:
            continue
        if b"transforms.verify.mathcheck" in cmdline and f"\nPPid:\t{os.getpid()}\n" in status \
                and "State:\tZ" not in status:
            found.add(int(name))
    return found


def test_verify_answers_pipeline_in_memory():
    before = _verifier_children()
    _run_stage()
    assert _verifier_children() <= before  # the DoFn's child was closed in teardown


def test_verify_answers_pipeline_multi_threading():
    _run_stage(PipelineOptions(["--runner=DirectRunner", "--direct_running_mode=multi_threading",
                                "--direct_num_workers=2"]))


@pytest.mark.slow
def test_verify_answers_pipeline_multi_processing():
    _run_stage(PipelineOptions(["--runner=DirectRunner", "--direct_running_mode=multi_processing",
                                "--direct_num_workers=2"]))


def test_pass_rate_band_rejects_whole_problems_in_the_stage():
    config = VerifyConfig(max_pass_rate=0.99)
    rollouts = [make_rollout(problem_id="solved", rollout_id=f"s{i}", sample_index=i, answer="\\boxed{38}")
                for i in range(2)] + [make_rollout(problem_id="half", rollout_id="h0", answer="\\boxed{38}"),
                                      make_rollout(problem_id="half", rollout_id="h1", sample_index=1,
                                                   answer="\\boxed{37}")]
    with test_pipeline.TestPipeline() as p:
        out = p | beam.Create(rollouts) | VerifyAnswers(config)
        assert_that(out.kept | beam.Map(lambda r: r.rollout_id), equal_to(["h0", "h1"]), label="kept")
        assert_that(out.rejected | beam.Map(lambda r: (r.record_id, r.step, r.reason)),
                    equal_to([("s0", "verify_pass_rate", "pass_rate_too_high"),
                              ("s1", "verify_pass_rate", "pass_rate_too_high")]), label="rejected")
