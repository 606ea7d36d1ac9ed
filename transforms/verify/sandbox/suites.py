"""Test suites of code problems: the solution in a response, the tests in a problem's
``tests`` JSON, and the verdict of running one against the other in the sandbox,
decided here by comparing outputs with the expected ones (which never enter the
sandbox: an exit code, a printed "PASS" or an object claiming to equal anything
never counts; the comparison rules are :mod:`transforms.verify.sandbox.compare`).

Tests come in the common formats:

* APPS/TACO: ``{"inputs": [...], "outputs": [...]}`` (stdin/stdout), with
  ``"fn_name"`` for call-based tests (``inputs`` are argument lists);
* LiveCodeBench-like: a list of ``{"input", "output", "testtype"}`` (or
  ``{"tests": [...], "fn_name": ...}``), ``testtype`` ``stdin`` or ``functional``;
* assert-style (MBPP): ``{"asserts": ["assert f(1) == 2", ...], "setup": "import math"}``,
  the setup (``test_imports``) run before the solution;
* ``check()``-style (HumanEval): ``{"check": "def check(candidate): ...",
  "entry_point": "f", "prefix": "<the prompt>"}``, the prefix (a signature with
  imports, or helpers) put before the solution, so a response with the whole function
  or only its body both run, as HumanEval's own harness runs ``prompt + completion``.

The last two run in the sandbox's ``suite`` mode: their expected values are in the
test code, so the asserts decide inside the sandbox (:mod:`transforms.verify.sandbox.asserts`
makes ``==`` strict); the parent counts a test passed only from its ``passed`` line,
after a clean exit, each test exactly once.
"""
from __future__ import annotations

import json
import re
import time
import typing
from typing import Any, List, Optional, Tuple

from transforms.verify.sandbox.asserts import assert_suite, check_suite
from transforms.verify.sandbox.compare import outputs_match, values_match
from transforms.verify.sandbox.config import (
    STATUS_OUTPUT,
    STATUS_SANDBOX,
    STATUS_TIMEOUT,
    RunResult,
    output_tail,
)
from transforms.verify.sandbox.runner import Sandbox

__all__ = ["CodeTests", "extract_code", "outputs_match", "parse_tests", "run_tests", "values_match"]


class CodeTests(typing.NamedTuple):
    """Normalized tests: ``stdin`` cases are (input text, expected output text);
    ``call`` cases are (argument list or dict, expected value); ``suite`` cases are
    (test source, None), with ``setup`` run before the solution and ``prefix`` put
    in front of it."""

    kind: str  # stdin | call | suite
    cases: List[Tuple[Any, Any]]
    fn_name: Optional[str] = None
    setup: str = ""
    prefix: str = ""


_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.S)


def extract_code(text: str) -> Optional[str]:
    """The solution in a response: the last ```python block of the final answer (the
    text after ``</think>``), else its last fenced block; None without one."""
    if not text:
        return None
    final = text.rpartition("</think>")[2] if "</think>" in text else text
    blocks = _FENCE.findall(final)
    if not blocks:
        return None
    python = [body for lang, body in blocks if lang.lower() in ("python", "py", "python3")]
    return (python or [body for _, body in blocks])[-1]


def parse_tests(spec) -> CodeTests:
    """A CodeTests from a problem's ``tests`` (JSON text or already decoded).

    Raises ValueError for a spec it can't read (the record is then unverifiable)."""
    if isinstance(spec, str):
        try:
            spec = json.loads(spec)
        except RecursionError as exc:
            raise ValueError("tests: nested too deeply") from exc
    if isinstance(spec, dict) and ("asserts" in spec or "check" in spec):
        return _suite(spec)
    fn_name = None
    if isinstance(spec, dict) and "tests" in spec:
        fn_name, spec = spec.get("fn_name"), spec["tests"]
    if isinstance(spec, dict):
        inputs, outputs = spec.get("inputs"), spec.get("outputs")
        if not isinstance(inputs, list) or not isinstance(outputs, list) or len(inputs) != len(outputs):
            raise ValueError("tests: expected 'inputs' and 'outputs' lists of the same length")
        fn_name = spec.get("fn_name") or None
        if fn_name:
            return CodeTests("call", [(_call_args(i), o) for i, o in zip(inputs, outputs)], str(fn_name))
        return CodeTests("stdin", [(_text(i), _text(o)) for i, o in zip(inputs, outputs)])
    if isinstance(spec, list) and all(isinstance(t, dict) and "input" in t and "output" in t for t in spec):
        functional = [t.get("testtype") == "functional" for t in spec]
        if any(functional):
            if not all(functional) or not fn_name:
                raise ValueError("tests: functional tests need 'fn_name' and may not mix with stdin tests")
            return CodeTests("call", [(_lines_as_args(t["input"]), _json_value(t["output"])) for t in spec],
                             str(fn_name))
        return CodeTests("stdin", [(_text(t["input"]), _text(t["output"])) for t in spec])
    raise ValueError("tests: unknown format (expected inputs/outputs or a list of input/output tests)")


def _suite(spec: dict) -> CodeTests:
    """An assert-style or check()-style suite (see the module's doc)."""
    setup, prefix = spec.get("setup") or "", spec.get("prefix") or ""
    if isinstance(setup, list):
        setup = "\n".join(str(line) for line in setup)
    if not isinstance(setup, str) or not isinstance(prefix, str):
        raise ValueError("tests: 'setup' and 'prefix' must be source text")
    if "check" in spec:
        check, entry = spec.get("check"), spec.get("entry_point")
        if not isinstance(check, str) or not isinstance(entry, str) or not check.strip():
            raise ValueError("tests: a check() suite needs 'check' source and an 'entry_point' name")
        tests = check_suite(check, entry)
    else:
        asserts = spec.get("asserts")
        if not isinstance(asserts, list) or not all(isinstance(a, str) for a in asserts):
            raise ValueError("tests: 'asserts' must be a list of assert statements")
        tests = assert_suite(asserts)
    return CodeTests("suite", [(test, None) for test in tests], setup=setup, prefix=prefix)


def program(source: str, suite: CodeTests) -> str:
    """The program run for a solution: the suite's prefix, then the solution."""
    return f"{suite.prefix}\n{source}" if suite.prefix else source


def _text(value) -> str:
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value)


def _call_args(value):
    return value if isinstance(value, (list, dict)) else [value]


def _json_value(text):
    try:
        return json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return text


def _lines_as_args(text: str) -> list:
    """LiveCodeBench functional input: one JSON value per line, one per argument."""
    return [_json_value(line) for line in str(text).splitlines() if line.strip()]


def run_tests(source: str, suite: CodeTests, sandbox: Sandbox) -> Tuple[str, str]:
    """(verdict, reason) of a solution on a test suite, decided here from the outputs.

    ``correct`` only when every test ran to a clean exit with the expected output;
    ``timeout`` when a run hit the wall clock; ``infra_unavailable`` when the sandbox
    could not run it; ``incorrect`` otherwise (wrong output, runtime error, output
    limit). Stdin tests stop at the first failure; all of them together get at most
    ``rollout_timeout_s``."""
    cases = suite.cases[: sandbox.config.max_tests]
    if not cases:
        return "unverifiable", "no_tests"
    problem = sandbox.unavailable()
    if problem:
        return "infra_unavailable", problem
    tolerance = sandbox.config.float_tolerance
    if suite.kind == "suite":
        return _run_suite(program(source, suite), suite, cases, sandbox)
    if suite.kind == "call":
        result = sandbox.run(source, fn_name=suite.fn_name, calls=[args for args, _ in cases])
        failure = _run_failure(result)
        if failure:
            return failure
        values = {r["i"]: r for r in result.results if isinstance(r, dict) and type(r.get("i")) is int}
        for i, (_, expected) in enumerate(cases):
            got = values.get(i)
            if got is None or "value" not in got:
                error = str(got.get("error", "no result"))[:80] if got is not None else "no result"
                if got is None and result.detail:
                    error += f" ({result.detail})"
                return "incorrect", f"test {i + 1}/{len(cases)}: {error}"
            if not values_match(got["value"], expected, tolerance):
                return "incorrect", f"test {i + 1}/{len(cases)}: wrong_answer"
        return "correct", f"passed {len(cases)}/{len(cases)} tests"
    deadline = time.monotonic() + sandbox.config.rollout_timeout_s
    for i, (stdin, expected) in enumerate(cases):
        left = min(sandbox.config.timeout_s, deadline - time.monotonic())
        if left <= 0:
            return "timeout", f"rollout_time_limit_exceeded after {i}/{len(cases)} tests"
        result = sandbox.run(source, stdin=stdin, timeout_s=left)
        failure = _run_failure(result, f"test {i + 1}/{len(cases)}: ")
        if failure:
            return failure
        if not outputs_match(result.stdout.decode("utf-8", "replace"), expected, tolerance):
            return "incorrect", f"test {i + 1}/{len(cases)}: wrong_answer"
    return "correct", f"passed {len(cases)}/{len(cases)} tests"


def _run_suite(source: str, suite: CodeTests, cases: list, sandbox: Sandbox) -> Tuple[str, str]:
    """(verdict, reason) of an assert-style or check()-style suite: one run, every
    test reporting ``passed`` exactly once, and a clean exit."""
    timeout = min(sandbox.config.timeout_s, sandbox.config.rollout_timeout_s)
    result = sandbox.run(source, tests=[test for test, _ in cases], setup=suite.setup, timeout_s=timeout)
    failure = _run_failure(result)
    if failure:
        return failure
    lines: dict = {}
    for line in result.results:
        if isinstance(line, dict) and type(line.get("i")) is int:
            lines.setdefault(line["i"], []).append(line)
    for i in range(len(cases)):
        got = lines.get(i, [])
        if len(got) != 1:
            return "incorrect", f"test {i + 1}/{len(cases)}: " + ("no result" if not got else "forged results")
        if got[0].get("passed") is not True:
            return "incorrect", f"test {i + 1}/{len(cases)}: {str(got[0].get('error', 'failed'))[:80]}"
    if set(lines) - set(range(len(cases))):
        return "incorrect", "forged results"
    return "correct", f"passed {len(cases)}/{len(cases)} tests"


def _run_failure(result: RunResult, where: str = "") -> Optional[Tuple[str, str]]:
    """The verdict of a run that didn't end cleanly, else None."""
    if result.status == STATUS_SANDBOX:
        return "infra_unavailable", f"{where}{result.detail}"
    if result.status == STATUS_TIMEOUT:
        return "timeout", f"{where}time_limit_exceeded ({result.elapsed_s:.1f}s)"
    if result.status == STATUS_OUTPUT:
        return "incorrect", f"{where}output_limit_exceeded"
    if result.exit_code != 0:
        last = output_tail(result.stderr, 120).splitlines()
        return "incorrect", f"{where}runtime_error (exit {result.exit_code}){': ' + last[-1] if last else ''}"
    return None
