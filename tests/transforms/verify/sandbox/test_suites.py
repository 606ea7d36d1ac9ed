"""Test suites of code problems: rule tables for test parsing, code extraction and
output comparison; call-based suites, the per-rollout time budget and forged result
lines, run in the sandbox."""
import json
import time

import pytest

from transforms.verify.sandbox.config import SandboxConfig
from transforms.verify.sandbox.suites import (
    CodeTests,
    extract_code,
    outputs_match,
    parse_tests,
    run_tests,
    values_match,
)

# -- rule tables ---------------------------------------------------------------------


@pytest.mark.parametrize("spec,expected", [
    ({"inputs": ["1 2\n"], "outputs": ["3\n"]}, CodeTests("stdin", [("1 2\n", "3\n")])),
    ({"inputs": [[1, 2]], "outputs": [[3]], "fn_name": "add"}, CodeTests("call", [([1, 2], [3])], "add")),
    ({"inputs": [5], "outputs": [25], "fn_name": "sq"}, CodeTests("call", [([5], 25)], "sq")),
    ([{"input": "4\n", "output": "16\n", "testtype": "stdin"}], CodeTests("stdin", [("4\n", "16\n")])),
    ({"fn_name": "f", "tests": [{"input": "[1, 2]\n3", "output": "6", "testtype": "functional"}]},
     CodeTests("call", [([[1, 2], 3], 6)], "f")),
    (json.dumps({"inputs": [["a", "b"]], "outputs": [["a\n", "b"]]}), CodeTests("stdin", [("a\nb", "a\n\nb")])),
])
def test_parse_tests(spec, expected):
    assert parse_tests(spec) == expected


@pytest.mark.parametrize("spec", [
    "not json", {"inputs": [1]}, {"inputs": [1, 2], "outputs": [1]}, 42,
    [{"input": "1", "output": "1", "testtype": "functional"}],  # no fn_name
])
def test_parse_tests_rejects_bad_specs(spec):
    with pytest.raises(ValueError):
        parse_tests(spec)


@pytest.mark.parametrize("text,expected", [
    ("Here:\n```python\nprint(1)\n```", "print(1)\n"),
    ("```py\na = 1\n```\nthen\n```python\nb = 2\n```", "b = 2\n"),
    ("```\nprint(3)\n```", "print(3)\n"),
    ("```python\nx\n```\n```text\nsample output\n```", "x\n"),
    ("<think>```python\nwrong()\n```</think>\nFinal:\n```python\nright()\n```", "right()\n"),
    ("<think>```python\nonly_thinking()\n```</think>\nNo code here.", None),
    ("print(1)", None),
    ("", None),
])
def test_extract_code(text, expected):
    assert extract_code(text) == expected


@pytest.mark.parametrize("actual,expected,match", [
    ("3\n", "3", True),
    ("1 2 3  \n\n", "1 2 3\n", True),
    ("0.3333333333\n", "0.333333333", True),
    ("1\n2\n", "1 2", True),
    ("3\n", "4\n", False),
    ("", "3", False),
    ("PASS\n", "3\n", False),
    ("1.5\n", "1.6\n", False),
])
def test_outputs_match(actual, expected, match):
    assert outputs_match(actual, expected) is match


@pytest.mark.parametrize("actual,expected,match", [
    (3, 3, True), (3, [3], True), ([1, 2], [1, 2], True), (0.1 + 0.2, 0.3, True),
    ({"a": [1]}, {"a": [1]}, True), (True, 1, False), (1, True, False), ("3", 3, False),
    ([1, 2], [2, 1], False), (None, 0, False), ([3], 3, False),
])
def test_values_match(actual, expected, match):
    assert values_match(actual, expected) is match


def test_call_based_solution_passes_and_wrong_one_fails(roomy):
    suite = parse_tests({"fn_name": "twoSum", "inputs": [[[2, 7, 11], 9], [[3, 3], 6]], "outputs": [[[0, 1]], [[0, 1]]]})
    good = ("class Solution:\n    def twoSum(self, nums, target):\n"
            "        seen = {}\n        for i, n in enumerate(nums):\n"
            "            if target - n in seen:\n                return [seen[target - n], i]\n"
            "            seen[n] = i\n")
    assert run_tests(good, suite, roomy) == ("correct", "passed 2/2 tests")
    assert run_tests("def twoSum(nums, target):\n    return [1, 0]", suite, roomy)[0] == "incorrect"
    assert run_tests("def other(): pass", suite, roomy)[0] == "incorrect"
    assert run_tests("def twoSum(:", suite, roomy)[0] == "incorrect"  # a syntax error is the solution's


def test_rollout_time_budget_bounds_many_slow_tests(working_sandbox):
    box = working_sandbox(SandboxConfig(timeout_s=1.0, rollout_timeout_s=1.5))
    suite = CodeTests("stdin", [("", "1\n")] * 20)
    started = time.monotonic()
    verdict, reason = run_tests("import time\ntime.sleep(0.6)\nprint(1)", suite, box)
    assert verdict == "timeout", reason  # the budget ran out during the 2nd or 3rd test, not the 20th
    assert time.monotonic() - started < 1.5 + 1.0


def test_forged_result_lines_cannot_break_the_parent(roomy):
    """Junk on the result channel (unhashable ids, non-objects) is ignored, not a crash."""
    source = ("import os\ndef solve(x):\n    for junk in (b'{\"i\": [1], \"value\": 1}\\n', b'[1, 2]\\n', b'nul\\n'):\n"
              "        for fd in range(3, 12):\n            try:\n                os.write(fd, junk)\n"
              "            except OSError:\n                pass\n    return x + 1")
    suite = CodeTests("call", [([1], 2), ([5], 6)], "solve")
    assert run_tests(source, suite, roomy) == ("correct", "passed 2/2 tests")
