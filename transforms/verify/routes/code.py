"""Code answers: the last code block of a response, run against the problem's tests in
the sandbox (:mod:`transforms.verify.sandbox`). Whatever the run does, the answer is a
verdict: the checker reads the run's outputs with bounds and never raises on them,
and a failure of the checker itself is ``error`` with its reason."""
from __future__ import annotations

from typing import Optional

from transforms.verify.sandbox.runner import SANDBOX_VERSION, Sandbox
from transforms.verify.sandbox.suites import extract_code, parse_tests, run_tests
from transforms.verify.verdicts import verdict_fields


def verify_code(rollout, text: str, sandbox: Optional[Sandbox]) -> dict:
    """The verdict fields of a code rollout: its solution run against its ``tests`` in
    ``sandbox`` (None: ``infra_unavailable``)."""
    code = extract_code(rollout.completion or text) or extract_code(text)
    if code is None:
        return verdict_fields(None, "no_answer", "sandbox", SANDBOX_VERSION, "no_code_block")
    if not rollout.tests:
        return verdict_fields(code, "unverifiable", "sandbox", SANDBOX_VERSION, "no_tests")
    if sandbox is None:
        return verdict_fields(code, "infra_unavailable", "sandbox", SANDBOX_VERSION, "no sandbox configured")
    try:
        suite = parse_tests(rollout.tests)
    except ValueError as exc:
        return verdict_fields(code, "unverifiable", "sandbox", SANDBOX_VERSION, f"bad_tests: {exc}")
    try:
        verdict, reason = run_tests(code, suite, sandbox)
    except Exception as exc:  # a checker failure is this rollout's verdict, never a dead letter
        verdict, reason = "error", f"checker_error: {type(exc).__name__}: {str(exc)[:200]}"
    return verdict_fields(code, verdict, "sandbox", SANDBOX_VERSION, reason)
