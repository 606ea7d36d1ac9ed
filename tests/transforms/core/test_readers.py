"""The shared readers on real files: JSONL lines (blank, long, gzip), Parquet batches,
``datasets`` directories, ``hf:`` ids, format detection, and ``expand_inputs``: one
configured path (file, glob, directory, hf: id) → the (format, path) inputs to read,
sorted, with errors that name the path's owner."""
from __future__ import annotations

import gzip
import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import pytest  # noqa: E402

from transforms.core.readers import (  # noqa: E402
    ReadError,
    detect_format,
    expand_inputs,
    match_paths,
    parse_hf,
    parse_json_line,
    read_datasets_dir,
    read_jsonl,
    read_parquet,
)


@pytest.mark.parametrize(
    "raw,reason",
    [
        (b'{"a": 1}', None),
        (b'{"a": ', "invalid_json"),
        (b"{'a': 1}", "invalid_json"),
        (b'{"a": "\xff"}', "invalid_json"),
        (b"[1, 2]", "not_an_object"),
        (b'"text"', "not_an_object"),
        (b"null", "not_an_object"),
        (b'{"a": "0123456789"}', "line_too_long"),
    ],
)
def test_parse_json_line(raw, reason):
    out = parse_json_line(raw, len(raw), max_bytes=16)
    if reason is None:
        assert out == {"a": 1}
    else:
        assert isinstance(out, ReadError) and out.error.startswith(reason + ":")


def test_read_jsonl_numbers_lines_skips_blanks_and_reads_gzip(tmp_path):
    text = '{"n": 1}\n\n   \r\n{"n": 2}\r\n{"n": 3}'  # no newline at the end
    plain = tmp_path / "a.jsonl"
    plain.write_text(text)
    packed = tmp_path / "a.jsonl.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    for path in (plain, packed):
        assert [(line, rec) for _, line, rec in read_jsonl(str(path), 100)] == [(1, {"n": 1}), (4, {"n": 2}), (5, {"n": 3})]


def test_read_jsonl_a_long_line_is_dead_lettered_even_when_it_starts_blank(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(" " * 50 + '{"n": 1}\n{"n": 2}\n')
    out = list(read_jsonl(str(path), 20))
    assert [line for _, line, _ in out] == [1, 2]
    assert out[0][2].error.startswith("line_too_long: 58 bytes") and out[1][2] == {"n": 2}


def test_read_parquet_rows_are_numbered_across_batches(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = str(tmp_path / "p.parquet")
    pq.write_table(pa.table({"question": [f"q{i}" for i in range(2500)], "answer": list(range(2500))}), path,
                   row_group_size=700)
    rows = list(read_parquet(path))
    assert len(rows) == 2500
    assert rows[0] == (path, 1, {"question": "q0", "answer": 0})
    assert rows[-1] == (path, 2500, {"question": "q2499", "answer": 2499})

def _save_dataset(path, rows):
    import datasets

    datasets.Dataset.from_list(rows).save_to_disk(str(path))
    return str(path)


def test_read_datasets_dir(tmp_path):
    path = _save_dataset(tmp_path / "ds", [{"question": "a", "answer": "1"}, {"question": "b", "answer": "2"}])
    assert detect_format(path) == "datasets"
    assert list(read_datasets_dir(path)) == [(path, 1, {"question": "a", "answer": "1"}),
                                             (path, 2, {"question": "b", "answer": "2"})]


@pytest.mark.parametrize(
    "spec,expected",
    [
        ("hf:openai/gsm8k", ("openai/gsm8k", "train")),
        ("hf:openai/gsm8k:test", ("openai/gsm8k", "test")),
        ("hf:/tmp/some/dir", ("/tmp/some/dir", "train")),
        ("hf:/tmp/some/dir:validation", ("/tmp/some/dir", "validation")),
    ],
)
def test_parse_hf(spec, expected):
    assert parse_hf(spec) == expected


@pytest.mark.parametrize(
    "path,fmt",
    [("a/b.jsonl", "jsonl"), ("b.JSON", "jsonl"), ("b.jsonl.gz", "jsonl"), ("gs://x/b.parquet", "parquet"),
     ("hf:org/name", "hf"), ("b.csv", None)],
)
def test_detect_format(path, fmt):
    assert detect_format(path) == fmt


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
