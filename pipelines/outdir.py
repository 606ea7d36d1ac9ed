"""The ``--output`` folder: this tool writes into a folder it made, or one that is empty.

A run replaces files in its output folder (the dataset card's ``README.md``, the
manifest, every ``data/train-*.parquet``, …). So before anything runs, a non-empty
folder the tool did not make is refused unless ``--overwrite`` is given.

A folder is the tool's when it holds the marker file :data:`MARKER` (written first
thing into every folder a stage command writes, so a run killed at any point can be
run again), or a ``manifest.json`` this tool wrote (runs made before the marker
existed), or when everything in it is such a folder (a DAG run's folder, holding the
``sample`` and ``curate`` folders of its earlier stages when the ``mix`` stage starts).
"""
from __future__ import annotations

import json
import os
from typing import List

from apache_beam.io.filesystems import FileSystems

from publish.manifest import VERSION
from transforms.core import io as rio

#: The file that marks a folder as made by this tool (hidden; no reader's glob sees it).
MARKER = ".reasoning-corpus"
PRODUCER = "reasoning-corpus"
#: How many foreign entries an error names.
SHOWN = 5


class OutputError(ValueError):
    """An output folder this run must not write into."""


def _local(path: str) -> bool:
    return "://" not in path


def _exists(path: str) -> bool:
    try:
        return FileSystems.exists(path)
    except Exception:  # noqa: BLE001 - an unreachable filesystem is not a marker
        return False


def made_here(folder: str) -> bool:
    """Whether ``folder`` holds this tool's marker or one of its manifests."""
    if _exists(rio.join(folder, MARKER)):
        return True
    manifest = rio.join(folder, rio.MANIFEST)
    if not _exists(manifest):
        return False
    try:
        producer = rio.read_json(manifest).get("producer", "")
    except (ValueError, OSError, AttributeError):
        return False
    return isinstance(producer, str) and producer.startswith(PRODUCER)


def _entries(folder: str) -> List[str]:
    """The names directly under ``folder`` (for an object store: the first path part
    of every object under the prefix)."""
    if _local(folder):
        return sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    prefix = folder.rstrip("/") + "/"
    try:
        found = FileSystems.match([prefix + "**"])[0].metadata_list
    except Exception:  # noqa: BLE001 - nothing under the prefix
        return []
    return sorted({m.path[len(prefix):].split("/", 1)[0] for m in found if m.path.startswith(prefix)})


def foreign_entries(folder: str) -> List[str]:
    """What in ``folder`` this tool did not make ([] when the folder is new, empty or ours)."""
    names = _entries(folder)
    if not names or made_here(folder):
        return []
    return [name for name in names if not made_here(rio.join(folder, name))]


def check_output(folder: str, overwrite: bool) -> None:
    """Raise OutputError unless the run may write into ``folder``."""
    folder = folder.rstrip("/") or folder
    if _local(folder) and os.path.exists(folder) and not os.path.isdir(folder):
        raise OutputError(f"--output {folder} is a file, not a folder")
    foreign = foreign_entries(folder)
    if foreign and not overwrite:
        shown = ", ".join(foreign[:SHOWN]) + (f", … ({len(foreign)} in all)" if len(foreign) > SHOWN else "")
        raise OutputError(
            f"--output {folder} is not empty and was not made by {PRODUCER} (it holds {shown}); "
            f"a run replaces files there (README.md, manifest.json, data/train-*.parquet, plots/, …): "
            f"choose a new or empty folder, or give --overwrite to write into it anyway")


def mark(folder: str) -> None:
    """Write the marker into ``folder`` (created if needed). Written in place, not through
    a temporary file: a marker cut short by a kill still marks the folder."""
    path = rio.join(folder, MARKER)
    if _exists(path):
        return
    text = json.dumps({"producer": f"{PRODUCER} {VERSION}",
                       "note": "made by reasoning-corpus; a re-run may replace any file here"})
    with FileSystems.create(path) as fh:
        fh.write((text + "\n").encode("utf-8"))


def claim(folder: str, overwrite: bool) -> None:
    """Check ``folder`` (:func:`check_output`), then mark it as ours."""
    check_output(folder, overwrite)
    mark(folder)
