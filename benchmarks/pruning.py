"""Redundant re-verification pruning on real long chains of thought (issue: shorter
thinking at equal correctness).

Reads Sky-T1's generations on MATH-500 and Minerva (``../shared/data/sky_t1_long_cot``,
graded by Qwen2.5-Math's grader: ``score``) exactly as stored, and for each file prints:
traces in, traces the grader marked correct, traces that verify correct with this
project's verifier (math-verify in its child process, against the file's gold answer),
how many of those were pruned (and why the others were not), the mean thinking tokens
of the kept correct traces before and after, and how many pruned traces still verify
correct: the pruned completion (kept thinking + the answer section, or the kept thinking
alone where the trace has no answer section) and, stricter, the last kept paragraph
that states the answer, read as an answer on its own. The baseline is the same traces
unpruned, in the same run: the thinking-token figure is a ratio (after / before).

    .venv/bin/python benchmarks/pruning.py [--data ../shared/data/sky_t1_long_cot]
        [--max-reflections 1] [--gap 1] [--limit N]

Goals: mean thinking tokens of the kept correct traces fall by >= 25%; >= 98% of the
traces that verified correct before still verify correct after.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from transforms.text.extract import THINK_CLOSE, THINK_OPEN  # noqa: E402
from transforms.text.reflections import prune_reasoning  # noqa: E402
from transforms.verify.config import VerifyConfig  # noqa: E402
from transforms.verify.dispatch import normalize_gold  # noqa: E402
from transforms.verify.mathcheck import MathVerifierProcess  # noqa: E402
from transforms.verify.routes.math import verify_math  # noqa: E402

DEFAULT_DATA = os.path.join(os.path.dirname(ROOT), "shared", "data", "sky_t1_long_cot")
FILES = ("math500.jsonl", "minerva_math.jsonl")
BEGIN_THOUGHT, END_THOUGHT = "<|begin_of_thought|>", "<|end_of_thought|>"
BEGIN_SOLUTION, END_SOLUTION = "<|begin_of_solution|>", "<|end_of_solution|>"


def split_trace(generation: str):
    """(thinking, answer section) of a Sky-T1 generation; a generation without the
    thought markers is all thinking, with no answer section."""
    if BEGIN_THOUGHT not in generation:
        return generation.strip(), ""
    thinking = generation.split(BEGIN_THOUGHT, 1)[1]
    if END_THOUGHT not in thinking:
        return thinking.strip(), ""
    thinking, solution = thinking.split(END_THOUGHT, 1)
    return thinking.strip(), solution.replace(BEGIN_SOLUTION, "").replace(END_SOLUTION, "").strip()


def completion(thinking: str, solution: str) -> str:
    """The trace in R1's format, as the verifier reads a rollout."""
    return f"{THINK_OPEN}\n{thinking}\n{THINK_CLOSE}\n\n{solution}" if solution else thinking


def run_file(path: str, verifier, config: VerifyConfig, args) -> dict:
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    if args.limit:
        rows = rows[:args.limit]
    out = collections.Counter(traces=len(rows))
    reasons: collections.Counter = collections.Counter()
    before, after, guarded = [], [], []
    for row in rows:
        generation = row["code"][0] if isinstance(row["code"], list) else row["code"]
        gold = normalize_gold(str(row.get("gt") or row.get("answer")))
        out["grader_correct"] += "True" in str(row.get("score"))
        thinking, solution = split_trace(generation)
        verified = verify_math(completion(thinking, solution), gold, verifier, config)
        if verified["verdict"] != "correct":
            continue
        out["verified_correct"] += 1
        # the answer the verifier extracted and found correct, as the curate step cuts at it
        cut = prune_reasoning(thinking, verified["extracted_answer"], args.max_reflections, args.gap)
        reasons[cut.reason] += 1
        before.append(cut.tokens_before)
        after.append(cut.tokens_after)
        if not cut.pruned:
            out["still_correct"] += 1
            out["statement_correct"] += 1
            guarded.append(cut.tokens_before)
            continue
        out["pruned"] += 1
        pruned = verify_math(completion(cut.text, solution), gold, verifier, config)["verdict"]
        out["still_correct"] += pruned == "correct"
        stated = verify_math(cut.last_statement, gold, verifier, config)["verdict"]
        out["statement_correct"] += stated == "correct"
        # the curate step's guard: a cut whose completion no longer verifies keeps the original
        guarded.append(cut.tokens_after if pruned == "correct" else cut.tokens_before)
        out["guard_kept_original"] += pruned != "correct"
    out["reasons"] = dict(reasons)
    out["mean_before"] = statistics.mean(before) if before else 0.0
    out["mean_after"] = statistics.mean(after) if after else 0.0
    out["mean_guarded"] = statistics.mean(guarded) if guarded else 0.0
    return dict(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--max-reflections", type=int, default=1)
    parser.add_argument("--gap", type=int, default=1)
    parser.add_argument("--limit", type=int, default=0, help="first N traces of each file (0: all)")
    args = parser.parse_args(argv)
    config = VerifyConfig()
    print(f"max_reflections={args.max_reflections} gap={args.gap}; thinking tokens estimated "
          "(transforms.text.length.estimate_tokens); baseline: the same traces unpruned")
    with MathVerifierProcess(config.start_timeout_s, config.memory_limit_mb) as verifier:
        for name in FILES:
            r = run_file(os.path.join(args.data, name), verifier, config, args)
            ratio = r["mean_after"] / r["mean_before"] if r["mean_before"] else 1.0
            n = r.get("verified_correct", 0)
            print(f"{name}: {r['traces']} traces, {r.get('grader_correct', 0)} correct by the grader, "
                  f"{n} verify correct here; pruned {r.get('pruned', 0)} {r['reasons']}")
            print(f"  mean thinking tokens of the correct traces: {r['mean_before']:.0f} -> "
                  f"{r['mean_after']:.0f} (x{ratio:.3f}, -{(1 - ratio) * 100:.1f}%)")
            guarded = r["mean_guarded"] / r["mean_before"] if r["mean_before"] else 1.0
            print(f"  with the guard (a cut that no longer verifies keeps the original: "
                  f"{r.get('guard_kept_original', 0)}): {r['mean_guarded']:.0f} (x{guarded:.3f}, "
                  f"-{(1 - guarded) * 100:.1f}%), all still correct")
            print(f"  still verify correct after pruning, without the guard: {r.get('still_correct', 0)}/{n} "
                  f"({100 * r.get('still_correct', 0) / max(n, 1):.1f}%); the last kept statement alone: "
                  f"{r.get('statement_correct', 0)}/{n} ({100 * r.get('statement_correct', 0) / max(n, 1):.1f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
