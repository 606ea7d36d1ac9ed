"""Stage manifests on the launcher side: clearing a stage's old outputs, relative file
paths, and reading an upstream stage's manifest back."""
from __future__ import annotations

import os
from typing import Dict, List

from apache_beam.io.filesystems import FileSystems

from transforms.core import io as rio

VERSION = "0.1.0"


def clear_stage(out_dir: str, names: List[str]) -> None:
    """Hide and delete what an earlier (or killed) run of this stage wrote: the
    manifest first, then every shard and temporary file of each output."""
    manifest = rio.join(out_dir, rio.MANIFEST)
    if FileSystems.exists(manifest):
        FileSystems.delete([manifest])
    for name in names:
        rio.remove_stale(rio.join(out_dir, name))


def relativize(outputs: Dict[str, dict], out_dir: str) -> Dict[str, dict]:
    """File paths in a manifest are relative to the manifest's folder."""
    base = out_dir.rstrip("/") + "/"
    rel = {}
    for name, info in outputs.items():
        files = [dict(f, path=f["path"][len(base):] if f["path"].startswith(base) else f["path"])
                 for f in info["files"]]
        rel[name] = dict(info, files=files)
    return rel


def resolve(manifest_dir: str, path: str) -> str:
    return rio.resolve_path(manifest_dir, path)


def load_stage_manifest(path: str, expect_stage: str) -> dict:
    """An upstream manifest (a stage folder or its manifest.json), with absolute file paths."""
    manifest_path = path if path.endswith(".json") else rio.join(path, rio.MANIFEST)
    if not FileSystems.exists(manifest_path):
        raise FileNotFoundError(
            f"no {rio.MANIFEST} at {manifest_path}: run the '{expect_stage}' stage first "
            f"(a stage's outputs are complete only once its manifest is written)")
    manifest = rio.read_json(manifest_path)
    if manifest.get("stage") != expect_stage:
        raise ValueError(f"{manifest_path}: expected the manifest of stage '{expect_stage}', "
                         f"found stage '{manifest.get('stage')}'")
    base = os.path.dirname(manifest_path)
    for info in manifest.get("outputs", {}).values():
        for f in info["files"]:
            f["path"] = resolve(base, f["path"])
    return manifest
