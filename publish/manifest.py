"""Stage manifests on the launcher side: clearing a stage's old outputs, relative file
paths, and reading an upstream stage's manifest back."""
from __future__ import annotations

import os
from typing import Dict, List, Sequence

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


def _damaged(path: str, what: str) -> "rio.DamagedStage":
    return rio.DamagedStage(f"{path}: damaged stage manifest: {what}")


def load_stage_manifest(path: str, expect_stage: str, check: Sequence[str] = ()) -> dict:
    """An upstream manifest (a stage folder or its manifest.json), with absolute file paths.

    Errors name the manifest: missing (FileNotFoundError), not JSON, not the expected
    stage, or a field missing or of the wrong type (``outputs.<name>.files[i].path``;
    DamagedStage, a ValueError). The files of the outputs in ``check`` are checked too
    (``rio.check_stage_files``: there, the listed size, Parquet with the listed rows)."""
    manifest_path = path if path.endswith(".json") else rio.join(path, rio.MANIFEST)
    if not FileSystems.exists(manifest_path):
        raise FileNotFoundError(
            f"no {rio.MANIFEST} at {manifest_path}: run the '{expect_stage}' stage first "
            f"(a stage's outputs are complete only once its manifest is written)")
    try:
        manifest = rio.read_json(manifest_path)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise _damaged(manifest_path, f"not JSON ({type(exc).__name__}: {exc})") from None
    except OSError as exc:
        raise _damaged(manifest_path, f"can't be read ({type(exc).__name__}: {exc})") from None
    if not isinstance(manifest, dict):
        raise _damaged(manifest_path, f"a JSON {type(manifest).__name__}, not an object")
    if manifest.get("stage") != expect_stage:
        raise ValueError(f"{manifest_path}: expected the manifest of stage '{expect_stage}', "
                         f"found stage '{manifest.get('stage')}'")
    outputs = manifest.get("outputs")
    if not isinstance(outputs, dict):
        raise _damaged(manifest_path, "field 'outputs' is missing or not an object")
    base = os.path.dirname(manifest_path)
    for name, info in outputs.items():
        if not isinstance(info, dict) or not isinstance(info.get("files"), list):
            raise _damaged(manifest_path, f"field 'outputs.{name}.files' is missing or not a list")
        if not isinstance(info.get("rows"), int):
            raise _damaged(manifest_path, f"field 'outputs.{name}.rows' is missing or not a number")
        for index, f in enumerate(info["files"]):
            if not isinstance(f, dict) or not isinstance(f.get("path"), str) or not f["path"]:
                raise _damaged(manifest_path, f"field 'outputs.{name}.files[{index}].path' is missing "
                                              "or not a string")
            f["path"] = resolve(base, f["path"])
    for name in check:
        if name not in outputs:
            raise _damaged(manifest_path, f"field 'outputs.{name}' is missing")
    rio.check_stage_files(manifest_path, outputs, check)
    return manifest
