"""expand_inputs: one configured path (file, glob, directory, hf: id) → the (format,
path) inputs to read, sorted, with errors that name the path's owner."""
from __future__ import annotations

import gzip

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from transforms.core.readers import expand_inputs, match_paths, read_jsonl, read_parquet


@pytest.fixture
def files(tmp_path):
    (tmp_path / "b.jsonl").write_text('{"q": "b"}\n', encoding="utf-8")
    with gzip.open(tmp_path / "a.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write('{"q": "a"}\n')
    pq.write_table(pa.table({"q": ["c"]}), tmp_path / "c.parquet")
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "state.json").write_text("{}", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not data", encoding="utf-8")
    return tmp_path


def test_a_glob_expands_to_sorted_files_each_with_its_detected_format(files):
    inputs = expand_inputs(str(files / "[cba].*"), owner="source 'mine'")
    assert inputs == [("jsonl", str(files / "a.jsonl.gz")), ("jsonl", str(files / "b.jsonl")),
                      ("parquet", str(files / "c.parquet"))]
    assert [r for _, _, r in read_jsonl(inputs[0][1], 1 << 20)] == [{"q": "a"}]
    assert [r for _, _, r in read_parquet(inputs[2][1])] == [{"q": "c"}]
    with pytest.raises(ValueError, match="notes.txt"):  # this glob also names a file of no known format
        expand_inputs(str(files / "*.*"), owner="source 'mine'")


def test_one_file_a_directory_and_hf_ids(files):
    assert expand_inputs(str(files / "b.jsonl")) == [("jsonl", str(files / "b.jsonl"))]
    assert expand_inputs(str(files / "saved")) == [("datasets", str(files / "saved"))]
    assert expand_inputs(str(files / "saved"), fmt="datasets") == [("datasets", str(files / "saved"))]
    assert expand_inputs("hf:org/name:test") == [("hf", "hf:org/name:test")]
    assert expand_inputs("org/name", fmt="hf") == [("hf", "org/name")]
    assert expand_inputs(str(files / "notes.txt"), fmt="jsonl") == [("jsonl", str(files / "notes.txt"))]


def test_errors_name_the_owner_and_the_path(files):
    gone = str(files / "none*.jsonl")
    with pytest.raises(ValueError) as info:
        expand_inputs(gone, owner="benchmark 'aime24'")
    assert str(info.value) == f"benchmark 'aime24': path {gone!r} matches no file"
    with pytest.raises(ValueError) as info:
        expand_inputs(str(files / "b.jsonl"), fmt="datasets", owner="source 'x'")
    assert str(info.value) == f"source 'x': path {str(files / 'b.jsonl')!r} is not a directory"
    with pytest.raises(ValueError) as info:
        expand_inputs(str(files / "notes.txt"), owner="source 'x'")
    assert str(info.value) == (f"source 'x': can't tell the format of {str(files / 'notes.txt')!r} "
                               "(expected .jsonl, .json, .parquet or a save_to_disk directory); set format:")


def test_match_paths_sorts_and_reports_listing_errors(files):
    assert match_paths(str(files / "[ab].*"), "source 'x'") == [str(files / "a.jsonl.gz"), str(files / "b.jsonl")]
    with pytest.raises(ValueError, match=r"^source 'x': can't list path 'nosuchscheme://bucket/\*'"):
        match_paths("nosuchscheme://bucket/*", "source 'x'")
