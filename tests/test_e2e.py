"""End-to-end runs of the CLI on tiny real data: the fake teacher, the real tiny model;
counts that add up, bad input dead-lettered, clear errors. (The fake teacher's run under
the multi-processing DirectRunner, its summary and counts, is test_runners.py's
byte-identity test, which runs every mode once.)"""
import glob
import json
import os
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from pipelines.cli import main
from publish import accounting
from tests.backend_support import converted_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GSM8K = os.path.join(ROOT, "..", "shared", "data", "gsm8k", "test.jsonl")


def _config(tmp_path, text, name="c.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _rows(out, pattern):
    """Rows of the matching shards, sorted, without the wall-clock latency (it varies)."""
    rows = []
    for path in sorted(glob.glob(os.path.join(out, pattern))):
        rows.extend({k: v for k, v in r.items() if k != "latency_s"} for r in pq.read_table(path).to_pylist())
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))


FAKE = """
seed: 7
sources:
  - {name: arithmetic, generator: arithmetic, count: 12, difficulty: [1]}
  - {name: countdown, generator: countdown, count: 3, difficulty: [1]}
sample: {backend: fake, model: fake-teacher, n: 4, max_tokens: 64}
mix: {reasoning: 10, knowledge: 5, max_rows_per_shard: 4}
output: {max_rows_per_shard: 4}
"""


def check_manifest(out, max_rows_per_shard=4):
    """The run's manifest, checked: every stage's counts add up and chain into the next
    stage's; the published rows are the shards' rows, no shard over ``max_rows_per_shard``."""
    manifest = json.load(open(os.path.join(out, "manifest.json")))
    acc = manifest["accounting"]
    for stage, line in acc.items():
        # every input is a part; a copy of some rows handed to a later stage (curate's
        # wrong_attempts, a copy of rejected rows) is not a fate of its own
        parts = {k: v for k, v in line.items() if k not in ("in", "rollouts") + tuple(accounting.COPIES)}
        assert line["in"] == sum(parts.values()), (stage, line)
        assert all(line[k] <= line[part] for k, part in accounting.COPIES.items() if k in line), (stage, line)
    # the stages chain: what one stage kept is what the next one took in
    assert acc["sample"]["in"] == acc["ingest"]["problems"]
    assert acc["curate"]["in"] == acc["sample"]["rollouts"]
    assert acc["mix"]["in"] == acc["curate"]["kept"]
    assert manifest["rows"] == acc["mix"]["selected"] == sum(f["rows"] for f in manifest["outputs"]["data/train"]["files"])
    for f in manifest["outputs"]["data/train"]["files"]:
        assert f["rows"] <= max_rows_per_shard
    return manifest


@pytest.fixture(scope="module")
def fake_run(tmp_path_factory):
    """One ``run`` of FAKE in memory, read by the tests below: (its config, its folder)."""
    folder = tmp_path_factory.mktemp("fake-run")
    config = _config(folder, FAKE)
    out = str(folder / "o")
    assert main(["run", "--config", config, "--output", out]) == 0
    return config, out


def test_corpus_loads_with_datasets(fake_run):
    import datasets

    _, out = fake_run
    ds = datasets.load_dataset("parquet", data_files=os.path.join(out, "data", "train-*.parquet"),
                               split="train")
    manifest = json.load(open(os.path.join(out, "manifest.json")))
    assert len(ds) == manifest["rows"] > 0
    row = ds[0]
    assert [m["role"] for m in row["messages"]] == ["user", "assistant"]
    assert row["verdict"] == "correct" and row["config_hash"] == manifest["config_hash"]
    # the corpus folder: the dataset repository's files, the stage folders, the marker;
    # no stage leaves an empty .tmp/ behind; mix/ is there once the stage wrote something of its own
    assert sorted(set(os.listdir(out)) - {"mix"}) == [".reasoning-corpus", "README.md", "curate", "data",
                                                      "dataset_info.json", "manifest.json", "plots", "sample"]
    mix_files = manifest["outputs"]["mix/rejections"]["files"] + manifest["outputs"]["mix/dead_letters"]["files"]
    assert sorted(os.listdir(os.path.join(out, "mix")) if os.path.isdir(os.path.join(out, "mix")) else []) == \
        sorted(os.path.basename(f["path"]) for f in mix_files)  # no journeys here: no journey counts
    assert [d for d, _, _ in os.walk(out) if os.path.basename(d) == ".tmp"] == []
    assert accounting.verify_manifest(out)["mix"]["rows"]["data/train"] == len(ds)


def test_stages_run_one_by_one(fake_run, tmp_path):
    """curate, then mix, each its own command, on the sample stage of ``run``: the same corpus
    rows as ``run``. (The sample command alone: tests/pipelines/test_kill_stages.py.)"""
    config, run_out = fake_run
    c, m = (str(tmp_path / x) for x in "cm")
    assert main(["curate", "--config", config, "--input", os.path.join(run_out, "sample"), "--output", c]) == 0
    assert main(["mix", "--config", config, "--input", c, "--output", m]) == 0
    assert json.load(open(os.path.join(m, "manifest.json")))["rows"] > 0
    assert _rows(m, "data/train-*") == _rows(run_out, "data/train-*")


def test_bad_input_is_dead_lettered_and_the_summary_adds_up(tmp_path, capsys):
    lines = [
        json.dumps({"question": "What is 1 + 1?", "answer": "It is 2.\n#### 2"}),
        "{not json",
        json.dumps({"answer": "#### 3"}),  # missing question
        json.dumps({"question": 42, "answer": "#### 4"}),  # wrong type
        json.dumps({"question": "What is 2 + 2?", "answer": "#### 4", "pad": "x" * (10 * 1024 * 1024)}),
        json.dumps(["a", "list"]),
        "",
        json.dumps({"question": "What is 3 + 3?", "answer": "#### 6"}),
    ]
    src = tmp_path / "bad.jsonl"
    src.write_text("\n".join(lines) + "\n")
    # 5 of 7 lines dead is over the default max_dead_letter_share (0.5): allowed here
    config = _config(tmp_path, "max_dead_letter_share: 1.0\nsample: {backend: fake, n: 2}\n"
                               "mix: {reasoning: 10, knowledge: 0}\n")
    out = str(tmp_path / "out")
    assert main(["run", "--config", config, "--input", str(src), "--preset", "gsm8k", "--output", out]) == 0
    printed = capsys.readouterr().out
    dead = _rows(out, "sample/dead_letters-*")
    assert sorted(d["line"] for d in dead) == [2, 3, 4, 5, 6]
    assert all(d["file"].endswith("bad.jsonl") and d["stage"] == "ingest" for d in dead)
    by_line = {d["line"]: d for d in dead}
    assert by_line[2]["error"].startswith("invalid_json")
    assert by_line[3]["error"].startswith("missing_field") and by_line[3]["field"] == "question"
    assert by_line[4]["field"] == "question"
    assert by_line[5]["error"].startswith("line_too_long")
    assert len(by_line[5]["payload"]) < 10_000
    manifest = check_manifest(out)
    assert manifest["accounting"]["ingest"] == {"in": 7, "problems": 2, "rejected": 0, "dead": 5}
    assert "ingest   7 in = problems 2, rejected 0, dead 5" in printed


@pytest.mark.parametrize("argv, message", [
    (["run", "--output", "x"], "no sources"),
    (["run", "--input", "/nonexistent/problems.jsonl", "--output", "x"], "/nonexistent/problems.jsonl"),
    (["curate", "--input", "/nonexistent", "--output", "x"], "no manifest.json"),
    (["run", "--config", "/nonexistent.yaml", "--output", "x"], "config file not found"),
])
def test_clear_errors_without_tracebacks(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_console_script_help():
    proc = subprocess.run([sys.executable, "-m", "pipelines", "--help"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode == 0
    for command in ("demo", "run", "sample", "curate", "mix"):
        assert command in proc.stdout


TINY = """
seed: 11
sources:
  - {{name: gsm8k, path: "{gsm8k}", preset: gsm8k, limit: 2}}
  - {{name: arithmetic, generator: arithmetic, count: 2, difficulty: [1]}}
sample:
  backend: transformers
  model: "{model}"
  n: 2
  max_tokens: 32
  torch_threads: 1
  few_shot:
    - user: "What is 12 + 7?\\nPlease reason step by step, and put your final answer within \\\\boxed{{}}."
      assistant: "12 + 7 = 19.\\n\\nThe answer is \\\\boxed{{19}}."
mix: {{reasoning: 100, knowledge: 0}}
"""


@pytest.mark.slow
def test_gsm8k_with_the_real_tiny_model(tmp_path):
    """The real tiny model through every stage (in memory: one load of the model). Its rows
    are the same whatever the batch neighbours (tests/transforms/models/backends/test_hf.py),
    and the same bytes on every mode and runner (test_runners.py, with the fake teacher).
    The model is SmolLM2 from its Hugging Face directory (the packaged GGUF converted once,
    shared with the served-model tests): a plain load, not a dequantization of the GGUF on
    every load. ``model: smollm2`` itself, the packaged GGUF, is loaded by
    tests/transforms/models/backends/test_hf.py and tests/transforms/sample/, and
    test_transform.py checks the directory generates what the GGUF does."""
    assert os.path.exists(GSM8K), "../shared/data/gsm8k is missing"
    config = _config(tmp_path, TINY.format(gsm8k=GSM8K, model=converted_model()))
    out = str(tmp_path / "a")
    assert main(["run", "--config", config, "--output", out]) == 0
    check_manifest(out)
    rollouts = _rows(out, "sample/rollouts-*")
    assert len(rollouts) == 8
    assert {r["teacher_model"] for r in rollouts} and all(r["completion"] for r in rollouts)
    assert {r["source"] for r in rollouts} == {"gsm8k", "arithmetic"}


def test_demo_config_shows_no_chain_of_thought_and_the_thinking_plot(tmp_path):
    """The demo config (``mix.no_cot`` on) with the fake teacher, two samples a problem (the
    fake teacher is right on half of its seeds, so four rarely all are): a problem both
    samples solved with short thinking gets an example with an empty ``<think>``, and the
    card shows thinking length against pass rate."""
    out = str(tmp_path / "demo")
    demo = os.path.join(ROOT, "configs", "demo.yaml")
    # 20 arithmetic problems (the demo draws 10): enough for some to be solved by both samples
    assert main(["run", "--config", demo, "--set", "sample.backend=fake", "--set", "sample.n=2",
                 "--set", "sources[0].count=20", "--output", out]) == 0
    manifest = json.load(open(os.path.join(out, "manifest.json")))
    rows = pq.read_table(os.path.join(out, "data")).to_pylist()
    no_cot = [r for r in rows if r["reasoning_tokens_after"] == 0 < r["reasoning_tokens_before"]]
    assert no_cot and all(r["pass_rate"] == 1.0 and r["reasoning"] == "" for r in no_cot)
    assert all(r["messages"][-1]["content"].startswith("<think>\n\n</think>\n\n") for r in no_cot)
    assert manifest["thinking"]["reasoning"]["no_cot"] == len(no_cot)
    assert manifest["thinking"]["saved"]["no_cot"] == sum(r["reasoning_tokens_before"] for r in no_cot)
    assert "plots/thinking_lengths.png" in manifest["card"]["plots"]
    assert os.path.getsize(os.path.join(out, "plots", "thinking_lengths.png")) > 0
    card = open(os.path.join(out, "README.md")).read()
    assert "![thinking length by pass rate](plots/thinking_lengths.png)" in card and "## Thinking length" in card
