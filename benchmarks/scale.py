"""Curate and mix at scale: CPU, wall and peak memory per stage, next to a naive script.

Builds synthetic R1-style rollouts from the real problems in ../shared/data (GSM8K
train, plus MATH-500 as the share a decontamination must catch): a ``<think>`` block
made of the problem's own worked solution, a re-check and some exploration taken
from other worked solutions, then a short answer with ``\\boxed{}``. The mix, per
rollout (seeded by its problem and sample index):

- correct (boxed gold answer) ~58%, incorrect (another problem's answer) ~18%;
- no answer (no ``\\boxed{}``) 4%, truncated at ``max_tokens`` (no ``</think>``) 7%;
- an exact duplicate of the problem's first sample 8%;
- language-mixed (a Chinese CMATH paragraph inside the English thinking) 5%.

``benchmarks/scale_data.py`` writes them, in its own process, as a sample stage's
output (Parquet shards ordered as the stage's writer orders them, and a manifest
built as ``reasoning-corpus sample`` builds it); this script then runs
``reasoning-corpus curate`` and ``reasoning-corpus mix`` on it as subprocesses, one
size after another. Each stage is measured with ``os.wait4`` on its process: CPU
seconds (user + system of the process and every child it waited for, e.g. the
math-verify child), wall seconds, and peak RSS (the largest of them). This parent
imports nothing heavy: on Linux a child's peak RSS counts what it inherited from the
process that started it. On the smallest size (or those of ``--naive-at``),
``benchmarks/naive.py`` (what a user would write: math-verify parse + verify,
langdetect and a datasketch MinHash + LSH loop, per rollout) runs on the same
rollouts, and the ratio of CPU per rollout is printed.

    .venv/bin/python benchmarks/scale.py [--sizes 2000,8000] [--naive-at 2000] [--no-naive] [--keep DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import List

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "benchmarks")
MANIFEST = "manifest.json"


def read_json(path: str):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def measure(cmd: List[str], log_path: str) -> dict:
    """Run ``cmd``; CPU (user + system, with its waited-for children), wall, peak RSS."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    start = time.monotonic()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        with open(log_path) as fh:
            tail = fh.read()[-3000:]
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{tail}")
    return {"cpu_s": usage.ru_utime + usage.ru_stime, "wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024}


def stage_cmd(stage: str, config_path: str, in_dir: str, out_dir: str) -> List[str]:
    return [sys.executable, "-m", "pipelines", stage, "--config", config_path, "--input", in_dir,
            "--output", out_dir, "--quiet"]


def run_size(count: int, work: str, naive: bool) -> List[dict]:
    folder = os.path.join(work, str(count))
    built = subprocess.run([sys.executable, os.path.join(BENCH, "scale_data.py"), "--count", str(count),
                            "--out", folder], check=True, capture_output=True, text=True,
                           env=dict(os.environ, PYTHONPATH=ROOT), cwd=ROOT)
    info = json.loads(built.stdout.strip().splitlines()[-1])
    print(f"# {count} rollouts (n={info['n']}): {json.dumps(info['kinds'], sort_keys=True)}", flush=True)
    config_path = os.path.join(folder, "scale.yaml")
    sample_dir, curate_dir, mix_dir = (os.path.join(folder, s) for s in ("sample", "curate", "mix"))
    results = []
    for stage, src, dst in (("curate", sample_dir, curate_dir), ("mix", curate_dir, mix_dir)):
        result = measure(stage_cmd(stage, config_path, src, dst), os.path.join(folder, f"{stage}.log"))
        manifest = read_json(os.path.join(dst, MANIFEST))
        result.update(stage=stage, rollouts=count, rows={k: v["rows"] for k, v in manifest["outputs"].items()})
        results.append(result)
        print_row(result)
    if naive:
        cmd = [sys.executable, os.path.join(BENCH, "naive.py"), "--input", sample_dir,
               "--json", os.path.join(folder, "naive.json")]
        result = measure(cmd, os.path.join(folder, "naive.log"))
        result.update(stage="naive", rollouts=count, rows=read_json(os.path.join(folder, "naive.json")))
        results.append(result)
        print_row(result)
    return results


HEADER = f"{'stage':8s} {'rollouts':>9s} {'CPU s':>8s} {'wall s':>8s} {'peak RSS MB':>12s} " \
         f"{'CPU s/1K':>9s} {'MB/1K':>7s}  rows"


def print_row(r: dict) -> None:
    per_k = r["rollouts"] / 1000
    print(f"{r['stage']:8s} {r['rollouts']:9d} {r['cpu_s']:8.1f} {r['wall_s']:8.1f} {r['peak_rss_mb']:12.0f} "
          f"{r['cpu_s'] / per_k:9.2f} {r['peak_rss_mb'] / per_k:7.1f}  {json.dumps(r['rows'], sort_keys=True)}",
          flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="2000,8000",
                        help="rollout counts, comma-separated (e.g. 16000,64000,256000)")
    parser.add_argument("--naive-at", default="",
                        help="sizes to run the naive script on, comma-separated (default: the smallest)")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive script")
    parser.add_argument("--keep", help="work in this folder and keep it (default: a temporary folder, removed)")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    naive_at = set() if args.no_naive else {int(s) for s in args.naive_at.split(",") if s} or {sizes[0]}
    work = args.keep or tempfile.mkdtemp(prefix="scale-bench-")
    load = os.getloadavg()
    print(f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"CPU s = user + system of the stage's process and its children (os.wait4)")
    print(HEADER, flush=True)
    results = []
    try:
        for count in sizes:
            results += run_size(count, work, naive=count in naive_at)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    for naive in (r for r in results if r["stage"] == "naive"):
        curate = next(r for r in results if r["stage"] == "curate" and r["rollouts"] == naive["rollouts"])
        print(f"curate vs naive script, CPU per rollout on {curate['rollouts']} rollouts: "
              f"{naive['cpu_s'] / curate['cpu_s']:.2f}x (naive {1000 * naive['cpu_s'] / naive['rollouts']:.1f} ms, "
              f"curate {1000 * curate['cpu_s'] / curate['rollouts']:.1f} ms per rollout)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"load": load, "results": results}, fh, indent=1)


if __name__ == "__main__":
    main()
