"""Verification of real long chains of thought: ``verify --input`` against math-verify
called directly, on the same items, side by side in this process.

Data: Sky-T1's generations on MATH-500 and Minerva (``../shared/data/sky_t1_long_cot``,
both files, read as its README says: the generation is the one item of ``code``, the
gold is ``answer`` for MATH-500 and ``gt`` for Minerva, the label is ``score``).

- ``verify --input``: :func:`publish.verify_file.verify_file` on each file as it is,
  with ``--fields prompt=question,response=code,reference_answer=…`` (extraction of
  the answer section, the exact path, the batched math-verify child with its
  wall-clock bound); its output lines are the verdicts;
- ``math-verify direct``: ``parse(gold)``, ``parse(generation)``, ``verify`` with
  math-verify's defaults (its own extraction and timeouts), the way it is usually
  called; each item on its own.

CPU time is this process plus its children (the math-verify child included, its
start-up too); math-verify's own import and lazy start-up are left out of the direct
run. Agreement is with the file's labels (correct or not).

    cd /work/main && .venv/bin/python benchmarks/verify_long.py [--every 1] [--data DIR]
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.abspath(os.path.dirname(__file__)))
sys.path.insert(0, ROOT)

from publish.verify_file import verify_file  # noqa: E402
from transforms.verify.config import VerifyConfig  # noqa: E402

DEFAULT_DATA = os.path.join(os.path.dirname(ROOT), "shared", "data", "sky_t1_long_cot")
#: file → the field holding its gold answer (README: ``gt`` / ``answer``).
FILES = {"math500.jsonl": "answer", "minerva_math.jsonl": "gt"}


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def read(path: str, every: int) -> list:
    with open(path, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return rows[::every]


def run_ours(path: str, gold_field: str, workdir: str) -> tuple:
    """(output rows, CPU seconds) of ``verify --input`` on ``path``."""
    out = os.path.join(workdir, os.path.basename(path) + ".verdicts.jsonl")
    fields = {"prompt": "question", "response": "code", "reference_answer": gold_field}
    started = _cpu()
    verify_file(path, out, VerifyConfig(), fields=fields)
    cpu = _cpu() - started
    with open(out, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh], cpu


def run_direct(rows: list, gold_field: str) -> tuple:
    """(correct flags, CPU seconds, timeouts or errors) of math-verify's usual call."""
    from math_verify import parse, verify

    parse("$1$")  # its lazy start-up is not an item's
    flags, failures = [], 0
    started = _cpu()
    for row in rows:
        try:
            flags.append(bool(verify(parse(f"${row[gold_field]}$"), parse(row["code"][0]))))
        except Exception:  # math-verify's own timeout or a parse failure: not correct
            flags.append(False)
            failures += 1
    return flags, _cpu() - started, failures


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=DEFAULT_DATA, help="the sky_t1_long_cot folder")
    parser.add_argument("--every", type=int, default=1, help="every Nth item only (a quicker run)")
    args = parser.parse_args(argv)
    totals: collections.Counter = collections.Counter()
    with tempfile.TemporaryDirectory(prefix="verify-long-") as workdir:
        for name, gold_field in FILES.items():
            path = os.path.join(args.data, name)
            rows = read(path, args.every)
            if args.every > 1:  # ours reads a file: the same subset, written as it was
                path = os.path.join(workdir, name)
                with open(path, "w", encoding="utf-8") as fh:
                    fh.writelines(json.dumps(row) + "\n" for row in rows)
            labels = [bool(row["score"][0]) for row in rows]
            verdicts, ours_cpu = run_ours(path, gold_field, workdir)
            direct, direct_cpu, failures = run_direct(rows, gold_field)
            ours = [v["verdict"] == "correct" for v in verdicts]
            routes = collections.Counter(
                "no answer" if v["verdict"] == "no_answer" else
                "math-verify child" if v["verifier"] == "math-verify" else "exact path" for v in verdicts)
            sizes = sorted(len(row["code"][0]) for row in rows)
            print(f"{name}: {len(rows)} generations (median {sizes[len(sizes) // 2] / 1000:.1f} KB, "
                  f"max {sizes[-1] / 1000:.1f} KB); routes {json.dumps(dict(routes))}; "
                  f"timeouts ours {sum(v['verdict'] == 'timeout' for v in verdicts)}, direct failures {failures}")
            for label, flags, cpu in (("verify --input", ours, ours_cpu), ("math-verify direct", direct, direct_cpu)):
                agree = sum(f == lab for f, lab in zip(flags, labels))
                print(f"  {label:20s} CPU {cpu:7.2f} s  {len(rows) / cpu:8.1f} items/CPU-s  "
                      f"x{direct_cpu / cpu:5.1f}  agreement {agree / len(rows):.3f}")
                totals[label, "cpu"] += cpu
                totals[label, "agree"] += agree
            totals["n"] += len(rows)
    n = totals["n"]
    print(f"both files: {n} generations")
    for label in ("verify --input", "math-verify direct"):
        cpu = totals[label, "cpu"]
        print(f"  {label:20s} CPU {cpu:7.2f} s  {n / cpu:8.1f} items/CPU-s  "
              f"x{totals['math-verify direct', 'cpu'] / cpu:5.1f}  agreement {totals[label, 'agree'] / n:.3f}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M')}")


if __name__ == "__main__":
    main()
