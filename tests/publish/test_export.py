"""Exports of a corpus: prompt/completion turns, chat-template text, and what they refuse."""
import hashlib
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.cli import main
from publish.export import ExportError, corpus_shards, export, split_turns

MESSAGES = [
    [{"role": "user", "content": "What is 2+3?"}, {"role": "assistant", "content": "<think>\n2+3=5\n</think>\n\n5"}],
    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello!"},
     {"role": "assistant", "content": "Hello! How can I help?"}],
]


def _corpus(tmp_path, shards=(MESSAGES[:1], MESSAGES[1:])):
    """A mix output folder: shards with the columns exports read, and a manifest listing them."""
    root = tmp_path / "corpus"
    (root / "data").mkdir(parents=True)
    files, n = [], 0
    for i, rows in enumerate(shards):
        path = root / "data" / f"train-{i:05d}-of-{len(shards):05d}.parquet"
        pq.write_table(pa.Table.from_pylist([
            {"example_id": f"e{n + j}", "kind": "reasoning", "journey": None, "domain": "math", "source": "s",
             "messages": m, "problem": m[-2]["content"]} for j, m in enumerate(rows)]), path)
        files.append({"path": f"data/{path.name}", "rows": len(rows),
                      "sha256": hashlib.sha256(path.read_bytes()).hexdigest()})
        n += len(rows)
    manifest = {"stage": "mix", "rows": n, "config_hash": "abc", "outputs": {"data/train": {"files": files}}}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return str(root)


def test_split_turns_keeps_every_turn_before_the_last_assistant_turn():
    turns = split_turns(MESSAGES[1])
    assert [m["role"] for m in turns["prompt"]] == ["system", "user"]
    assert turns["completion"] == [MESSAGES[1][2]]
    with pytest.raises(ExportError, match="before its assistant turn"):
        split_turns([{"role": "assistant", "content": "x"}])


def test_prompt_completion_export_has_every_row_and_joins_back(tmp_path):
    record = export(_corpus(tmp_path), "prompt-completion", str(tmp_path / "out"))
    assert record["rows"] == 2 and len(record["files"]) == 2
    rows = [r for f in record["files"] for r in pq.read_table(tmp_path / "out" / f["path"]).to_pylist()]
    assert [r["example_id"] for r in rows] == ["e0", "e1"]
    assert rows[0]["prompt"] == MESSAGES[0][:1] and rows[0]["completion"] == MESSAGES[0][1:]
    assert "messages" not in rows[0] and "text" not in rows[0]
    written = json.loads((tmp_path / "out" / "export.json").read_text())
    assert written["format"] == "prompt-completion" and written["corpus_config_hash"] == "abc"
    for f in written["files"]:
        assert hashlib.sha256((tmp_path / "out" / f["path"]).read_bytes()).hexdigest() == f["sha256"]


def test_text_export_renders_each_conversation(tmp_path):
    record = export(_corpus(tmp_path), "text", str(tmp_path / "out"),
                    renderer=lambda ms: "".join(f"<{m['role']}>{m['content']}" for m in ms))
    texts = [r["text"] for f in record["files"] for r in pq.read_table(tmp_path / "out" / f["path"]).to_pylist()]
    assert texts[1] == "<system>Be brief.<user>Hello!<assistant>Hello! How can I help?"


def test_text_export_needs_a_tokenizer_and_unknown_formats_are_refused(tmp_path):
    corpus = _corpus(tmp_path)
    with pytest.raises(ExportError, match="--tokenizer"):
        export(corpus, "text", str(tmp_path / "out"))
    with pytest.raises(ExportError, match="unknown export format"):
        export(corpus, "alpaca", str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_a_shard_changed_since_the_run_is_refused_before_anything_is_written(tmp_path):
    corpus = _corpus(tmp_path)
    shard = os.path.join(corpus, "data", "train-00001-of-00002.parquet")
    with open(shard, "ab") as fh:
        fh.write(b"x")
    with pytest.raises(ExportError, match="sha256 differs"):
        corpus_shards(corpus)
    assert main(["export", corpus, "--format", "prompt-completion", "--output", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()


def test_export_command_refuses_a_folder_that_is_not_a_corpus_and_a_foreign_output(tmp_path, capsys):
    assert main(["export", str(tmp_path), "--format", "prompt-completion", "--output", str(tmp_path / "o")]) == 2
    assert "no manifest.json" in capsys.readouterr().err
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    corpus = _corpus(tmp_path)
    assert main(["export", corpus, "--format", "prompt-completion", "--output", str(foreign)]) == 2
    assert (foreign / "notes.txt").read_text() == "keep me"
    assert main(["export", corpus, "--format", "prompt-completion", "--output", str(foreign), "--overwrite"]) == 0
    assert (foreign / "data" / "train-00000-of-00002.parquet").exists()
