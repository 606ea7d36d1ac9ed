"""HumanEval's and MBPP's reference solutions in the real sandbox: the share that pass
their own tests (as the ``humaneval`` and ``mbpp`` presets load them) and the share of
mutants (every return value changed; the first operator swapped) that fail.

    .venv/bin/python benchmarks/code_references.py [--sets humaneval mbpp] [--limit N]

Prints one JSON object: per set, problems, references passed, mutants failed (the
operator mutant is tried only where the return mutant passed), the problems with a
failing mutant, and the tasks whose reference failed (with the reason). Not a speed benchmark: a correctness
figure over the whole of both sets (the tests check a hash-chosen subset)."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.code_support import SETS, mutant, references  # noqa: E402
from transforms.verify.sandbox.config import SandboxConfig  # noqa: E402
from transforms.verify.sandbox.runner import Sandbox  # noqa: E402
from transforms.verify.sandbox.suites import run_tests  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--limit", type=int, default=0, help="only the first N problems of each set")
    args = parser.parse_args()
    sandbox = Sandbox(SandboxConfig(timeout_s=20.0))
    problem = sandbox.unavailable()
    if problem:
        sys.exit(problem)
    report = {}
    for name in args.sets:
        started = time.monotonic()
        refs = list(references(name))[: args.limit or None]
        failed, mutants, caught = [], {"return": [0, 0], "operator": [0, 0]}, 0
        for ref in refs:
            verdict, reason = run_tests(ref.code, ref.suite, sandbox)
            if verdict != "correct":
                failed.append({"task_id": ref.task_id, "verdict": verdict, "reason": reason})
            bare = ref.suite._replace(prefix="")
            for how, counts in mutants.items():  # the operator mutant only where the return one passed
                code = mutant(ref, how)
                if code is not None:
                    counts[0] += 1
                    fails = run_tests(code, bare, sandbox)[0] != "correct"
                    counts[1] += fails
                    if fails:
                        caught += 1
                        break
        report[name] = {
            "problems": len(refs), "passed": len(refs) - len(failed),
            "pass_share": round((len(refs) - len(failed)) / max(len(refs), 1), 4),
            "mutants_failed": {how: f"{c[1]}/{c[0]}" for how, c in mutants.items()},
            "problems_with_a_failing_mutant": f"{caught}/{len(refs)}",
            "reference_failures": failed, "seconds": round(time.monotonic() - started, 1),
        }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
