"""Verdicts per second per core for math and code, against math-verify called
directly in one process on the same real rollouts.

Rollouts: real problems from ../shared/data (GSM8K, MATH-500, OlympiadBench,
Gaokao, AMC, AIME, CMATH, Minerva) answered in the styles real models write, right,
wrong and unanswered, built by tests/data/make_verify_cases.py (so every rollout
has a label). Measured in this run, on the same rollouts:

- ``ours``: ``verify_rollout_fields`` as the verify stage runs it (extraction, the
  cheap exact path, math-verify in its child process with the wall-clock bound);
- ``math-verify direct``: ``parse(gold)`` + ``parse(response)`` + ``verify`` in
  this process with math-verify's default extraction (LaTeX and expressions) and
  its own timeouts, the way it is usually called;
- ``math-verify, gold parsed once``: the same with each problem's gold parsed once.

Rates are rollouts per CPU-second (this process plus its children: the math-verify
child's start-up excluded, restarts included), so a loaded machine changes them
little; latency is wall clock per rollout. Agreement is with the labels (correct
or not). Code: stdin/stdout solutions (right and wrong) run against their tests in
the sandbox, next to the same programs run bare with ``python -c`` (the sandbox's
overhead).

    cd /work/main && .venv/bin/python benchmarks/verify.py [--math 1500] [--code 40]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from transforms.verify.config import VerifyConfig  # noqa: E402
from transforms.verify.dispatch import normalize_gold, verify_rollout_fields  # noqa: E402
from transforms.verify.mathcheck import MathVerifierProcess  # noqa: E402
from transforms.verify.rows import rollout_from_row  # noqa: E402
from transforms.verify.sandbox.config import SandboxConfig  # noqa: E402
from transforms.verify.sandbox.runner import Sandbox  # noqa: E402


def _cases_module():
    path = os.path.join(ROOT, "tests", "data", "make_verify_cases.py")
    spec = importlib.util.spec_from_file_location("make_verify_cases", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def math_rollouts(limit: int) -> list:
    """Labelled real-style math rollouts (multiple choice left out: not math-verify's job)."""
    m = _cases_module()
    cases = m.gsm8k_cases(m.read("gsm8k/test.jsonl")[:300]) + m.gsm8k_hard_cases(m.read("gsm8k/test.jsonl")[300:400])
    cases += m.latex_cases("math500", m.read("math500/test.jsonl"), lambda r: r["answer"],
                           lambda r, rng: m._strip_box(r["solution"]), lambda r: r["problem"],
                           solution_of=lambda r: r["solution"])
    olympiad = [r for r in m.read("qwen_math_eval/olympiadbench/test.jsonl") if r["answer_type"] != "Expression"]
    cases += m.latex_cases("olympiadbench", olympiad[:150], lambda r: str(r["final_answer"]), m.generic_steps,
                           lambda r: r["question"])
    cases += m.latex_cases("gaokao2023en", m.read("qwen_math_eval/gaokao2023en/test.jsonl"), lambda r: r["answer"],
                           m.generic_steps, lambda r: r["question"])
    for name in ("amc23", "aime24"):
        cases += m.latex_cases(name, m.read(f"qwen_math_eval/{name}/test.jsonl"), lambda r: str(r["answer"]),
                               m.generic_steps, lambda r: r["question"])
    cases += m.cmath_chinese_cases(m.read("qwen_math_eval/cmath/test.jsonl")[:100])
    cases += m.multi_answer_cases()
    step = max(1, len(cases) // limit)
    return cases[::step][:limit]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _process_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _on_cpu(pid) -> float:
    """Seconds ``pid`` has run on a CPU (nanosecond resolution; 0 if there is none)."""
    try:
        with open(f"/proc/{pid}/schedstat") as fh:
            return int(fh.read().split()[0]) / 1e9
    except (OSError, TypeError):
        return 0.0


def run_ours(cases: list, config: VerifyConfig):
    """(verdicts, per-rollout wall seconds, per-rollout CPU seconds of this process
    and the child, CPU seconds of the whole run with its children)."""
    rollouts = [rollout_from_row(c) for c in cases]
    verifier = MathVerifierProcess(config.start_timeout_s, config.memory_limit_mb)
    verifier.start()
    start_cpu = time.process_time() + _children_cpu() + _process_cpu(verifier.pid)
    verdicts, latencies, cpu_latencies = [], [], []
    for rollout in rollouts:
        pid, child_before, parent_before = verifier.pid, _on_cpu(verifier.pid), time.process_time()
        started = time.perf_counter()
        verdicts.append(verify_rollout_fields(rollout, verifier, config))
        latencies.append(time.perf_counter() - started)
        child = _on_cpu(verifier.pid) - (child_before if verifier.pid == pid else 0.0)
        cpu_latencies.append(time.process_time() - parent_before + child)
    verifier.close()  # reaped: its CPU time is in RUSAGE_CHILDREN now
    return verdicts, latencies, cpu_latencies, time.process_time() + _children_cpu() - start_cpu


def run_direct(cases: list, gold_once: bool):
    """math-verify's usual call, in this process; (correct flags, latencies, CPU seconds)."""
    from math_verify import parse, verify

    parse("$1$")  # its lazy start-up is not a rollout's
    golds = {}
    flags, latencies = [], []
    start_cpu = time.process_time()
    for case in cases:
        started = time.perf_counter()
        gold_text = "$" + normalize_gold(case["reference_answer"]) + "$"
        if gold_once:
            if gold_text not in golds:
                golds[gold_text] = parse(gold_text)
            gold = golds[gold_text]
        else:
            gold = parse(gold_text)
        try:
            flags.append(bool(verify(gold, parse(case["response"]))))
        except Exception:  # math-verify's own timeout or a parse failure: not correct
            flags.append(False)
        latencies.append(time.perf_counter() - started)
    return flags, latencies, time.process_time() - start_cpu


def _percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _agreement(flags, labels):
    return sum(f == (label == "correct") for f, label in zip(flags, labels)) / len(labels)


def _precision_recall(flags, labels):
    tp = sum(f and label == "correct" for f, label in zip(flags, labels))
    predicted, actual = sum(flags), sum(label == "correct" for label in labels)
    return (tp / predicted if predicted else 1.0), (tp / actual if actual else 1.0)


CODE_TASKS = [
    ("sum of two integers", "a, b = map(int, input().split())\nprint(a + b)",
     "a, b = map(int, input().split())\nprint(a - b)", [("2 3\n", "5\n"), ("10 -4\n", "6\n"), ("0 0\n", "0\n")]),
    ("reverse a line", "print(input()[::-1])", "print(input())", [("abc\n", "cba\n"), ("racecar\n", "racecar\n"),
                                                                   ("ab\n", "ba\n")]),
    ("count words", "import sys\nprint(len(sys.stdin.read().split()))", "print(0)",
     [("a b c\n", "3\n"), ("one\n", "1\n"), ("x  y\n", "2\n")]),
    ("max of a list", "n = int(input())\nprint(max(map(int, input().split())))",
     "n = int(input())\nprint(min(map(int, input().split())))", [("3\n1 5 2\n", "5\n"), ("1\n7\n", "7\n")]),
    ("numpy mean", "import numpy as np\nprint(float(np.mean(list(map(float, input().split())))))",
     "print(1.0)", [("1 2 3\n", "2.0\n"), ("4\n", "4.0\n")]),
]


def code_rollouts(count: int) -> list:
    out = []
    for i in range(count):
        name, good, bad, tests = CODE_TASKS[i % len(CODE_TASKS)]
        source = good if (i // len(CODE_TASKS)) % 2 == 0 else bad
        spec = {"inputs": [t[0] for t in tests], "outputs": [t[1] for t in tests]}
        out.append(({"prompt": name, "domain": "code", "tests": spec,
                     "response": f"Here is my solution.\n```python\n{source}\n```"}, source == good, source, tests))
    return out


def run_code(items, sandbox: Sandbox, config: VerifyConfig):
    rollouts = [rollout_from_row(row) for row, *_ in items]
    started = time.perf_counter()
    verdicts, latencies = [], []
    for rollout in rollouts:
        t = time.perf_counter()
        verdicts.append(verify_rollout_fields(rollout, None, config, sandbox=sandbox)["verdict"])
        latencies.append(time.perf_counter() - t)
    return verdicts, latencies, time.perf_counter() - started


def run_bare(items):
    """The same programs on the same inputs without a sandbox (stop at the first wrong output, as the sandbox does)."""
    started = time.perf_counter()
    runs = 0
    for _, _, source, tests in items:
        for stdin, expected in tests:
            runs += 1
            out = subprocess.run([sys.executable, "-c", source], input=stdin, capture_output=True, text=True)
            if out.stdout.split() != expected.split():
                break
    return runs, time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--math", type=int, default=1500, help="math rollouts")
    parser.add_argument("--code", type=int, default=40, help="code rollouts (0: skip)")
    parser.add_argument("--direct", type=int, default=600, help="rollouts for the (slow) direct baselines")
    args = parser.parse_args(argv)
    config = VerifyConfig()

    cases = math_rollouts(args.math)
    labels = [c["label"] for c in cases]
    fields, lat, cpu_lat, cpu = run_ours(cases, config)
    ours = [f["verdict"] == "correct" for f in fields]
    routes = {"decided in the parent": 0, "no answer": 0, "math-verify child": 0}
    for f in fields:
        route = ("no answer" if f["verdict"] == "no_answer" else
                 "math-verify child" if f["verifier"] == "math-verify" else "decided in the parent")
        routes[route] += 1
    subset = cases[:: max(1, len(cases) // args.direct)][: args.direct]
    sub_labels = [c["label"] for c in subset]
    direct, d_lat, d_cpu = run_direct(subset, gold_once=False)
    once, o_lat, o_cpu = run_direct(subset, gold_once=True)
    ours_sub = [f["verdict"] == "correct" for f, c in zip(fields, cases) if c in subset]

    rate = len(cases) / cpu
    print(f"math: {len(cases)} real-style rollouts ({sum(label == 'correct' for label in labels)} correct, "
          f"{sum(label == 'incorrect' for label in labels)} incorrect, "
          f"{sum(label == 'no_answer' for label in labels)} unanswered); "
          f"routes {json.dumps(routes)}")
    print(f"{'method':34s} {'rollouts/s/core':>16s} {'x direct':>9s} {'p50 ms':>7s} {'p99 ms':>7s} "
          f"{'max ms':>8s} {'agree':>6s} {'prec':>6s} {'recall':>6s}")
    rows = [("ours (exact path + child)", rate, lat, ours, labels),
            (f"math-verify direct ({len(subset)})", len(subset) / d_cpu, d_lat, direct, sub_labels),
            (f"math-verify, gold parsed once ({len(subset)})", len(subset) / o_cpu, o_lat, once, sub_labels),
            (f"ours on the same {len(subset)}", None, None, ours_sub, sub_labels)]
    direct_rate = len(subset) / d_cpu
    for name, r, latencies, flags, truth in rows:
        precision, recall = _precision_recall(flags, truth)
        timing = (f"{r:16,.0f} {r / direct_rate:9.1f} {1000 * statistics.median(latencies):7.2f} "
                  f"{1000 * _percentile(latencies, 0.99):7.2f} {1000 * max(latencies):8.1f}"
                  if r is not None else f"{'':16s} {'':9s} {'':7s} {'':7s} {'':8s}")
        print(f"{name:34s} {timing} {_agreement(flags, truth):6.3f} {precision:6.3f} {recall:6.3f}")
    print(f"ours, CPU time per rollout (this process + the child, what an idle core sees): "
          f"p50 {1000 * statistics.median(cpu_lat):.2f} ms, p99 {1000 * _percentile(cpu_lat, 0.99):.2f} ms, "
          f"max {1000 * max(cpu_lat):.1f} ms; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    if args.code:
        sandbox = Sandbox(SandboxConfig())
        problem = sandbox.unavailable()
        if problem:
            print(f"code: skipped ({problem})")
            return
        items = code_rollouts(args.code)
        verdicts, c_lat, c_wall = run_code(items, sandbox, config)
        right = sum((v == "correct") == good for v, (_, good, _, _) in zip(verdicts, items))
        runs, b_wall = run_bare(items)
        print(f"code: {len(items)} rollouts, {runs} test runs, one at a time: sandbox {len(items) / c_wall:,.1f} "
              f"rollouts/s wall, p50 {1000 * statistics.median(c_lat):.0f} ms, p99 "
              f"{1000 * _percentile(c_lat, 0.99):.0f} ms per rollout; verdicts right {right}/{len(items)}")
        print(f"      bare python -c (no sandbox, same runs): {len(items) / b_wall:,.1f} rollouts/s wall; "
              f"sandbox/bare time x{c_wall / b_wall:.2f} (CPU is not comparable: the sandbox's processes are "
              f"reaped inside its namespace)")


if __name__ == "__main__":
    main()
