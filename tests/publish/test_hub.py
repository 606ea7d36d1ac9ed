"""``reasoning-corpus publish``: verify first, then upload only the dataset-repository files.

No test reaches the Hub: ``huggingface_hub.HfApi`` is replaced by a recorder, and the
files an upload would take are those huggingface_hub's own pattern filter lets through."""
import os
import shutil
import subprocess
import sys

import huggingface_hub
import pytest
from huggingface_hub.utils import filter_repo_objects

from pipelines.cli import main
from tests.pipelines.cli_support import ROOT, write_config

CONFIG = """\
seed: 5
sources:
  - {name: arithmetic, generator: arithmetic, count: 16, difficulty: [1]}
sample: {backend: fake, model: fake-teacher, n: 4, max_tokens: 64}
mix: {reasoning: 6, knowledge: 0, max_rows_per_shard: 2}
"""
TOKEN = "hf_secret_test_token"


class Recorder:
    """Stands in for HfApi: records every call; ``fail`` makes upload_folder raise."""

    calls: list = []
    fail = None

    def __init__(self, token=None, **kwargs):
        Recorder.calls.append(("HfApi", {"token": token, **kwargs}))

    def create_repo(self, repo_id, **kwargs):
        Recorder.calls.append(("create_repo", {"repo_id": repo_id, **kwargs}))
        return huggingface_hub.RepoUrl(f"https://huggingface.co/datasets/{repo_id}")

    def create_branch(self, repo_id, **kwargs):
        Recorder.calls.append(("create_branch", {"repo_id": repo_id, **kwargs}))

    def upload_folder(self, **kwargs):
        Recorder.calls.append(("upload_folder", kwargs))
        if Recorder.fail:
            raise Recorder.fail
        return huggingface_hub.CommitInfo(commit_url="https://huggingface.co/datasets/org/x/commit/abc",
                                          commit_message="m", commit_description="", oid="abc")


@pytest.fixture
def hub(monkeypatch):
    monkeypatch.setattr(huggingface_hub, "HfApi", Recorder)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    Recorder.calls, Recorder.fail = [], None
    return Recorder


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A whole `run`: the corpus folder with sample/, curate/, mix/ and the marker beside it."""
    tmp = tmp_path_factory.mktemp("publish")
    out = str(tmp / "run")
    assert main(["run", "--config", write_config(tmp, CONFIG), "--output", out, "-q"]) == 0
    return out


def _all_files(folder):
    """Every file under ``folder``, hidden ones included, relative, with / separators."""
    return sorted(os.path.relpath(os.path.join(d, f), folder).replace(os.sep, "/")
                  for d, _, files in os.walk(folder) for f in files)


def test_publish_uploads_exactly_the_dataset_files(run_dir, hub, capsys):
    assert main(["publish", run_dir, "--repo", "org/reasoning-x"]) == 0
    names = [name for name, _ in hub.calls]
    assert names == ["HfApi", "create_repo", "upload_folder"]  # no branch without --revision
    calls = dict(hub.calls)
    assert calls["HfApi"] == {"token": TOKEN}
    assert calls["create_repo"] == {"repo_id": "org/reasoning-x", "repo_type": "dataset", "private": None,
                                    "exist_ok": True}
    upload = calls["upload_folder"]
    shards = sorted(f for f in _all_files(run_dir) if f.startswith("data/"))
    plots = sorted(f for f in _all_files(run_dir) if f.startswith("plots/"))
    expected = sorted(["README.md", "dataset_info.json", "manifest.json"] + shards + plots)
    assert len(shards) >= 2 and all(f.endswith(".parquet") for f in shards) and len(plots) == 4
    assert upload["allow_patterns"] == expected
    # what huggingface_hub's own filter takes from the folder: those files, nothing of the
    # stage folders or the marker
    everything = _all_files(run_dir)
    assert {"sample/manifest.json", "curate/manifest.json", ".reasoning-corpus"} <= set(everything)
    assert any(f.startswith("mix/") for f in everything)
    assert sorted(filter_repo_objects(everything, allow_patterns=upload["allow_patterns"])) == expected
    assert {k: upload[k] for k in ("repo_id", "repo_type", "folder_path", "revision", "delete_patterns")} == {
        "repo_id": "org/reasoning-x", "repo_type": "dataset", "folder_path": run_dir, "revision": None,
        "delete_patterns": ["data/train-*.parquet", "plots/*.png"]}
    assert upload["commit_message"].startswith("reasoning-corpus: ")
    out = capsys.readouterr().out
    assert f"published {len(expected)} file(s) to https://huggingface.co/datasets/org/reasoning-x" in out
    assert TOKEN not in out


def test_private_branch_and_token_variable(run_dir, hub, monkeypatch, capsys):
    monkeypatch.delenv("HF_TOKEN")
    monkeypatch.setenv("MY_HUB_TOKEN", "hf_other")
    assert main(["publish", run_dir, "--repo", "org/x", "--private", "--revision", "v2",
                 "--token-env", "MY_HUB_TOKEN"]) == 0
    calls = dict(hub.calls)
    assert calls["HfApi"] == {"token": "hf_other"}
    assert calls["create_repo"]["private"] is True
    assert calls["create_branch"] == {"repo_id": "org/x", "repo_type": "dataset", "branch": "v2", "exist_ok": True}
    assert calls["upload_folder"]["revision"] == "v2"
    assert "(branch v2)" in capsys.readouterr().out


def test_no_token_is_a_clear_error_before_anything(run_dir, hub, monkeypatch, capsys):
    monkeypatch.delenv("HF_TOKEN")
    assert main(["publish", run_dir, "--repo", "org/x"]) == 2
    err = capsys.readouterr().err
    assert "no Hugging Face token: the environment variable HF_TOKEN is not set" in err and "--token-env" in err
    assert hub.calls == []


def test_a_failing_upload_is_one_line_and_exit_1(run_dir, hub, capsys):
    hub.fail = OSError(f"403 Forbidden: you can't write to org/x with {TOKEN}\nsecond line\nthird")
    assert main(["publish", run_dir, "--repo", "org/x"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and TOKEN not in err
    assert err.startswith("reasoning-corpus: error: publish to org/x failed: OSError: 403 Forbidden")


def test_a_folder_that_fails_verification_is_not_published(run_dir, hub, tmp_path, capsys):
    folder = tmp_path / "copy"
    shutil.copytree(run_dir, folder)
    shard = sorted((folder / "data").iterdir())[0]
    data = bytearray(shard.read_bytes())
    data[20] ^= 0xFF
    shard.write_bytes(bytes(data))
    assert main(["publish", str(folder), "--repo", "org/x"]) == 1
    err = capsys.readouterr().err
    assert "publish refused" in err and "fails verification" in err and "checksum mismatch" in err
    assert hub.calls == []


@pytest.mark.parametrize("where, repo, message", [
    ("curate", "org/x", "is the manifest of stage 'curate', not of a corpus"),
    ("nowhere", "org/x", "no manifest.json in"),
    ("", "just-a-name", "--repo must be ORG/NAME"),
])
def test_what_is_not_a_corpus_or_a_repo_is_refused(run_dir, hub, where, repo, message, capsys):
    assert main(["publish", os.path.join(run_dir, where) if where else run_dir, "--repo", repo]) == 2
    assert message in capsys.readouterr().err
    assert hub.calls == []


def test_publish_is_in_the_help():
    proc = subprocess.run([sys.executable, "-m", "pipelines", "publish", "--help"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode == 0
    for flag in ("--repo", "--private", "--revision", "--token-env"):
        assert flag in proc.stdout
    top = subprocess.run([sys.executable, "-m", "pipelines", "--help"], capture_output=True, text=True,
                         cwd=ROOT, timeout=60)
    assert "publish" in top.stdout
