"""The scale benchmark's data: synthetic R1-style rollouts from real problems, written
as a sample stage's output (see ``benchmarks/scale.py``, which runs this as its own
process so that the benchmark's parent stays small: a child's peak RSS on Linux
counts what it inherited from the process that started it).

    .venv/bin/python benchmarks/scale_data.py --count 2000 --out FOLDER
      (writes FOLDER/scale.yaml and FOLDER/sample; prints {"n": ..., "kinds": {...}})
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import re
import sys
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

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


def load_problems(config: RunConfig, limit: Optional[int] = None) -> List[Tuple[Problem, str]]:
    """(Problem as ingest maps it, its worked solution) for every row of every source
    (the first ``limit`` rows of each, when given: a quick test)."""
    out = []
    for source in config.sources:
        for file, line, record in itertools.islice(read_jsonl(source.path, config.ingest.max_line_bytes), limit):
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


def write_sample_stage(config: RunConfig, out_dir: str, count: int, limit: Optional[int] = None) -> Dict[str, int]:
    """The sample stage's outputs and manifest for ``count`` synthetic rollouts; kinds counted
    (``limit``: problems read per source, see :func:`load_problems`)."""
    problems = load_problems(config, limit)
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


def build(count: int, folder: str) -> dict:
    """FOLDER/scale.yaml and FOLDER/sample for ``count`` rollouts; returns n and the kinds."""
    os.makedirs(folder, exist_ok=True)
    # n: rollouts per problem, at least MIN_N, more where the problems run out
    _, n = pick_problems(load_problems(load_config(write_config(folder, count, MIN_N))), count)
    config = load_config(write_config(folder, count, n))
    return {"n": n, "kinds": write_sample_stage(config, os.path.join(folder, "sample"), count)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    print(json.dumps(build(args.count, args.out), sort_keys=True))


if __name__ == "__main__":
    main()
