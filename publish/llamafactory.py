"""``dataset_info.json``: the corpus folder as a LLaMA-Factory dataset directory.

LLaMA-Factory reads ``DATASET_DIR/dataset_info.json`` and, for a local dataset, every
file under its ``file_name`` (a file or a folder: here ``data``, the shards), with the
ShareGPT formatting: the ``messages`` column holds the turns, each with a ``role`` and
a ``content``, roles ``user``, ``assistant`` (and ``system`` when a first turn is one).
Train with ``dataset_dir: OUT`` and ``dataset: <card.dataset_name>``. Every file in
``data/`` must be a shard (LLaMA-Factory refuses a folder of mixed file types), so the
stage leaves no ``data/.tmp`` behind, and ``verify DIR`` checks the folder.

LLaMA-Factory is not installed here: the tests check the file's structure against the
shards' columns and this reading rule, not a training run.
"""
from __future__ import annotations

import io
import json
import os
from typing import List

import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from publish.card_meta import card_settings
from publish.layout import DATA, DATA_DIR, DATASET_INFO
from transforms.core import io as rio

FORMATTING = "sharegpt"
#: LLaMA-Factory's column names → the corpus's columns.
COLUMNS = {"messages": "messages"}
#: The keys and values of the turns in ``messages``.
TAGS = {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant",
        "system_tag": "system"}


def dataset_info(manifest: dict) -> dict:
    """The ``dataset_info.json`` of a mix manifest's folder: one entry, ``card.dataset_name``."""
    return {card_settings(manifest).dataset_name: {
        "file_name": DATA_DIR,
        "formatting": FORMATTING,
        "columns": dict(COLUMNS),
        "tags": dict(TAGS),
    }}


def write_dataset_info(out_dir: str, manifest: dict) -> str:
    """Write ``dataset_info.json`` under ``out_dir``; returns its relative path."""
    text = json.dumps(dataset_info(manifest), indent=2, ensure_ascii=False) + "\n"
    with FileSystems.create(rio.join(out_dir, DATASET_INFO)) as fh:
        fh.write(text.encode("utf-8"))
    return DATASET_INFO


def dataset_info_problems(base: str, manifest: dict) -> List[str]:
    """What would keep LLaMA-Factory from reading the folder of a mix manifest listing
    ``dataset_info.json``: the file missing or not one entry per dataset naming the data
    folder, a mapped column the shards lack, or a file in ``data/`` that is not a listed shard."""
    path = rio.join(base, DATASET_INFO)
    if not FileSystems.exists(path):
        return [f"{DATASET_INFO}: listed in the manifest but missing: {path}"]
    try:
        info = rio.read_json(path)
    except (ValueError, OSError) as exc:
        return [f"{DATASET_INFO}: not JSON: {exc}"]
    files = manifest.get("outputs", {}).get(DATA, {}).get("files", [])
    columns: set = set()
    if files:
        with FileSystems.open(rio.resolve_path(base, files[0]["path"])) as fh:
            columns = set(pq.read_schema(io.BytesIO(fh.read())).names)
    problems = []
    for name, entry in (info.items() if isinstance(info, dict) else []):
        if not isinstance(entry, dict) or entry.get("file_name") != DATA_DIR:
            problems.append(f"{DATASET_INFO}: {name}: file_name must be {DATA_DIR!r}")
            continue
        missing = sorted(c for c in entry.get("columns", {}).values() if columns and c not in columns)
        if missing:
            problems.append(f"{DATASET_INFO}: {name}: columns not in the shards: {', '.join(missing)}")
    if not isinstance(info, dict) or not info:
        problems.append(f"{DATASET_INFO}: expected a mapping of dataset names to entries")
    folder = rio.join(base, DATA_DIR)
    if "://" not in folder and os.path.isdir(folder):
        listed = {os.path.basename(f["path"]) for f in files}
        foreign = sorted(set(os.listdir(folder)) - listed)
        if foreign:
            problems.append(f"{DATASET_INFO}: {folder} holds more than the listed shards "
                            f"(LLaMA-Factory reads every file in it): {', '.join(foreign)}")
    return problems
