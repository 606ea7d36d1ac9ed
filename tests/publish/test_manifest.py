"""Publishing: files appear under hidden temporary names and are renamed into place,
a stage is visible only through its manifest (written last), and re-runs with another
shard count leave no stale shard."""
import glob
import json
import os

import pytest
from apache_beam.io.filesystems import FileSystems

from pipelines.cli import main
from publish import accounting
from publish import manifest as stage_manifest
from schemas.records import Problem, to_dict
from tests.factories import problem
from transforms.core import io as rio

GOOD = json.dumps({"question": "What is 1 + 1?", "answer": "#### 2"})
BAD = "{not json"


def _jsonl(path, good, bad):
    path.write_text("\n".join([GOOD.replace("1 + 1", f"{i} + 1") for i in range(good)] + [BAD] * bad) + "\n")
    return str(path)


def _config(tmp_path, source, max_share=1.0, max_rows=3, name="c.yaml"):
    path = tmp_path / name
    path.write_text(f"""
seed: 3
max_dead_letter_share: {max_share}
sources:
  - {{name: arithmetic, generator: arithmetic, count: 6, difficulty: [1]}}
  - {{name: mine, path: "{source}", preset: gsm8k}}
sample: {{backend: fake, model: fake-teacher, n: 2, max_tokens: 32}}
mix: {{reasoning: 10, knowledge: 0, max_rows_per_shard: {max_rows}}}
output: {{max_rows_per_shard: {max_rows}}}
""")
    return str(path)


# -- temporary files -------------------------------------------------------------------


def test_a_killed_writer_leaves_only_a_hidden_temp_file_no_glob_matches(tmp_path, monkeypatch):
    prefix = str(tmp_path / "data" / "train")
    rows = [to_dict(problem(source_id=str(i))) for i in range(3)]
    rio.write_table(rio.shard_path(prefix, 0, 2), rows, Problem)

    def killed(src, dst):
        raise KeyboardInterrupt("killed between write and rename")

    monkeypatch.setattr(FileSystems, "rename", staticmethod(killed))
    with pytest.raises(KeyboardInterrupt):
        rio.write_table(rio.shard_path(prefix, 1, 2), rows, Problem)
    monkeypatch.undo()

    temps = rio.list_temp_files(prefix)
    assert len(temps) == 1 and os.path.getsize(temps[0]) > 0
    assert "/.tmp/" in temps[0] and temps[0].endswith(rio.TEMP_SUFFIX)
    shard = [rio.shard_path(prefix, 0, 2)]
    data = str(tmp_path / "data")
    for pattern in ("train-*", "*", "*.parquet", "**/*.parquet", "**/train-*"):
        assert sorted(glob.glob(os.path.join(data, pattern), recursive=True)) == shard, pattern
    for pattern in ("train-*", "*", "*.parquet"):
        matched = FileSystems.match([os.path.join(data, pattern)])[0].metadata_list
        assert [m.path for m in matched] == shard, pattern
    assert rio.list_shards(prefix) == shard
    rio.remove_stale(prefix, keep=shard)
    assert rio.list_temp_files(prefix) == [] and rio.list_shards(prefix) == shard


def test_manifests_are_replaced_whole(tmp_path):
    path = str(tmp_path / "manifest.json")
    rio.write_json(path, {"a": 1})
    rio.write_json(path, {"a": 2})
    assert rio.read_json(path) == {"a": 2}
    assert sorted(os.listdir(tmp_path)) == [".tmp", "manifest.json"]
    assert os.listdir(tmp_path / ".tmp") == []


def test_clear_stage_withdraws_the_manifest_before_deleting_shards(tmp_path, monkeypatch):
    out = str(tmp_path)
    rows = [to_dict(problem())]
    rio.write_table(rio.shard_path(rio.join(out, "problems"), 0, 1), rows, Problem)
    rio.write_json(rio.join(out, rio.MANIFEST), {"stage": "sample"})
    deleted = []
    real_delete = FileSystems.delete
    monkeypatch.setattr(FileSystems, "delete", staticmethod(lambda paths: (deleted.append(list(paths)),
                                                                          real_delete(paths))))
    stage_manifest.clear_stage(out, ["problems"])
    assert deleted[0] == [rio.join(out, rio.MANIFEST)]
    assert rio.list_shards(rio.join(out, "problems")) == []


def test_published_files_come_from_the_manifest_only(tmp_path):
    out = str(tmp_path)
    with pytest.raises(FileNotFoundError, match="not published"):
        rio.published_files(out, "problems")
    rows = [to_dict(problem())]
    entry = rio.write_table(rio.shard_path(rio.join(out, "problems"), 0, 1), rows, Problem)
    rio.write_table(rio.shard_path(rio.join(out, "problems"), 0, 9), rows, Problem)  # not listed
    rio.write_json(rio.join(out, rio.MANIFEST), {
        "stage": "sample", "outputs": stage_manifest.relativize({"problems": {"files": [entry], "rows": 1}}, out)})
    assert rio.published_files(out, "problems") == [entry["path"]]


# -- re-runs -----------------------------------------------------------------------------


def _published_equals_glob(stage_dir, names):
    for name in names:
        listed = sorted(rio.published_files(stage_dir, name))
        assert sorted(glob.glob(os.path.join(stage_dir, f"{name}-*"))) == listed, name


def test_rerun_with_another_shard_count_leaves_no_stale_shard(tmp_path):
    source = _jsonl(tmp_path / "p.jsonl", good=4, bad=1)
    out = str(tmp_path / "s")
    assert main(["sample", "--config", _config(tmp_path, source, max_rows=3), "--output", out]) == 0
    first = rio.published_files(out, "rollouts")
    assert len(first) > 3
    leftover = rio.temp_path(rio.shard_path(rio.join(out, "rollouts"), 0, 1), "killed")
    with FileSystems.create(leftover) as fh:
        fh.write(b"half a shard")
    assert main(["sample", "--config", _config(tmp_path, source, max_rows=100, name="d.yaml"),
                 "--output", out]) == 0
    second = rio.published_files(out, "rollouts")
    assert len(second) == 1 and second[0].endswith("-00000-of-00001.parquet")
    _published_equals_glob(out, ["problems", "rollouts", "rejections", "dead_letters"])
    assert not FileSystems.exists(leftover)
    assert accounting.verify_manifest(out)["sample"]["rows"]["rollouts"] == 20
