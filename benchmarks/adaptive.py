"""Adaptive sampling budget against fixed n: teacher tokens per accepted example.

Both runs sample the same problems through the sample stage's transforms (fixed n:
``GenerateRollouts``; adaptive: ``AdaptiveRollouts`` with the curate verifier between
rounds) with the ``openai`` backend against a replay teacher
(:mod:`benchmarks.replay_teacher`): a real loopback server answering from recorded
rollouts of a real model, with latency. The tokens are what the server was asked for
(its request log); an accepted example is a verified-correct rollout, at most ``k`` per
problem (the same ``k`` for both). Ratios are adaptive against fixed n, in one process.

Record first (the tiny model's own rollouts; keep them out of the repository):

    reasoning-corpus sample --config benchmarks/adaptive_record.yaml --output /tmp/adaptive-rec/out
    python benchmarks/adaptive.py --recording /tmp/adaptive-rec/out --k 2 --first 2 --step 2

(``docs/performance.md`` has the recording config and the figures.)
"""
from __future__ import annotations

import argparse
import collections
import dataclasses
import glob
import json
import os
import sys
import tempfile
from typing import Dict, List, Tuple

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import apache_beam as beam  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from benchmarks.replay_teacher import ReplayTeacher  # noqa: E402
from schemas.records import Problem, Rollout, from_dict, project, to_dict  # noqa: E402
from transforms.sample.adaptive import AdaptiveConfig  # noqa: E402
from transforms.sample.config import SampleConfig  # noqa: E402
from transforms.sample.rounds import AdaptiveRollouts  # noqa: E402
from transforms.sample.transform import GenerateRollouts  # noqa: E402
from transforms.verify.checker import AnswerChecker  # noqa: E402


def recorded(folder: str, n: int) -> Tuple[List[Rollout], int]:
    """The recorded rollouts 0..n-1 of the problems that have every one of them."""
    paths = sorted(glob.glob(os.path.join(folder, "rollouts-*.parquet"))) or sorted(
        glob.glob(os.path.join(folder, "journal", "chunk-*.parquet")))
    rows = {}
    for path in paths:
        for row in pq.read_table(path).to_pylist():
            rows[row["rollout_id"]] = from_dict(Rollout, row)
    by_problem: Dict[str, Dict[int, Rollout]] = collections.defaultdict(dict)
    for r in rows.values():
        by_problem[r.problem_id][r.sample_index] = r
    complete = [v for v in by_problem.values() if all(i in v for i in range(n))]
    return [v[i] for v in complete for i in range(n)], n


def run_variant(config: SampleConfig, problems: List[Problem], seed: int, out: str) -> List[Rollout]:
    """Run one sampling variant in a Beam pipeline; the rollouts it kept."""
    with beam.Pipeline(argv=["--runner=DirectRunner"]) as pipeline:
        made = pipeline | beam.Create(problems)
        if config.adaptive.enabled:
            result = made | AdaptiveRollouts(config, seed, "bench", AnswerChecker())
        else:
            result = made | GenerateRollouts(config, seed, "bench")
        _ = (result.kept | beam.Map(lambda r: json.dumps(to_dict(r), default=str))
             | beam.io.WriteToText(os.path.join(out, "rollouts"), file_name_suffix=".jsonl"))
    rows = []
    for path in sorted(glob.glob(os.path.join(out, "rollouts*.jsonl"))):
        with open(path, encoding="utf-8") as fh:
            rows.extend(from_dict(Rollout, json.loads(line)) for line in fh)
    return rows


def accepted(rollouts: List[Rollout], verdicts: Dict[Tuple[str, int], str], k: int) -> int:
    correct: Dict[str, int] = collections.Counter()
    for r in rollouts:
        correct[r.problem_id] += verdicts[(r.problem_id, r.sample_index)] == "correct"
    return sum(min(k, c) for c in correct.values())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recording", required=True, help="a sample stage output folder (or its journal)")
    parser.add_argument("--n", type=int, default=8, help="fixed n, and adaptive's most per problem")
    parser.add_argument("--k", type=int, default=2)
    parser.add_argument("--first", type=int, default=2)
    parser.add_argument("--step", type=int, default=2)
    parser.add_argument("--give-up-after", type=int, default=0)
    parser.add_argument("--tokens-per-s", type=float, default=400.0, help="the replay teacher's decoding speed")
    args = parser.parse_args(argv)
    rows, n = recorded(args.recording, args.n)
    problems = list({r.problem_id: project(Problem, r) for r in rows}.values())
    seed = rows[0].seed
    checker = AnswerChecker()
    verdicts = {(r.problem_id, r.sample_index): checker(r, r.answer or r.completion)["verdict"] for r in rows}
    checker.teardown()
    by_level = collections.Counter((r.difficulty, verdicts[(r.problem_id, r.sample_index)] == "correct") for r in rows)
    print(f"recording: {len(problems)} problems x {n} samples; correct by difficulty: "
          + ", ".join(f"{d}: {by_level[(d, True)]}/{by_level[(d, True)] + by_level[(d, False)]}"
                      for d in sorted({d for d, _ in by_level})))
    base = SampleConfig(backend="openai", model="replay", n=n, temperature=rows[0].temperature, top_p=rows[0].top_p,
                        max_tokens=rows[0].max_tokens, batch_size=4, concurrency=32, api_key_env=None,
                        base_url="http://127.0.0.1:1/v1")  # the replay server's, once it runs
    variants = {
        "fixed n": base,
        "adaptive": dataclasses.replace(base, adaptive=AdaptiveConfig(
            enabled=True, first=args.first, step=args.step, k=args.k, give_up_after=args.give_up_after)),
    }
    results = {}
    with ReplayTeacher(rows, tokens_per_s=args.tokens_per_s) as teacher:
        for name, config in variants.items():
            config = dataclasses.replace(config, base_url=teacher.base_url)
            teacher.requests.clear()
            with tempfile.TemporaryDirectory(prefix="adaptive-bench-") as out:
                kept = run_variant(config, problems, seed, out)
            original = {(r.problem_id, r.sample_index): r.completion for r in rows}
            assert all(original[(r.problem_id, r.sample_index)] == r.completion for r in kept)
            totals = teacher.totals()
            results[name] = dict(totals, rollouts=len(kept), accepted=accepted(kept, verdicts, args.k))
    fixed = results["fixed n"]
    print(f"k={args.k}, n={n}, adaptive first={args.first} step={args.step} give_up_after={args.give_up_after}")
    print(f"{'variant':10} {'requests':>8} {'prompt tok':>10} {'compl tok':>10} {'accepted':>8} "
          f"{'tok/accepted':>12} {'tokens vs fixed':>15} {'accepted vs fixed':>17}")
    for name, r in results.items():
        tokens = r["prompt_tokens"] + r["completion_tokens"]
        per = tokens / r["accepted"] if r["accepted"] else float("inf")
        ratio = tokens / (fixed["prompt_tokens"] + fixed["completion_tokens"])
        print(f"{name:10} {r['requests']:>8} {r['prompt_tokens']:>10} {r['completion_tokens']:>10} "
              f"{r['accepted']:>8} {per:>12.1f} {ratio:>15.3f} {r['accepted'] / fixed['accepted']:>17.3f}")
    saved = 1 - (results["adaptive"]["completion_tokens"] / fixed["completion_tokens"])
    print(f"adaptive: {saved:.1%} fewer completion tokens, "
          f"{results['adaptive']['accepted'] / fixed['accepted']:.1%} of fixed n's accepted examples")


if __name__ == "__main__":
    main()
