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

It writes them as a sample stage's output (Parquet shards ordered as the stage's
writer orders them, and a manifest built as ``reasoning-corpus sample`` builds it),
then runs ``reasoning-corpus curate`` and ``reasoning-corpus mix`` on it as
subprocesses, one size after another. Each stage is measured with ``os.wait4`` on
its process: CPU seconds (user + system of the process and every child it waited
for, e.g. the math-verify child), wall seconds, and peak RSS (the largest of them).
On the smallest size, ``benchmarks/naive.py`` (what a user would write: math-verify
parse + verify, langdetect and a datasketch MinHash + LSH loop, per rollout) runs on
the same rollouts, and the ratio of CPU per rollout is printed.

    .venv/bin/python benchmarks/scale.py [--sizes 2000,8000] [--no-naive] [--keep DIR]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Dict, Iterator, List, Sequence, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from pipelines import launch  # noqa: E402
from pipelines.config import RunConfig, load_config  # noqa: E402
from pipelines.sample import OUTPUTS  # noqa: E402
from publish import accounting  # noqa: E402
from publish.manifest import relativize  # noqa: E402
from schemas.records import Problem, Rollout, project, to_dict  # noqa: E402
from transforms.core import derive_seed  # noqa: E402
from transforms.core import io as rio  # noqa: E402
from transforms.core.readers import read_jsonl  # noqa: E402
from transforms.ingest.presets import to_problem  # noqa: E402
from transforms.sample import ids  # noqa: E402
from transforms.sample.prompts import build_messages, split_completion  # noqa: E402

DATA = os.path.join(ROOT, "..", "shared", "data")
MODEL = "deepseek-ai/DeepSeek-R1"

CONFIG = """\
seed: 1234
sources:
  - {{name: gsm8k, path: {data}/gsm8k/train.jsonl, preset: gsm8k, domain: math, language: en}}
  - {{name: math, path: {data}/math500/test.jsonl, preset: math, domain: math, language: en}}
sample:
  backend: openai
  base_url: http://127.0.0.1:8000/v1
  model: {model}
  temperature: 0.6
  top_p: 0.95
  n: {n}
  max_tokens: 8192
curate:
  verify: {{timeout_s: 10}}
  filters: {{max_reasoning_tokens: 8192}}
  decontam:
    benchmarks:
      - {{name: math500, path: {data}/math500/test.jsonl}}
      - {{name: gsm8k_test, path: {data}/gsm8k/test.jsonl}}
mix:
  reasoning: {count}
  knowledge: 0
  per_prompt_cap: 4
"""

#: (kind, share): what each synthetic rollout is.
KINDS = (("correct", 0.58), ("incorrect", 0.18), ("no_answer", 0.04), ("truncated", 0.07),
         ("duplicate", 0.08), ("language_mixed", 0.05))
#: Share of the problems taken from MATH-500 (a benchmark: decontamination rejects them).
BENCHMARK_SHARE = 0.05
#: Rollouts per problem at least (R1 sampled several per prompt); more when problems run out.
MIN_N = 4


def write_config(folder: str, count: int, n: int) -> str:
    path = os.path.join(folder, "scale.yaml")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(CONFIG.format(data=os.path.abspath(DATA), model=MODEL, n=n, count=count))
    return path


def _solution_text(source: str, record: dict) -> str:
    """The worked solution of a GSM8K or MATH row, as prose (calculator notes and figures removed)."""
    if source == "gsm8k":
        return re.sub(r"<<[^>]*>>", "", record["answer"].partition("####")[0]).strip()
    return re.sub(r"\[asy\].*?\[/asy\]", "", record["solution"], flags=re.S).strip()


def load_problems(config: RunConfig) -> List[Tuple[Problem, str]]:
    """(Problem as ingest maps it, its worked solution) for every row of every source."""
    out = []
    for source in config.sources:
        for file, line, record in read_jsonl(source.path, config.ingest.max_line_bytes):
            problem = to_problem(record, source, file, line, config.seed, config.config_hash)
            out.append((problem, _solution_text(source.name, record)))
    return out


def chinese_paragraphs() -> List[str]:
    with open(os.path.join(DATA, "qwen_math_eval", "cmath", "test.jsonl"), encoding="utf-8") as fh:
        return [json.loads(line)["question"] for line in fh]


def pick_problems(problems, count: int) -> Tuple[list, int]:
    """The problems sampled for ``count`` rollouts (GSM8K, then a MATH-500 share), and n."""
    gsm = [p for p in problems if p[0].source == "gsm8k"]
    bench = [p for p in problems if p[0].source == "math"]
    n = max(MIN_N, math.ceil(count / (len(gsm) + len(bench))))
    wanted = math.ceil(count / n)
    n_bench = min(len(bench), max(1, round(wanted * BENCHMARK_SHARE)))
    return gsm[:wanted - n_bench] + bench[:n_bench], n


def _kind(rng: random.Random, sample_index: int) -> str:
    roll = rng.random()
    for kind, share in KINDS:
        if roll < share:
            return "correct" if kind == "duplicate" and sample_index == 0 else kind
        roll -= share
    return "correct"


def _thinking(rng: random.Random, problem: Problem, solution: str, pool: List[Tuple[Problem, str]]) -> str:
    first = problem.prompt.split(". ")[0].strip()
    paragraphs = [f"Okay, let's see. {first}. I need to work this out step by step.", solution,
                  "Wait, let me double-check that. Going through it again:",
                  "\n".join(line for line in solution.splitlines()[-2:])]
    target = rng.randint(1500, 6000)
    while sum(map(len, paragraphs)) < target:
        other = pool[rng.randrange(len(pool))][1]
        paragraphs.insert(len(paragraphs) - 2, "Hmm, maybe another way to think about it. " + other)
    paragraphs.append(f"So the answer should be {problem.reference_answer}.")
    return "\n\n".join(paragraphs)


def make_completion(problem: Problem, solution: str, sample_index: int, pool, chinese, seed: int):
    """(kind, completion, finish_reason) of one synthetic rollout."""
    rng = random.Random(derive_seed(seed, "scale", problem.problem_id, sample_index))
    kind = _kind(rng, sample_index)
    if kind == "duplicate":  # the same text as sample 0
        return kind, make_completion(problem, solution, 0, pool, chinese, seed)[1], "stop"
    thinking = _thinking(rng, problem, solution, pool)
    gold = problem.reference_answer
    if kind == "language_mixed":
        middle = thinking.find("\n\n", len(thinking) // 2)
        thinking = thinking[:middle] + "\n\n" + chinese[rng.randrange(len(chinese))] + thinking[middle:]
    if kind == "truncated":
        return kind, "<think>\n" + thinking[: int(len(thinking) * rng.uniform(0.5, 0.9))], "length"
    if kind == "no_answer":
        answer = "I could not settle on a single value; the steps above are my best attempt."
    else:
        shown = gold if kind != "incorrect" else pool[rng.randrange(len(pool))][0].reference_answer
        if shown == gold:
            shown = f"{gold}1" if kind == "incorrect" else gold
        answer = f"Following the steps above, the final answer is $\\boxed{{{shown}}}$."
    return kind, f"<think>\n{thinking}\n</think>\n\n{answer}", "stop"


def build_rollouts(config: RunConfig, count: int, problems=None) -> Iterator[Tuple[str, Rollout]]:
    """``count`` (kind, Rollout) pairs, as the sample stage would record them."""
    problems = problems if problems is not None else load_problems(config)
    chosen, n = pick_problems(problems, count)
    chinese = chinese_paragraphs()
    params = ids.sampling_params(config.sample, config.seed)
    key = ids.model_key(config.sample)
    made = 0
    for problem, solution in chosen:
        prompt_text = json.dumps(build_messages(problem.prompt, config.sample), ensure_ascii=False)
        for i in range(n):
            if made == count:
                return
            kind, completion, finish = make_completion(problem, solution, i, problems, chinese, config.seed)
            reasoning, answer = split_completion(completion, problem.kind)
            tokens = config.sample.max_tokens if finish == "length" else len(completion) // 4
            yield kind, project(
                Rollout, problem, rollout_id=ids.rollout_id(problem.problem_id, prompt_text, key, params, i),
                sample_index=i, sample_seed=ids.sample_seed(config.seed, problem.problem_id, i),
                teacher_model=config.sample.model, teacher_revision=None, backend=config.sample.backend,
                temperature=config.sample.temperature, top_p=config.sample.top_p,
                max_tokens=config.sample.max_tokens, completion=completion, reasoning=reasoning,
                answer=answer, finish_reason=finish, prompt_tokens=len(prompt_text) // 4,
                completion_tokens=tokens, latency_s=round(tokens / 40.0, 3))
            made += 1


def _write_sorted(prefix: str, records: Sequence, cls, max_rows: int, compression: str) -> None:
    """Shards as ``rio.WriteParquetShards`` lays them out: ranked by (id bucket, id),
    ``max_rows`` per shard, each shard sorted by id."""
    ranked = sorted(records, key=lambda r: (rio._bucket(r[0]), r[0]))
    count = max(1, math.ceil(len(ranked) / max_rows)) if ranked else 0
    for shard in range(count):
        part = sorted(ranked[shard * max_rows:(shard + 1) * max_rows], key=lambda r: r[0])
        rio.write_table(rio.shard_path(prefix, shard, count), [row for _, row in part], cls, compression)


def write_sample_stage(config: RunConfig, out_dir: str, count: int) -> Dict[str, int]:
    """The sample stage's outputs and manifest for ``count`` synthetic rollouts; kinds counted."""
    problems = load_problems(config)
    kinds: Dict[str, int] = {}
    rows, sampled = [], {}
    for kind, rollout in build_rollouts(config, count, problems):
        kinds[kind] = kinds.get(kind, 0) + 1
        rows.append((rollout.rollout_id, to_dict(rollout)))
        sampled[rollout.problem_id] = True
    by_id = {p.problem_id: p for p, _ in problems}
    os.makedirs(out_dir, exist_ok=True)
    out = config.output
    _write_sorted(rio.join(out_dir, "problems"), [(pid, to_dict(by_id[pid])) for pid in sampled], Problem,
                  out.max_rows_per_shard, out.compression)
    _write_sorted(rio.join(out_dir, "rollouts"), rows, Rollout, out.max_rows_per_shard, out.compression)
    outputs = accounting.collect(out_dir, OUTPUTS)
    problems_n, rollouts_n = outputs["problems"]["rows"], outputs["rollouts"]["rows"]
    lines = {"ingest": accounting.check_balance("ingest", problems_n, problems=problems_n, rejected=0, dead=0),
             "sample": accounting.check_balance("sample", problems_n, sampled=len(sampled), rejected=0, dead=0)}
    lines["sample"]["rollouts"] = rollouts_n
    manifest = launch.base_manifest("sample", config)
    manifest.update(outputs=relativize(outputs, out_dir), funnel=accounting.funnel(outputs), accounting=lines,
                    counters={}, resume={"journal_chunks_read": 0, "rollouts_reused": None,
                                         "rollouts_generated": rollouts_n, "teacher_loads": 0},
                    synthetic={"benchmark": "benchmarks/scale.py", "kinds": kinds})
    launch.publish_manifest(out_dir, manifest, [out_dir])
    return kinds


def measure(cmd: List[str], log_path: str) -> dict:
    """Run ``cmd``; CPU (user + system, with its waited-for children), wall, peak RSS."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
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
    os.makedirs(folder, exist_ok=True)
    # n: rollouts per problem, at least MIN_N, more where the problems run out
    _, n = pick_problems(load_problems(load_config(write_config(folder, count, MIN_N))), count)
    config = load_config(write_config(folder, count, n))
    config_path = os.path.join(folder, "scale.yaml")
    sample_dir, curate_dir, mix_dir = (os.path.join(folder, s) for s in ("sample", "curate", "mix"))
    kinds = write_sample_stage(config, sample_dir, count)
    print(f"# {count} rollouts (n={n}): {json.dumps(kinds, sort_keys=True)}", flush=True)
    results = []
    for stage, src, dst in (("curate", sample_dir, curate_dir), ("mix", curate_dir, mix_dir)):
        result = measure(stage_cmd(stage, config_path, src, dst), os.path.join(folder, f"{stage}.log"))
        manifest = rio.read_json(os.path.join(dst, rio.MANIFEST))
        result.update(stage=stage, rollouts=count, rows={k: v["rows"] for k, v in manifest["outputs"].items()})
        results.append(result)
        print_row(result)
    if naive:
        cmd = [sys.executable, os.path.join(ROOT, "benchmarks", "naive.py"), "--input", sample_dir,
               "--json", os.path.join(folder, "naive.json")]
        result = measure(cmd, os.path.join(folder, "naive.log"))
        result.update(stage="naive", rollouts=count, rows=rio.read_json(os.path.join(folder, "naive.json")))
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
    parser.add_argument("--no-naive", action="store_true", help="skip the naive script (on the smallest size)")
    parser.add_argument("--keep", help="work in this folder and keep it (default: a temporary folder, removed)")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    work = args.keep or tempfile.mkdtemp(prefix="scale-bench-")
    load = os.getloadavg()
    print(f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"CPU s = user + system of the stage's process and its children (os.wait4)")
    print(HEADER, flush=True)
    results = []
    try:
        for i, count in enumerate(sizes):
            results += run_size(count, work, naive=i == 0 and not args.no_naive)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    curate = next(r for r in results if r["stage"] == "curate")
    naive = next((r for r in results if r["stage"] == "naive"), None)
    if naive:
        print(f"curate vs naive script, CPU per rollout on {curate['rollouts']} rollouts: "
              f"{naive['cpu_s'] / curate['cpu_s']:.2f}x (naive {1000 * naive['cpu_s'] / naive['rollouts']:.1f} ms, "
              f"curate {1000 * curate['cpu_s'] / curate['rollouts']:.1f} ms per rollout)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"load": load, "results": results}, fh, indent=1)


if __name__ == "__main__":
    main()
