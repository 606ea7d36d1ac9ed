"""Problem curation before sampling, end to end: planted duplicates, benchmark problems
and a figure problem are rejected in the sample stage and never reach the teacher (a
real OpenAI-compatible server on loopback logs every request)."""
import glob
import json
import os

import pyarrow.parquet as pq
import pytest

from pipelines import cli
from pipelines.config import load_config
from tests.loopback import JsonHandler, serving
from tests.pipelines.cli_support import ROOT, write_config

DATA = os.path.join(ROOT, "..", "shared", "data")


def _first(path, count):
    with open(path, encoding="utf-8") as fh:
        return [json.loads(next(fh)) for _ in range(count)]


class _Logging(JsonHandler):
    """Answers every chat request with a short boxed answer and logs the user turn."""

    def do_POST(self):  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.asked.append(body["messages"][-1]["content"])
        self.send_json(200, {"choices": [{"message": {"content": "So \\boxed{42}"}, "finish_reason": "stop"}],
                           "usage": {"prompt_tokens": 20, "completion_tokens": 4}})


@pytest.fixture
def teacher():
    with serving(_Logging, asked=[]) as server:
        yield server


def _planted(tmp_path):
    """Real GSM8K train problems (ordinary), then copies: an exact duplicate (case and
    spacing changed), a near duplicate (punctuation changed: the same words, another
    normalized text, found by MinHash), MATH-500 and AIME 2024
    problems verbatim, a problem pointing at a missing figure."""
    train = _first(os.path.join(DATA, "gsm8k", "train.jsonl"), 6)
    math500 = _first(os.path.join(DATA, "math500", "test.jsonl"), 2)
    aime = _first(os.path.join(DATA, "qwen_math_eval", "aime24", "test.jsonl"), 1)
    first = train[0]["question"]
    near = train[1]["question"].replace(",", "").replace("?", ".").replace("  ", " ")
    planted = [
        {"id": "exact", "question": "  " + first.upper().replace(" ", "   "), "answer": "1"},
        {"id": "near", "question": near, "answer": "2"},
        {"id": "math500-0", "question": math500[0]["problem"], "answer": math500[0]["answer"]},
        {"id": "math500-1", "question": math500[1]["problem"], "answer": math500[1]["answer"]},
        {"id": "aime", "question": aime[0]["problem"], "answer": aime[0]["answer"]},
        {"id": "figure", "question": "In the figure below, the square has side 3. What is its area?",
         "answer": "9"},
    ]
    path = tmp_path / "planted.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in planted))
    return str(path), train, planted


@pytest.mark.slow
def test_planted_duplicates_and_benchmark_problems_never_reach_the_teacher(teacher, tmp_path):
    planted_path, train, planted = _planted(tmp_path)
    base_url = f"http://127.0.0.1:{teacher.server_address[1]}/v1"
    config = write_config(tmp_path, f"""\
seed: 5
sources:
  - {{name: gsm8k, path: "{os.path.join(DATA, 'gsm8k', 'train.jsonl')}", preset: gsm8k, limit: 6}}
  - {{name: planted, path: "{planted_path}", preset: answer}}
problems:
  enabled: true
  decontam: {{benchmarks_dir: "{DATA}"}}
sample: {{backend: openai, base_url: "{base_url}", model: t, n: 1, max_tokens: 16, api_key_env: null}}
mix: {{reasoning: 10, knowledge: 0}}
""")
    out = tmp_path / "s"
    assert cli.main(["sample", "--config", config, "--output", str(out)]) == 0
    asked = teacher.asked
    assert len(asked) == 6  # 6 train problems + 6 planted, 6 rejected: one request each for the rest

    def times_asked(question):
        return sum(question in a for a in asked)

    for t in train[2:]:
        assert times_asked(t["question"]) == 1
    by_id = {p["id"]: p for p in planted}
    # each duplicate cluster is asked once, whichever of its members survives
    assert times_asked(train[0]["question"]) + sum(by_id["exact"]["question"] in a for a in asked) == 1
    assert times_asked(train[1]["question"]) + times_asked(by_id["near"]["question"]) == 1
    for name in ("math500-0", "math500-1", "aime", "figure"):
        assert times_asked(by_id[name]["question"]) == 0, name
    rows = [r for f in sorted(glob.glob(str(out / "rejections-*.parquet")))
            for r in pq.read_table(f, columns=["record_id", "stage", "step", "reason",
                                                "detail"]).to_pylist()]
    by_step = sorted((r["stage"], r["step"], r["reason"]) for r in rows)
    assert by_step == sorted([("sample", "dedup_prompts", "duplicate"), ("sample", "dedup_prompts", "near_duplicate"),
                              ("sample", "problem_filter", "figure")]
                             + [("sample", "decontaminate", "contaminated")] * 3)
    details = " ".join(r["detail"] for r in rows)
    assert "contaminated:aime24" in details and "contaminated:math500" in details
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["accounting"]["sample"]["rejected"] == 6
    assert manifest["funnel"]["rejected"]["sample/dedup_prompts/duplicate"] == 1
    assert sum(v for k, v in manifest["funnel"]["rejected"].items() if k.startswith("sample/")) == 6
    assert manifest["problems"]["benchmarks"] == ["aime24", "amc23", "math500", "gsm8k_test", "olympiadbench",
                                                  "minerva"]


def test_a_required_benchmark_missing_is_an_error_before_anything_runs(tmp_path, capsys):
    config = write_config(tmp_path, f"""\
sources: [{{name: g, generator: arithmetic, count: 2}}]
problems: {{enabled: true, decontam: {{benchmarks_dir: "{tmp_path}"}}}}
sample: {{backend: fake, model: f, n: 1}}
""")
    assert cli.main(["sample", "--config", config, "--output", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert "problems.decontam: benchmarks not found: aime24" in err and "problems.decontam.skip" in err


def test_the_section_left_off_keeps_the_config_hash():
    assert load_config(None).config_hash == load_config(None, {"problems": {"enabled": False}}).config_hash
    assert load_config(None).config_hash != load_config(None, {"problems": {"enabled": True}}).config_hash
