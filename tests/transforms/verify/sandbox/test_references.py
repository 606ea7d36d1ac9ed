"""HumanEval's and MBPP's reference solutions pass their own tests in the real sandbox,
read through the ``humaneval`` and ``mbpp`` presets from the real files (MBPP with its
``test_imports``), and a mutant of each (every return value changed, else its first
operator swapped) fails them. A hash-chosen subset of each set runs here; the whole of
both sets: ``benchmarks/code_references.py`` (figures in docs/performance.md)."""
import pytest

from tests.code_support import chosen, mutant
from transforms.verify.sandbox.config import SandboxConfig
from transforms.verify.sandbox.suites import run_tests

SUBSET = 30


@pytest.fixture(scope="module")
def sandbox(working_sandbox):
    return working_sandbox(SandboxConfig(timeout_s=20.0))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["humaneval", "mbpp"])
def test_reference_solutions_pass_and_their_mutants_fail(name, sandbox):
    refs = chosen(name, SUBSET)
    assert len(refs) == SUBSET and len({r.task_id for r in refs}) == SUBSET
    failed = []
    for ref in refs:
        verdict, reason = run_tests(ref.code, ref.suite, sandbox)
        if verdict != "correct":
            failed.append((ref.task_id, verdict, reason))
        bare = ref.suite._replace(prefix="")  # a mutant is the whole program, the prefix included
        outcomes = []
        for how in ("return", "operator"):
            code = mutant(ref, how)
            if code is not None:
                outcomes.append(run_tests(code, bare, sandbox))
                if outcomes[-1][0] != "correct":
                    break
        assert outcomes and outcomes[-1][0] == "incorrect", (ref.task_id, outcomes)
    assert len(failed) <= SUBSET // 100, failed  # >= 99% pass (here: every one of the subset)
    if name == "mbpp":
        assert any(ref.suite.setup for ref in chosen(name, 427)), "MBPP's test_imports reach the suite"


def test_a_suite_passes_only_with_every_test_passed_once(sandbox):
    from transforms.verify.sandbox.suites import parse_tests
    suite = parse_tests({"asserts": ["assert f(1) == 2", "assert f(2) == 3"], "setup": "import math"})
    assert run_tests("def f(x):\n    return x + 1\n", suite, sandbox)[0] == "correct"
    assert run_tests("def f(x):\n    return int(math.sqrt(x)) + 1\n", suite, sandbox)[0] == "incorrect"
    # an object equal to everything does not pass an assert ==; exiting early does not either
    always = "class A:\n    def __eq__(self, other):\n        return True\ndef f(x):\n    return A()\n"
    assert run_tests(always, suite, sandbox) == ("incorrect", "test 1/2: AssertionError")
    sneaky = "class D(dict):\n    def __eq__(self, other):\n        return True\ndef f(x):\n    return D()\n"
    assert run_tests(sneaky, suite, sandbox) == ("incorrect", "test 1/2: AssertionError")
    counter = parse_tests({"asserts": ["assert f([1, 1]) == {1: 2}"]})  # a dict subclass of the right value
    assert run_tests("import collections\ndef f(x):\n    return collections.Counter(x)\n", counter,
                     sandbox)[0] == "correct"
    exits = "import os\nos._exit(0)\n"
    assert run_tests(exits, suite, sandbox) == ("incorrect", "test 1/2: no result")
    raises = "def f(x):\n    raise SystemExit(0)\n"
    assert run_tests(raises, suite, sandbox) == ("incorrect", "test 1/2: SystemExit")


def test_a_check_suite_runs_a_whole_function_or_a_body_after_the_prompt(sandbox):
    from transforms.verify.sandbox.suites import parse_tests
    prompt = "import math\n\ndef root(x: float) -> float:\n    \"\"\"The square root.\"\"\"\n"
    suite = parse_tests({"check": "def check(candidate):\n    assert candidate(4.0) == 2.0\n",
                         "entry_point": "root", "prefix": prompt})
    assert run_tests("    return math.sqrt(x)\n", suite, sandbox)[0] == "correct"
    assert run_tests("import math\ndef root(x):\n    return math.sqrt(x)\n", suite, sandbox)[0] == "correct"
    assert run_tests("def root(x):\n    return x / 2 + 1\n", suite, sandbox)[0] == "incorrect"
