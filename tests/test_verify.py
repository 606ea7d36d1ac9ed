"""Verification: the exact path, math-verify in its child process (timeouts,
restarts, no eval of model text), routing per problem and the VerifyAnswers stage."""
import json
import multiprocessing
import os
import signal
import time

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing import test_pipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.records import Rollout, VerifiedRollout, project
from transforms.verify import (
    MathVerifierProcess,
    VerifierUnavailable,
    VerifyAnswers,
    VerifyConfig,
    assign_pass_rates,
    choice_letter,
    exact_verdict,
    math_verify_compare,
    normalize_gold,
    parse_plain_number,
    verify_rollout_fields,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")

#: A prediction whose comparison with "2" makes sympy compute for minutes.
POWER_TOWER = "9^{9^{9^{9}}}"


def make_rollout(**overrides) -> Rollout:
    values = {name: None for name in Rollout._fields}
    values.update(
        problem_id="p1",
        source="test",
        source_id="1",
        domain="math",
        kind="reasoning",
        prompt="What is 23 + 15?",
        reference_answer="38",
        choices=[],
        rollout_id="r1",
        sample_index=0,
        sample_seed=7,
        teacher_model="fake",
        backend="fake",
        temperature=0.7,
        top_p=0.95,
        max_tokens=256,
        completion="",
        reasoning="",
        answer="",
        finish_reason="stop",
        prompt_tokens=10,
        completion_tokens=20,
        latency_s=0.1,
        seed=1234,
        config_hash="cfg",
        schema_version="1.0",
    )
    values.update(overrides)
    return Rollout(**values)


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
        ("\\frac{\\sqrt2}{2}", "\\sqrt{2}/2", None),
        ("(1,2)", "(2,1)", None),
        ("5", "x = 5", None),
    ],
)
def test_exact_verdict(gold, pred, expected):
    assert exact_verdict(gold, pred) == expected


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
]
NOT_EQUIVALENT = [
    ("(1,2)", "(2,1)"),
    ("[1,2)", "(1,2)"),
    ("\\frac{\\sqrt2}{2}", "\\sqrt{3}/2"),
    ("Monday", "Tuesday"),
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
    first_pid, starts = verifier.pid, verifier.starts
    started = time.monotonic()
    verdict, reason = verifier.verify("2", POWER_TOWER, timeout_s=1.0)
    elapsed = time.monotonic() - started
    assert verdict == "timeout", reason
    assert elapsed < 1.0 + 1.0
    assert not os.path.exists(f"/proc/{first_pid}")  # killed and reaped
    assert verifier.verify("\\frac{1}{2}", "0.5", timeout_s=10) == ("correct", "math_verify_equal")
    assert verifier.starts == starts + 1 and verifier.pid != first_pid


def test_busy_child_ends_itself_when_nobody_kills_it():
    """The CPU limit bounds a request even if the parent died before killing the child."""
    with MathVerifierProcess() as process:
        process.start()
        child = process._process
        process._conn.send(("2", POWER_TOWER, 0.5))  # as verify() would, then never poll
        child.join(20)
        assert child.exitcode == -signal.SIGXCPU


def test_close_leaves_no_process_behind():
    process = MathVerifierProcess()
    process.start()
    pid = process.pid
    assert os.path.exists(f"/proc/{pid}")
    process.close()
    assert process.pid is None
    assert not os.path.exists(f"/proc/{pid}")


def test_start_failure_is_reported_as_unavailable():
    process = MathVerifierProcess(memory_limit_mb=1)  # the child can't even import
    with pytest.raises(VerifierUnavailable):
        process.start()
    assert process.pid is None


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


def test_math_verify_compare_never_calls_parse_expr(monkeypatch):
    import latex2sympy2_extended.latex2sympy2 as l2s
    import math_verify.parser as mv_parser

    def forbidden(*args, **kwargs):
        raise AssertionError("parse_expr called on model text")

    monkeypatch.setattr(mv_parser, "parse_expr", forbidden)
    monkeypatch.setattr(l2s, "parse_expr", forbidden)
    mv_parser.parse_expr_cached.cache_clear()
    assert math_verify_compare("3", "1+2") == ("correct", "math_verify_equal")
    assert math_verify_compare("2", "x**2 + 1")[0] == "incorrect"


# -- routing one rollout -------------------------------------------------------


class _NoVerifier:
    """Stands in for the child process where the exact path must decide."""

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
    rollout = make_rollout(reference_answer="\\frac{\\sqrt2}{2}", answer="\\boxed{\\sqrt{2}/2}")
    fields = verify_rollout_fields(rollout, _DownVerifier())
    assert fields["verdict"] == "infra_unavailable"


def test_math_verify_route_records_version(verifier):
    rollout = make_rollout(reference_answer="\\frac{\\sqrt2}{2}", answer="\\boxed{\\sqrt{2}/2}")
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
    generators = pytest.importorskip("transforms.generators")
    if not hasattr(generators, "check_countdown"):
        pytest.skip("transforms.generators.check_countdown not written yet")
    meta = json.dumps({"verifier": "countdown", "numbers": [25, 5, 4], "target": 80})
    rollout = make_rollout(reference_answer="80", metadata=meta, answer=answer)
    fields = verify_rollout_fields(rollout, _NoVerifier(), VerifyConfig(last_number_fallback=fallback))
    assert (fields["extracted_answer"], fields["verdict"]) == expected
    assert fields["verifier"] == "countdown"


def test_assign_pass_rates():
    verified = [
        project(VerifiedRollout, make_rollout(rollout_id=f"r{i}", sample_index=i), extracted_answer="1",
                verdict=v, verifier="exact", verifier_version="", verdict_reason="", pass_rate=0.0)
        for i, v in enumerate(["correct", "incorrect", "timeout", "correct"])
    ]
    rates = {r.rollout_id: r.pass_rate for r in assign_pass_rates(("p1", verified))}
    assert rates == {"r0": 0.5, "r1": 0.5, "r2": 0.5, "r3": 0.5}


# -- the Beam stage ------------------------------------------------------------


def _stage_inputs():
    return [
        make_rollout(rollout_id="a1", sample_index=0, answer="The answer is \\boxed{38}."),
        make_rollout(rollout_id="a2", sample_index=1, answer="23 + 15 = 37"),
        make_rollout(rollout_id="a3", sample_index=2, answer="\\boxed{38.0}"),
        make_rollout(rollout_id="a4", sample_index=3, answer="Hmm."),
        make_rollout(
            problem_id="p2",
            rollout_id="b1",
            reference_answer="\\frac{\\sqrt2}{2}",
            answer="<think>x</think> \\boxed{\\sqrt{2}/2}",
        ),
        make_rollout(problem_id="p3", rollout_id="c1", reference_answer=None, answer="\\boxed{4}"),
        make_rollout(problem_id="p4", rollout_id="d1", metadata="{not json", answer="\\boxed{4}"),
    ]


EXPECTED_KEPT = [
    ("a1", "correct", "38", 0.5),
    ("a2", "incorrect", "37", 0.5),
    ("a3", "correct", "38.0", 0.5),
    ("a4", "no_answer", None, 0.5),
    ("b1", "correct", "\\sqrt{2}/2", 1.0),
    ("c1", "unverifiable", "4", 0.0),
]


def _run_stage(options=None):
    with test_pipeline.TestPipeline(options=options) as p:
        out = p | beam.Create(_stage_inputs()) | VerifyAnswers(VerifyConfig(timeout_s=10))
        kept = out.kept | "Summary" >> beam.Map(
            lambda r: (r.rollout_id, r.verdict, r.extracted_answer, r.pass_rate)
        )
        assert_that(kept, equal_to(EXPECTED_KEPT), label="kept")
        assert_that(
            out.dead | "DeadIds" >> beam.Map(lambda d: (d.record_id, d.stage, d.step)),
            equal_to([("d1", "curate", "verify")]),
            label="dead",
        )
        assert_that(out.rejected, equal_to([]), label="rejected")


def _verifier_children():
    return {c.pid for c in multiprocessing.active_children() if c.name == "math-verify"}


def test_verify_answers_pipeline():
    before = _verifier_children()
    _run_stage()
    assert _verifier_children() <= before  # the DoFn's child was closed in teardown


@pytest.mark.slow
def test_verify_answers_pipeline_multi_processing():
    _run_stage(
        PipelineOptions(
            ["--runner=DirectRunner", "--direct_running_mode=multi_processing", "--direct_num_workers=2"]
        )
    )
