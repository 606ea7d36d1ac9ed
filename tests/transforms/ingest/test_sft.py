"""Importing SFT data: Alpaca rows from ../shared/data as users load them (the input joined
to its instruction, the output carried whole as the imported answer), ShareGPT and
OpenAI-style conversations (their first exchange), rows without an answer as prompts
alone, broken rows as BadRecords naming the field, and the config's kind check."""
import json
import os

import pytest

from pipelines.config import ConfigError, load_config
from transforms.core.imported import imported_response
from transforms.ingest.config import SourceConfig
from transforms.ingest.presets import BadRecord, to_problem

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "shared", "data")
ALPACA = os.path.join(DATA, "alpaca", "alpaca_5000.jsonl")


def _source(preset, **kw):
    return SourceConfig(name="sft", path="x.jsonl", preset=preset, kind="knowledge", domain="general", **kw)


def test_alpaca_rows_as_users_load_them():
    with open(ALPACA, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh][:200]
    problems = [to_problem(row, _source("alpaca"), "alpaca_5000.jsonl", i + 1, 1, "h") for i, row in enumerate(rows)]
    for row, problem in zip(rows, problems):
        assert problem.kind == "knowledge" and problem.reference_answer is None
        expected = row["instruction"].strip() + (f"\n\n{row['input'].strip()}" if row["input"].strip() else "")
        assert problem.prompt == expected
        assert imported_response(problem.metadata) == (row["output"].strip() or None)
    assert sum(bool(r["input"].strip()) for r in rows) > 50  # the input really is shown
    long_row = max(rows, key=lambda r: len(r["output"]))
    assert len(long_row["output"]) > 1000  # kept whole, never truncated like other metadata
    assert imported_response(problems[rows.index(long_row)].metadata) == long_row["output"].strip()


def test_conversations_give_their_first_exchange():
    sharegpt = {"id": "c1", "conversations": [
        {"from": "system", "value": "Be brief."}, {"from": "human", "value": "Hello!"},
        {"from": "gpt", "value": "Hi! How can I help?"}, {"from": "human", "value": "Bye"},
        {"from": "gpt", "value": "Bye!"}]}
    problem = to_problem(sharegpt, _source("sharegpt"), "s.jsonl", 1, 1, "h")
    assert (problem.prompt, problem.source_id) == ("Hello!", "c1")
    meta = json.loads(problem.metadata)
    assert meta == {"imported_from": "sharegpt", "imported_response": "Hi! How can I help?", "system": "Be brief.",
                    "turns_after_first_exchange": 2}
    messages = {"messages": [{"role": "user", "content": "你好！"}, {"role": "assistant", "content": "你好！有什么可以帮你？"}]}
    problem = to_problem(messages, _source("messages"), "m.jsonl", 3, 1, "h")
    assert problem.prompt == "你好！" and imported_response(problem.metadata) == "你好！有什么可以帮你？"
    unanswered = to_problem({"messages": [{"role": "user", "content": "Define entropy."}]}, _source("messages"),
                            "m.jsonl", 4, 1, "h")
    assert unanswered.prompt == "Define entropy." and imported_response(unanswered.metadata) is None


@pytest.mark.parametrize("preset, row, field, reason", [
    ("alpaca", {"input": "x", "output": "y"}, "instruction", "missing_field"),
    ("alpaca", {"instruction": ["x"], "output": "y"}, "instruction", "wrong_type"),
    ("sharegpt", {"conversations": "hello"}, "conversations", "wrong_type"),
    ("sharegpt", {"conversations": [{"from": "gpt", "value": "Hi"}]}, "conversations", "missing_field"),
    ("messages", {"messages": [{"role": "narrator", "content": "Once"}]}, "messages[0].role", "bad_value"),
    ("messages", {"messages": [{"role": "user"}]}, "messages[0].content", "missing_field"),
])
def test_broken_rows_name_the_field(preset, row, field, reason):
    with pytest.raises(BadRecord) as caught:
        to_problem(row, _source(preset), "f.jsonl", 1, 1, "h")
    assert (caught.value.field, caught.value.reason) == (field, reason)


def test_an_sft_preset_needs_the_knowledge_kind(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("sources:\n  - name: a\n    path: a.jsonl\n    preset: alpaca\n")
    with pytest.raises(ConfigError, match="preset: alpaca imports SFT data as knowledge examples: set kind: knowledge"):
        load_config(str(path))
