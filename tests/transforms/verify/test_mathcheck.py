"""math-verify in its child process: equivalences, timeouts and restarts, the CPU
bound, clean shutdown, start-up back-off, no Beam in the child, no eval of model text."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from transforms.verify.mathcheck import Comparer, MathVerifierProcess, VerifierUnavailable

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
#: A prediction whose comparison with "2" makes sympy compute for minutes.
POWER_TOWER = "9^{9^{9^{9}}}"


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
                         cwd=ROOT)
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


def test_a_batch_is_one_round_trip_and_timeouts_are_cached():
    """#18: verify_many answers in order, each distinct pair once; a pair past its bound
    is a timeout, the rest of the batch goes to the next child, and the timeout is
    cached: asked again, no child is killed or started. (A verifier of its own: the
    module's has cached the power tower's timeout already.)"""
    with MathVerifierProcess() as verifier:
        _one_round_trip_and_cached_timeouts(verifier)


def _one_round_trip_and_cached_timeouts(verifier):
    verifier.start()
    starts = verifier.starts
    batch = [("\\frac{\\sqrt2}{2}", "\\sqrt{2}/2", 10.0), ("2", POWER_TOWER, 1.0), ("x^2", "x^3", 10.0),
             ("\\frac{\\sqrt2}{2}", "\\sqrt{2}/2", 10.0), ("(1,2]", "(1, 2]", 10.0)]
    results = verifier.verify_many(batch)
    assert [r[0] for r in results] == ["correct", "timeout", "incorrect", "correct", "correct"], results
    assert verifier.starts == starts + 1  # one restart, after the timeout
    pid = verifier.pid
    assert verifier.verify_many(batch) == results  # all cached, the timeout too: nothing killed or started
    assert verifier.verify("2", POWER_TOWER, timeout_s=1.0)[0] == "timeout"
    assert verifier.pid == pid and verifier.starts == starts + 1
