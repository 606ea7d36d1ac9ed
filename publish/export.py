"""Exports of a finished corpus for trainers that want another layout than ``messages``.

``reasoning-corpus export DIR --format F --output OUT`` reads DIR's shards (the files its
manifest lists, checked against their sha256 first) and writes one shard per shard:

* ``prompt-completion``: TRL's conversational prompt-completion layout, ``prompt`` (the
  turns before the last assistant turn) and ``completion`` (that turn), so a trainer
  computes the loss on the completion only;
* ``text``: one ``text`` string per example, the conversation rendered with a
  tokenizer's chat template (``--tokenizer``: a local model directory, or ``smollm2``).

Every export row keeps ``example_id``, ``kind``, ``journey``, ``domain`` and ``source``
so it can be joined back to the corpus. ``OUT/export.json`` records the format, the
tokenizer, the corpus's config hash and each written file's rows and sha256.
"""
from __future__ import annotations

import hashlib
import json
import os
from typing import Callable, Dict, List, Optional

FORMATS = ("prompt-completion", "text")
#: Corpus columns every export row keeps (to join it back to the corpus).
KEPT = ("example_id", "kind", "journey", "domain", "source")
EXPORT_MANIFEST = "export.json"


class ExportError(ValueError):
    """A corpus that cannot be exported as asked."""


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def corpus_shards(corpus_dir: str) -> tuple:
    """(the corpus manifest, its shard paths), each shard checked against the manifest."""
    path = os.path.join(corpus_dir, "manifest.json")
    if not os.path.isfile(path):
        raise ExportError(f"{corpus_dir} holds no manifest.json: not the output folder of a mix run")
    with open(path) as fh:
        manifest = json.load(fh)
    files = manifest.get("outputs", {}).get("data/train", {}).get("files")
    if manifest.get("stage") != "mix" or files is None:
        raise ExportError(f"{path}: not a mix manifest (no outputs.data/train)")
    shards = []
    for entry in files:
        shard = os.path.join(corpus_dir, entry["path"])
        if not os.path.isfile(shard):
            raise ExportError(f"{path}: lists {entry['path']}, which is missing")
        if _sha256(shard) != entry["sha256"]:
            raise ExportError(f"{shard}: sha256 differs from the manifest's (changed since the run)")
        shards.append(shard)
    return manifest, shards


def split_turns(messages: List[dict]) -> Dict[str, List[dict]]:
    """A conversation as prompt (every turn before the last assistant turn) and completion."""
    last = max((i for i, m in enumerate(messages) if m["role"] == "assistant"), default=None)
    if last is None or last == 0:
        raise ExportError(f"a conversation needs a turn before its assistant turn, got roles "
                          f"{[m['role'] for m in messages]}")
    return {"prompt": messages[:last], "completion": messages[last:last + 1]}


def chat_template_renderer(tokenizer_name: str) -> Callable[[List[dict]], str]:
    """``messages`` → the text ``tokenizer_name``'s chat template renders (no generation prompt)."""
    from transformers import AutoTokenizer

    from transforms.models.backends.base import resolve_model
    from transforms.models.config import ModelConfig

    path, kwargs = resolve_model(ModelConfig(model=tokenizer_name))
    tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
    if not getattr(tokenizer, "chat_template", None):
        raise ExportError(f"tokenizer {tokenizer_name!r} has no chat template")

    def render(messages: List[dict]) -> str:
        return str(tokenizer.apply_chat_template(messages, tokenize=False))

    return render


def _columns(rows: List[dict], fmt: str, render: Optional[Callable]) -> Dict[str, list]:
    out: Dict[str, list] = {name: [row[name] for row in rows] for name in KEPT}
    if fmt == "prompt-completion":
        turns = [split_turns(row["messages"]) for row in rows]
        out["prompt"] = [t["prompt"] for t in turns]
        out["completion"] = [t["completion"] for t in turns]
    else:
        assert render is not None
        out["text"] = [render(row["messages"]) for row in rows]
    return out


def export(corpus_dir: str, fmt: str, out_dir: str, tokenizer: Optional[str] = None,
           renderer: Optional[Callable[[List[dict]], str]] = None,
           before_writing: Callable[[], None] = lambda: None) -> dict:
    """Write ``fmt``'s shards of the corpus in ``corpus_dir`` under ``out_dir/data``;
    returns (and writes as ``export.json``) what was written. ``before_writing`` runs once
    the corpus and the tokenizer are checked, before anything is written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if fmt == "text" and renderer is None:
        if not tokenizer:
            raise ExportError("--format text needs --tokenizer (a local model directory, or smollm2) "
                              "whose chat template renders the conversations")
        renderer = chat_template_renderer(tokenizer)
    manifest, shards = corpus_shards(corpus_dir)
    before_writing()
    os.makedirs(os.path.join(out_dir, "data"), exist_ok=True)
    written, total = [], 0
    for shard in shards:
        rows = pq.read_table(shard, columns=list(KEPT) + ["messages"]).to_pylist()
        table = pa.Table.from_pydict(_columns(rows, fmt, renderer))
        target = os.path.join(out_dir, "data", os.path.basename(shard))
        pq.write_table(table, target + ".partial")
        os.replace(target + ".partial", target)
        written.append({"path": os.path.relpath(target, out_dir), "rows": table.num_rows,
                        "sha256": _sha256(target)})
        total += table.num_rows
    if total != manifest.get("rows"):
        raise ExportError(f"exported {total} rows, the corpus manifest says {manifest.get('rows')}")
    record = {"format": fmt, "tokenizer": tokenizer, "corpus": os.path.abspath(corpus_dir),
              "corpus_config_hash": manifest.get("config_hash"), "rows": total, "files": written}
    with open(os.path.join(out_dir, EXPORT_MANIFEST), "w") as fh:
        json.dump(record, fh, indent=2)
    return record
