"""The corpus folder: what a dataset repository holds, and the stage folders beside it.

A mix (or ``run``/``demo``) output folder holds the dataset repository's files at its
top — the card (``README.md``, ``plots/``), the shards (``data/train-*.parquet``),
``dataset_info.json`` (LLaMA-Factory) and ``manifest.json`` — and, beside them, one
folder per stage: ``sample/`` and ``curate/`` (a ``run``), and ``mix/``, the mix stage's
own rejections, dead letters and pipeline counts. ``reasoning-corpus publish`` uploads
the repository files only (:func:`repo_files`); ``datasets.load_dataset(DIR)`` reads
the shards the card's ``configs:`` entry names.
"""
from __future__ import annotations

from typing import List

#: The examples' output name: shards ``data/train-NNNNN-of-NNNNN.parquet``.
DATA = "data/train"
#: The shards of the corpus, as a glob relative to the corpus folder.
DATA_GLOB = DATA + "-*.parquet"
#: The folder the shards are in (LLaMA-Factory's ``file_name``: it reads every file in it).
DATA_DIR = "data"
README = "README.md"
DATASET_INFO = "dataset_info.json"
MANIFEST = "manifest.json"
#: The mix stage's own folder under the corpus folder, and its outputs there.
MIX_DIR = "mix"
MIX_REJECTIONS = MIX_DIR + "/rejections"
MIX_DEAD_LETTERS = MIX_DIR + "/dead_letters"
#: The stage folders a corpus folder may hold beside the repository files (never uploaded).
STAGE_DIRS = ("sample", "curate", MIX_DIR)


def stage_folders(out_dir: str) -> List[str]:
    """The folders the mix stage writes files into under a corpus folder (each gets a
    hidden ``.tmp/`` while it writes): the folder itself, ``data/`` and ``mix/``."""
    base = out_dir.rstrip("/")
    return [base, f"{base}/{DATA_DIR}", f"{base}/{MIX_DIR}"]


def repo_files(manifest: dict) -> List[str]:
    """The files of a mix manifest's folder that belong in a dataset repository, relative
    to the folder, sorted: the card (README and plots), ``dataset_info.json`` when the
    manifest lists it, the shards it lists, and the manifest itself. Nothing else: no
    stage folder, no marker, no file the manifest does not name."""
    card = manifest.get("card", {})
    files = [card.get("readme", README), *card.get("plots", []), MANIFEST]
    if card.get("dataset_info"):
        files.append(card["dataset_info"])
    files += [f["path"] for f in manifest.get("outputs", {}).get(DATA, {}).get("files", [])]
    return sorted(set(files))
