"""The code presets: HumanEval and MBPP on their real rows, APPS/TACO, LiveCodeBench
and CodeContests on records in their published layouts; each gives a prompt and tests
the sandbox reads, with no answer field needed (``verify: tests``)."""
import base64
import json
import pickle
import zlib

import pytest

from tests.code_support import DATA
from transforms.ingest.config import SourceConfig
from transforms.ingest.presets import BadRecord, to_problem
from transforms.verify.sandbox.suites import parse_tests


def _problem(record, preset, **kw):
    return to_problem(record, SourceConfig(name="src", path="in.jsonl", preset=preset, **kw), "in.jsonl", 1, 1, "h")


def _first(relative):
    with open(f"{DATA}/{relative}", encoding="utf-8") as fh:
        return json.loads(fh.readline())


def test_humaneval_row_becomes_a_check_suite_with_the_prompt_before_the_code():
    row = _first("humaneval/HumanEval.jsonl")
    problem = _problem(row, "humaneval")
    suite = parse_tests(problem.tests)
    assert (problem.domain, problem.source_id, problem.reference_answer) == ("code", "HumanEval/0", None)
    assert problem.prompt == row["prompt"].strip() and suite.prefix == row["prompt"].strip()
    assert suite.kind == "suite" and len(suite.cases) == 1
    assert suite.cases[0][0].rstrip().endswith("check(has_close_elements)")
    assert "__strict_eq__(candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3), True)" in suite.cases[0][0]
    meta = json.loads(problem.metadata)
    assert meta["verify"] == "tests" and "canonical_solution" in meta and "test" not in meta


def test_mbpp_row_becomes_one_test_per_assert_with_its_imports_and_shows_one_test():
    with open(f"{DATA}/mbpp/sanitized-mbpp.jsonl", encoding="utf-8") as fh:
        row = next(r for r in map(json.loads, fh) if r["test_imports"])
    problem = _problem(row, "mbpp")
    suite = parse_tests(problem.tests)
    assert len(suite.cases) == len(row["test_list"]) and suite.setup == "\n".join(row["test_imports"])
    assert problem.prompt.startswith(row["prompt"]) and row["test_list"][0] in problem.prompt
    assert row["test_list"][1] not in problem.prompt


APPS_CALL = {"problem_id": 7, "question": "Add one.", "starter_code": "def inc(x):\n",
             "input_output": json.dumps({"inputs": [[1], [2]], "outputs": [[2], [3]], "fn_name": "inc"}),
             "difficulty": "introductory", "solutions": json.dumps(["def inc(x): return x+1"])}
APPS_STDIN = {"problem_id": 8, "question": "Echo.", "starter_code": "",
              "input_output": json.dumps({"inputs": ["1\n"], "outputs": ["1\n"]})}


@pytest.mark.parametrize("preset", ["apps", "taco"])
def test_apps_and_taco_rows_with_and_without_fn_name(preset):
    call = _problem(APPS_CALL, preset)
    suite = parse_tests(call.tests)
    assert (suite.kind, suite.fn_name, suite.cases) == ("call", "inc", [([1], [2]), ([2], [3])])
    assert "def inc(x):" in call.prompt and call.difficulty == "introductory" and call.source_id == "7"
    stdin = _problem(APPS_STDIN, preset)
    assert parse_tests(stdin.tests).kind == "stdin" and stdin.prompt == "Echo."


def _lcb_private(tests):
    return base64.b64encode(zlib.compress(pickle.dumps(json.dumps(tests)))).decode()


def test_livecodebench_rows_functional_and_stdin_with_encoded_private_tests():
    functional = {"question_id": "abc1", "question_content": "Sum a list.", "starter_code": "class Solution:\n",
                  "public_test_cases": json.dumps([{"input": "[1, 2]", "output": "3", "testtype": "functional"}]),
                  "private_test_cases": _lcb_private([{"input": "[5]", "output": "5", "testtype": "functional"}]),
                  "metadata": json.dumps({"func_name": "total"}), "difficulty": "easy"}
    suite = parse_tests(_problem(functional, "livecodebench").tests)
    assert (suite.kind, suite.fn_name, suite.cases) == ("call", "total", [([[1, 2]], 3), ([[5]], 5)])
    stdin = dict(functional, metadata="{}", public_test_cases=json.dumps(
        [{"input": "1 2\n", "output": "3\n", "testtype": "stdin"}]), private_test_cases="")
    assert parse_tests(_problem(stdin, "livecodebench").tests).kind == "stdin"


def test_livecodebench_tests_pickling_an_object_are_refused_unread():
    class Boom:
        def __reduce__(self):
            return (print, ("pwned",))
    hostile = {"question_id": "x", "question_content": "Q",
               "public_test_cases": base64.b64encode(zlib.compress(pickle.dumps(Boom()))).decode()}
    with pytest.raises(BadRecord) as info:
        _problem(hostile, "livecodebench")
    assert info.value.field == "public_test_cases" and info.value.reason == "bad_value"


def test_codecontests_row_joins_public_private_and_generated_tests():
    row = {"name": "1548_A", "description": "Print the sum.", "difficulty": 7,
           "public_tests": {"input": ["1 2\n"], "output": ["3\n"]},
           "private_tests": {"input": ["2 2\n"], "output": ["4\n"]},
           "generated_tests": {"input": [], "output": []}}
    problem = _problem(row, "codecontests")
    assert parse_tests(problem.tests).cases == [("1 2\n", "3\n"), ("2 2\n", "4\n")]
    assert (problem.source_id, problem.domain, problem.difficulty) == ("1548_A", "code", "7")


@pytest.mark.parametrize("preset,record,field", [
    ("humaneval", {"prompt": "def f():\n", "entry_point": "f"}, "test"),
    ("mbpp", {"prompt": "Do it.", "test_list": []}, "test_list"),
    ("apps", {"question": "Q"}, "input_output"),
    ("codecontests", {"description": "Q"}, "public_tests|private_tests|generated_tests"),
])
def test_a_code_row_without_tests_is_dead_lettered_naming_the_field(preset, record, field):
    with pytest.raises(BadRecord) as info:
        _problem(record, preset)
    assert (info.value.field, info.value.reason) == (field, "missing_field")
