"""Issue #13's acceptance run: one ``reasoning-corpus run`` over small slices of the real
sets in ../shared/data, each loaded as the README shows (presets, nothing converted):
GSM8K (gold), MATH-500 with its answers withheld (majority vote), HumanEval and MBPP
(their tests, in the real bubblewrap sandbox), MMLU-STEM (multiple choice), Alpaca
(imported general data, judged by the real loopback grader through the ``openai``
backend) and two logic generators. The teacher is a scripted real OpenAI-compatible
loopback server (``tests/r1_teacher.py``) that answers from the files (some answers
wrong, Knights and Knaves always incomplete); every verdict comes from the pipeline's
own verifiers. Every domain ends with rows, every shortfall has its reasons counted,
and each stage's books balance from the Parquet files."""
import glob
import json
import os
import shutil
from collections import Counter

import pyarrow.parquet as pq
import pytest

from pipelines import cli
from tests import grader_server, r1_teacher
from tests.code_support import DATA
from transforms.verify.sandbox.runner import Sandbox

LIMITS = {"gsm8k": 3, "math500": 3, "humaneval": 2, "mbpp": 2, "mmlu_stem": 3, "alpaca": 3}
GENERATED = {"countdown": 2, "knights_knaves": 2}
N = 3
DOMAIN = {"gsm8k": "math", "math500": "math", "humaneval": "code", "mbpp": "code", "mmlu_stem": "stem",
          "countdown": "logic", "knights_knaves": "logic", "alpaca": "general"}


def _path(relative: str) -> str:
    return os.path.abspath(os.path.join(DATA, relative))


def _config(teacher_url: str, grader_url: str) -> str:
    return f"""\
seed: 13
sources:
  - {{name: gsm8k, path: {_path('gsm8k/train.jsonl')}, preset: gsm8k, limit: {LIMITS['gsm8k']}}}
  - {{name: math500, path: {_path('math500/test.jsonl')}, preset: math, verify: majority, limit: {LIMITS['math500']}}}
  - {{name: humaneval, path: {_path('humaneval/HumanEval.jsonl')}, preset: humaneval, limit: {LIMITS['humaneval']}}}
  - {{name: mbpp, path: {_path('mbpp/sanitized-mbpp.jsonl')}, preset: mbpp, limit: {LIMITS['mbpp']}}}
  - {{name: mmlu_stem, path: {_path('qwen_math_eval/mmlu_stem/test.jsonl')}, preset: mcq, domain: stem,
      limit: {LIMITS['mmlu_stem']}}}
  - {{name: countdown, generator: countdown, count: {GENERATED['countdown']}, difficulty: [1], domain: logic}}
  - {{name: knights_knaves, generator: knights_knaves, count: {GENERATED['knights_knaves']}, difficulty: [1],
      domain: logic}}
  - {{name: alpaca, path: {_path('alpaca/alpaca_5000.jsonl')}, preset: alpaca, kind: knowledge, domain: general,
      verify: judge, limit: {LIMITS['alpaca']}}}
sample: {{backend: openai, model: scripted-r1, base_url: "{teacher_url}", api_key_env: null, n: {N},
          max_tokens: 4096, concurrency: 8}}
curate:
  verify:
    judge: {{enabled: true, backend: openai, model: grader, base_url: "{grader_url}", api_key_env: null}}
mix:
  reasoning: 60      # more than the slices can supply: every domain falls short, with its reasons
  knowledge: 6
  quota_field: domain
  quotas:
    reasoning: {{math: 0.4, code: 0.3, stem: 0.15, logic: 0.15}}
    knowledge: {{general: 1.0}}
"""


def _rows(out, pattern: str) -> list:
    return [row for path in sorted(glob.glob(str(out / pattern))) for row in pq.read_table(path).to_pylist()]


def _of_stage(rows: list, stage: str) -> list:
    return [r for r in rows if r["stage"] == stage]


@pytest.mark.slow
def test_one_run_builds_every_r1_domain_from_the_real_sets(tmp_path, capsys):
    if shutil.which("bwrap") is None or Sandbox().unavailable():
        pytest.skip("the bubblewrap sandbox can't run here")
    out = tmp_path / "out"
    config = tmp_path / "r1.yaml"
    with r1_teacher.teacher(LIMITS) as teacher, grader_server.grader() as grader:
        config.write_text(_config(r1_teacher.base_url(teacher), grader_server.base_url(grader)))
        code = cli.main(["run", "--config", str(config), "--output", str(out), "-q"])
        graded, asked, unknown = len(grader.seen), len(teacher.seen), list(teacher.unknown)
    assert code == 0, capsys.readouterr().err
    assert not unknown  # the teacher knew every problem it was asked

    problems = _rows(out, "sample/problems-*.parquet")
    rollouts = _rows(out, "sample/rollouts-*.parquet")
    curated = _rows(out, "curate/curated-*.parquet")
    corpus = _rows(out, "data/train-*.parquet")
    rejected = {stage: _rows(out, f"{stage}/rejections-*.parquet") for stage in ("sample", "curate", "mix")}
    dead = {stage: _rows(out, f"{stage}/dead_letters-*.parquet") for stage in ("sample", "curate", "mix")}
    manifest = json.loads((out / "manifest.json").read_text())

    # -- loaded as the README shows: domains, methods, withheld answers ---------------------------
    assert Counter(p["source"] for p in problems) == {**LIMITS, **GENERATED}
    assert {p["source"]: p["domain"] for p in problems} == DOMAIN
    math500 = [p for p in problems if p["source"] == "math500"]
    assert all(p["reference_answer"] is None and json.loads(p["metadata"])["withheld_answer"] for p in math500)
    assert all(p["reference_answer"] is None and p["tests"] and json.loads(p["metadata"])["verify"] == "tests"
               for p in problems if p["domain"] == "code")
    assert "Your code should pass tests like this one" in next(r["prompt"] for r in rollouts if r["source"] == "mbpp")
    assert all(len(p["choices"]) == 4 for p in problems if p["source"] == "mmlu_stem")

    # -- the books balance per stage, from the Parquet files --------------------------------------
    ingest_dead = [d for d in dead["sample"] if d["stage"] == "ingest"]
    assert len(problems) + len(ingest_dead) == sum(LIMITS.values()) + sum(GENERATED.values())
    sampled = {r["problem_id"] for r in rollouts}
    assert len(problems) == len(sampled) + len(_of_stage(rejected["sample"], "sample")) \
        + len(_of_stage(dead["sample"], "sample"))
    assert len(rollouts) == N * (len(problems) - LIMITS["alpaca"]) + LIMITS["alpaca"]  # one rollout per import
    assert asked == len(rollouts)  # one request per sample, and one per imported answer's chain of thought
    assert len(rollouts) == len(curated) + len(rejected["curate"]) + len(dead["curate"])
    assert len(curated) == len(corpus) + len(rejected["mix"]) + len(dead["mix"])
    books = manifest["accounting"]
    assert (books["curate"]["in"], books["curate"]["kept"], books["curate"]["rejected"], books["curate"]["dead"]) == (
        len(rollouts), len(curated), len(rejected["curate"]), len(dead["curate"]))
    assert (books["mix"]["in"], books["mix"]["selected"]) == (len(curated), len(corpus))

    # -- every verdict from the real verifier of its domain ---------------------------------------
    attempts = curated + [json.loads(r["payload"]) for r in rejected["curate"] if r["step"] == "filter_verdict"]
    verifiers = {}
    for row in attempts:
        verifiers.setdefault(row["source"], set()).add(row["verifier"])
    assert verifiers["humaneval"] == verifiers["mbpp"] == {"sandbox"}
    assert verifiers["math500"] == {"majority-vote"}
    assert verifiers["gsm8k"] <= {"exact", "math-verify"}
    assert verifiers["countdown"] == {"countdown"} and verifiers["knights_knaves"] == {"knights_knaves"}
    assert verifiers["alpaca"] == {"llm-judge"} and graded == LIMITS["alpaca"]
    assert {r["verdict_reason"] for r in attempts if r["source"] == "mmlu_stem"} <= {"choice_match", "choice_mismatch"}
    assert all(r["verdict_reason"].startswith("judge: score ") for r in attempts if r["source"] == "alpaca")
    incorrect = Counter(r["source"] for r in rejected["curate"] if r["reason"] == "incorrect")
    assert incorrect["humaneval"] and incorrect["mbpp"]  # the mutants failed their tests in the sandbox
    assert incorrect["knights_knaves"] == N * GENERATED["knights_knaves"]  # every guess is incomplete
    assert not [r for r in rejected["curate"] if r["reason"] == "unverifiable"]

    # -- every domain ends with rows, and each shortfall's reasons are the counted rejections -----
    assert Counter(r["domain"] for r in corpus).keys() == {"math", "code", "stem", "logic", "general"}
    assert {r["source"] for r in corpus} == set(DOMAIN) - {"knights_knaves"}
    assert all("```python" in r["messages"][-1]["content"] for r in corpus if r["domain"] == "code")
    assert all(r["kind"] == "knowledge" for r in corpus if r["domain"] == "general")
    by_domain = manifest["by_domain"]
    card = (out / "README.md").read_text()
    every_rejection = [r for rows in rejected.values() for r in rows]
    for line, entry in by_domain["lines"].items():
        kind, domain = line.split("/")
        assert entry["selected"] == sum(1 for r in corpus if r["domain"] == domain), line
        assert entry["shortfall"] == entry["target"] - entry["selected"] > 0, line
        counted = Counter(f"{r['stage']}/{r['step']}/{r['reason']}" for r in every_rejection
                          if DOMAIN[r["source"]] == domain)
        assert by_domain["shortfall_reasons"][line] == dict(counted), line
        assert f"Why {line} falls short by {entry['shortfall']}" in card
        for reason, n in counted.items():
            assert f"| {reason} | {n} |" in card
        if not counted:
            assert f"Why {line} falls short by {entry['shortfall']}\n\nNo rejection of its sources" in card
    assert by_domain["shortfall_reasons"]["reasoning/logic"]["curate/filter_verdict/incorrect"] \
        >= N * GENERATED["knights_knaves"]
