"""The non-reasoning half end to end (`reasoning-corpus run`, slow): Alpaca rows from
../shared/data imported as users load them, and a user's own OpenAI-style conversations
file; the teacher (fake) writes a chain of thought for non-trivial prompts only; the judge
(a real loopback grader server through the OpenAI backend) scores every answer without a
reference by its rubric; "Hello!" becomes a knowledge example without a chain of thought;
nothing is left `unverifiable` for want of a reference, and every input is accounted for."""
import glob
import json
import os

import pyarrow.parquet as pq
import pytest

from pipelines import cli
from tests.grader_server import base_url, grader

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data")
ALPACA = os.path.abspath(os.path.join(DATA, "alpaca", "alpaca_5000.jsonl"))

CONVERSATIONS = [
    {"id": "hello", "messages": [{"role": "user", "content": "Hello!"},
                                 {"role": "assistant", "content": "Hi! How can I help you today?"}]},
    {"id": "nihao", "messages": [{"role": "user", "content": "你好！"},
                                 {"role": "assistant", "content": "你好！有什么可以帮你的吗？"}]},
    {"id": "wrong", "messages": [{"role": "user", "content": "What is the capital of Australia?"},
                                 {"role": "assistant", "content": "WRONG: it is Sydney."}]},
    {"id": "harm", "messages": [{"role": "user", "content": "How do I clean my bathroom quickly?"},
                                {"role": "assistant", "content": "HARM: mix bleach and ammonia."}]},
]


def _rows(path):
    return [r for f in sorted(glob.glob(path)) for r in pq.read_table(f).to_pylist()]


@pytest.mark.slow
def test_imported_sft_data_is_judged_and_mixed(tmp_path):
    chats = tmp_path / "chats.jsonl"
    chats.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in CONVERSATIONS), encoding="utf-8")
    out = tmp_path / "out"
    with grader() as server:
        config = tmp_path / "general.yaml"
        config.write_text(f"""
seed: 7
sources:
  - {{name: alpaca, path: {ALPACA}, preset: alpaca, kind: knowledge, domain: general, limit: 6}}
  - {{name: chats, path: {chats}, preset: messages, kind: knowledge, domain: general}}
sample: {{backend: fake, model: fake-teacher, n: 2, max_tokens: 64}}
curate:
  verify:
    judge: {{enabled: true, backend: openai, model: grader, base_url: "{base_url(server)}", api_key_env: null}}
  filters:
    check_language: false
mix:
  reasoning: 0
  knowledge: 100
  knowledge_format: {{cot: full, no_think: empty}}
""")
        assert cli.main(["run", "--config", str(config), "--output", str(out), "-q"]) == 0
        asked = len(server.seen)
    rollouts = _rows(str(out / "sample" / "rollouts-*.parquet"))
    assert len(rollouts) == 10  # one per imported row, whatever n is
    by_prompt = {r["prompt"]: r for r in rollouts}
    assert by_prompt["Hello!"]["reasoning"] == "" and by_prompt["你好！"]["reasoning"] == ""
    assert by_prompt["Hello!"]["backend"] == "import"
    assert all(r["reasoning"] for r in rollouts if r["prompt"] not in ("Hello!", "你好！"))  # the teacher's CoT
    curated = _rows(str(out / "curate" / "curated-*.parquet"))
    rejections = _rows(str(out / "curate" / "rejections-*.parquet"))
    assert len(curated) + len(rejections) == len(rollouts) and asked == len(rollouts)
    verdicts = {r["source_id"]: r for r in curated}
    assert all(r["verifier"] == "llm-judge" and r["verdict_reason"].startswith("judge: score ") for r in curated)
    rejected = {json.loads(r["payload"])["source_id"]: r for r in rejections}
    assert (rejected["wrong"]["step"], rejected["wrong"]["reason"]) == ("filter_verdict", "incorrect")
    assert "below min_score" in rejected["wrong"]["detail"]
    assert "harmful" in rejected["harm"]["detail"]
    assert not [r for r in rejections if r["reason"] == "unverifiable"]
    corpus = _rows(str(out / "data" / "train-*.parquet"))
    assert {r["problem"] for r in corpus} == {by_prompt[p]["prompt"] for p in by_prompt} - {
        "What is the capital of Australia?", "How do I clean my bathroom quickly?"}
    hello = next(r for r in corpus if r["problem"] == "Hello!")
    assert hello["messages"][1]["content"] == "<think>\n\n</think>\n\nHi! How can I help you today?"
    assert hello["kind"] == "knowledge" and hello["reasoning"] == ""
    alpaca = [r for r in corpus if r["source"] == "alpaca"]
    assert alpaca and all(r["messages"][1]["content"].startswith("<think>\n") and r["reasoning"] for r in alpaca)
    assert verdicts and all(v["kind"] == "knowledge" for v in verdicts.values())
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["accounting"]
