"""``reasoning-corpus publish DIR --repo ORG/NAME``: a corpus folder to a Hub dataset repository.

:func:`publish_folder` checks the folder first, exactly as ``reasoning-corpus verify DIR``
does (:func:`publish.accounting.verify_manifest`, upstream stages included), and refuses
one that fails. It then creates the dataset repository (``exist_ok``: an existing one is
reused, its visibility unchanged) and, with ``--revision``, the branch, and uploads in
one commit only the dataset-repository files the manifest names
(:func:`publish.layout.repo_files`: the card, ``dataset_info.json``, the shards, the
manifest) as ``allow_patterns``: never a stage folder (``sample/``, ``curate/``,
``mix/``), the ``.reasoning-corpus`` marker or a file the manifest does not name. Remote
shards and plots the upload does not replace are deleted in the same commit, so a
corpus with fewer shards than the last one leaves none stale on the Hub.

The token is read from an environment variable (``HF_TOKEN``, or the one ``--token-env``
names), never from a flag, and never printed. Nothing here is tested against the Hub
(there is no network in CI): the tests replace ``HfApi`` and check the calls.
"""
from __future__ import annotations

import os
import re
from typing import Optional

from publish.accounting import verify_manifest
from publish.layout import DATA_GLOB, repo_files
from transforms.core import io as rio

DEFAULT_TOKEN_ENV = "HF_TOKEN"
REPO_TYPE = "dataset"
#: Remote files an upload replaces whole: the shards and the plots this tool writes.
DELETE_PATTERNS = [DATA_GLOB, "plots/*.png"]
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


class PublishError(RuntimeError):
    """The Hub refused or failed (a one-line message; the original is the ``__cause__``)."""


def token_from_env(variable: str) -> str:
    """The token in ``variable``; ValueError saying what to set when it is empty."""
    token = os.environ.get(variable, "").strip()
    if not token:
        raise ValueError(f"publish: no Hugging Face token: the environment variable {variable} is not set "
                         f"(put a write token in it, or name the variable holding one with --token-env VAR)")
    return token


def check_repo_id(repo_id: str) -> str:
    if not _REPO_ID.match(repo_id or ""):
        raise ValueError(f"publish: --repo must be ORG/NAME (a Hub dataset repository), got {repo_id!r}")
    return repo_id


def upload_plan(out_dir: str) -> dict:
    """What :func:`publish_folder` uploads from ``out_dir``: its mix manifest and the
    repository files (relative paths, every one present). ValueError for a folder that
    is not a local corpus folder."""
    if "://" in out_dir:
        raise ValueError(f"publish: {out_dir} is not a local folder (download it first)")
    path = rio.join(out_dir, rio.MANIFEST)
    if not os.path.exists(path):
        raise ValueError(f"publish: no {rio.MANIFEST} in {out_dir}: publish the output folder of a mix "
                         f"(or run/demo) run")
    manifest = rio.read_json(path)
    if manifest.get("stage") != "mix":
        raise ValueError(f"publish: {path} is the manifest of stage '{manifest.get('stage')}', not of a "
                         f"corpus (stage 'mix')")
    files = repo_files(manifest)
    missing = [f for f in files if not os.path.isfile(os.path.join(out_dir, f))]
    if missing:
        raise ValueError(f"publish: {out_dir} lacks {', '.join(missing)} (run `reasoning-corpus report "
                         f"{out_dir}` to write the card again)")
    return {"manifest": manifest, "files": files}


def _one_line(exc: BaseException, token: str) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = f"{type(exc).__name__}: {lines[0][:300] if lines else ''}"
    return text.replace(token, "***") if token else text


def publish_folder(out_dir: str, repo_id: str, token: str, private: bool = False,
                   revision: Optional[str] = None) -> dict:
    """Verify ``out_dir``, then upload its repository files to the dataset ``repo_id``.

    Returns ``{repo_id, revision, files, url, commit_url}``. Raises ValueError (a folder
    that is not a corpus), ``publish.accounting.ManifestError`` (it fails verification:
    nothing is uploaded) or :class:`PublishError` (the Hub failed)."""
    check_repo_id(repo_id)
    plan = upload_plan(out_dir)
    verify_manifest(out_dir)
    from huggingface_hub import HfApi

    manifest, files = plan["manifest"], plan["files"]
    try:
        api = HfApi(token=token)
        repo = api.create_repo(repo_id, repo_type=REPO_TYPE, private=True if private else None, exist_ok=True)
        if revision:
            api.create_branch(repo_id, repo_type=REPO_TYPE, branch=revision, exist_ok=True)
        commit = api.upload_folder(
            repo_id=repo_id, repo_type=REPO_TYPE, folder_path=out_dir, revision=revision,
            allow_patterns=files, delete_patterns=list(DELETE_PATTERNS),
            commit_message=f"reasoning-corpus: {manifest['rows']} examples (config {manifest['config_hash']})")
    except Exception as exc:  # noqa: BLE001 - whatever the Hub or the network raised, in one line
        raise PublishError(_one_line(exc, token)) from exc
    return {"repo_id": repo_id, "revision": revision, "files": files,
            "url": str(getattr(repo, "url", "") or f"https://huggingface.co/datasets/{repo_id}"),
            "commit_url": getattr(commit, "commit_url", None)}


def format_published(result: dict) -> str:
    where = result["url"] + (f" (branch {result['revision']})" if result["revision"] else "")
    commit = f"; commit {result['commit_url']}" if result.get("commit_url") else ""
    return f"reasoning-corpus: published {len(result['files'])} file(s) to {where}{commit}"
