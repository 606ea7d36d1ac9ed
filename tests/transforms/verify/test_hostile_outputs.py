"""Whatever a rollout's code or answer makes a child process send back, the parent
decides a verdict and never raises (issue #17, class 6). Before: deeply nested JSON on
the sandbox's result channel or in the math-verify child's reply raised
RecursionError, a huge integer compared with a float raised OverflowError, and
extracting the final answers of 60,000 boxes was quadratic (42 s)."""
import os
import subprocess
import sys
import tempfile
import time

import pytest

from tests.factories import make_rollout
from transforms.text.extract import extract_answer, final_boxed_answers
from transforms.verify.config import VerifyConfig
from transforms.verify.mathcheck import MathVerifierProcess
from transforms.verify.routes.code import verify_code
from transforms.verify.routes.math import verify_math
from transforms.verify.sandbox.config import STATUS_EXITED, RunResult, SandboxConfig
from transforms.verify.sandbox.runner import Sandbox, _result
from transforms.verify.sandbox.suites import CodeTests, run_tests

DEEP = b"[" * 100_000 + b"]" * 100_000


def _run_data(result_lines):
    return {"status": b'{"child-pid": 2}\n{"exit-code": 0}\n', "result": b"\n".join([b'"ready"'] + result_lines),
            "stdout": bytearray(), "stderr": bytearray()}


def test_hostile_result_lines_are_read_not_raised():
    lines = [DEEP, b'{"i": 0, "value": ' + DEEP + b"}", b'{"i": 0, "value": ' + b"9" * 5000 + b"}", b"\xff\xfe",
             b'{"i": true, "value": 1}', b'{"i": 0, "value": 3}']
    result = _result(STATUS_EXITED, 0, _run_data(lines), 0.1)
    assert result.results[-1] == {"i": 0, "value": 3} and "4 unreadable result lines" in result.detail


class CannedSandbox(Sandbox):
    """A sandbox whose runs return what the test says (no code runs)."""

    def __init__(self, results=(), stdout=b"", error=None):
        super().__init__(SandboxConfig(bwrap="/nonexistent/bwrap"))
        self._probed, self._problem = True, None
        self.canned = RunResult(STATUS_EXITED, 0, stdout, b"", list(results), 0.1)
        self.error = error

    def run(self, *args, **kwargs):
        if self.error:
            raise self.error
        return self.canned


@pytest.mark.parametrize("results,expected", [
    ([{"i": 0, "value": 10 ** 4000}], 1e308),  # before: OverflowError
    ([{"i": 0, "value": 10 ** 4000}], [2.5]),
    ([{"i": 0, "value": float("inf")}], 10 ** 400),
    ([{"i": 0, "value": [[[[1]]]] * 3}], [[1.5]]),
    ([{"i": 0, "error": "e" * 100_000}], 1),
    ([{"i": True, "value": 1}], 1),
    (["not a dict", 7, None], 1),
    ([{"i": 0, "value": {"k": [1] * 10}}], {"k": 5}),
])
def test_hostile_call_results_are_incorrect(results, expected):
    verdict, reason = run_tests("def solve(x): pass", CodeTests("call", [([1], expected)], "solve"),
                                CannedSandbox(results))
    assert verdict == "incorrect" and len(reason) <= 200, reason


def test_hostile_stdout_is_incorrect():
    stdout = b"1" * 100_000 + b" " + b"9" * 5000 + b" \xff" + b" 1e99999999999"
    expected = "1" * 100_000 + " " + "9" * 4999 + "8 x 1e99999999999"
    assert run_tests("print()", CodeTests("stdin", [("", expected)]), CannedSandbox(stdout=stdout))[0] == "incorrect"


def test_a_checker_failure_is_an_error_verdict_not_an_exception():
    rollout = make_rollout(domain="code", reference_answer=None, tests='{"inputs": ["1"], "outputs": ["1"]}',
                           completion="```python\nprint(1)\n```")
    fields = verify_code(rollout, rollout.completion, CannedSandbox(error=RecursionError("deep")))
    assert fields["verdict"] == "error" and fields["verdict_reason"].startswith("checker_error: RecursionError")


#: What a subverted math-verify child sends after "ready", one reply per request.
CHILD = """
import sys
replies = [open(sys.argv[1], "rb").read()]
sys.stdout.buffer.write(b'["ready"]\\n'); sys.stdout.buffer.flush()
for reply in replies:
    if not sys.stdin.buffer.readline():
        break
    sys.stdout.buffer.write(reply); sys.stdout.buffer.flush()
sys.stdin.buffer.read()
"""


class SubvertedChild(MathVerifierProcess):
    def __init__(self, reply):
        super().__init__()
        self.reply = reply

    def _spawn(self):
        with tempfile.NamedTemporaryFile("wb", suffix=".reply", delete=False) as fh:
            fh.write(self.reply)
        self._process = subprocess.Popen([sys.executable, "-c", CHILD, fh.name],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._buffer = b""
        try:
            assert self._read_reply(time.monotonic() + 10) == ["ready"]  # the reply is read by then
        finally:
            os.unlink(fh.name)


@pytest.mark.parametrize("reply", [
    DEEP + b"\n",  # before: RecursionError out of the pipeline
    b'["ok", ' + DEEP + b"]\n",
    b"x" * (1 << 20) + b"\n",  # longer than any reply
    b'["ok", "correct"]\n',
    b'["ok", "correct", "r", 5]\n',
    b'["ok", {"verdict": "correct"}, "r"]\n',
    b'["ok", "CORRECT", "r"]\n',
    b'["error"]\n',
    b"\xff\xfe\n",
    b"[NaN]\n",
])
def test_hostile_math_verify_replies_are_error_verdicts(reply):
    with SubvertedChild(reply) as child:
        fields = verify_math("so \\boxed{(-\\infty, \\pi/2)}", "(-\\infty, \\frac{\\pi}{2})", child, VerifyConfig())
    assert fields["verdict"] in ("error", "timeout"), fields
    assert len(fields["verdict_reason"]) <= 400


def test_final_answers_of_many_boxes_are_linear():
    """60,000 distinct boxes: 42 s before (a list searched for each), well under the time bound now."""
    text = "</think>" + " ".join(f"\\boxed{{{i}}}" for i in range(60_000))
    started = time.process_time()
    answers = final_boxed_answers(text)
    extract_answer(text)
    assert len(answers) == 60_000 and answers[-1] == "59999"
    nested = "</think>" + "\\boxed{" * 20_000 + "1" + "}" * 20_000
    assert len(final_boxed_answers(nested)) == 1
    assert time.process_time() - started < 3.0


def test_math_route_with_many_boxes_stays_within_its_time_bound():
    config = VerifyConfig()
    text = "</think>" + " and ".join(f"\\boxed{{{i}}}" for i in range(60_000))
    started = time.monotonic()
    fields = verify_math(text, "59999", SubvertedChild(b'["ok", "correct", "forged"]\n'), config)
    assert time.monotonic() - started < config.timeout_s
    assert fields["verdict"] in ("correct", "incorrect", "timeout")
