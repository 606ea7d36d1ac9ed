"""Deterministic Parquet shards: max rows per shard, sorted by id, byte-identical reruns."""
import glob
import json
import os

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to

from schemas.records import Problem
from tests.factories import problem
from transforms.core import io as rio


def _write(records, out, max_rows, options=None):
    with beam.Pipeline(options=PipelineOptions(options or [])) as p:
        entries = (p | beam.Create(records) | rio.WriteParquetShards(
            os.path.join(out, "problems"), Problem, max_rows=max_rows))
        assert_that(entries | beam.Map(lambda e: e["rows"]) | beam.combiners.ToList()
                    | beam.Map(sum), equal_to([len(records)]))
    return sorted(glob.glob(os.path.join(out, "problems-*.parquet")))


def _bytes(paths):
    return [open(p, "rb").read() for p in paths]


def test_shards_have_at_most_max_rows_sorted_by_id_and_round_trip(tmp_path):
    records = [problem(source_id=str(i), prompt=f"What is {i} + 1?") for i in range(23)]
    paths = _write(records, str(tmp_path), max_rows=5)
    assert [os.path.basename(p) for p in paths] == [f"problems-0000{i}-of-00005.parquet" for i in range(5)]
    rows = [list(rio.read_parquet_rows(p)) for p in paths]
    assert [len(r) for r in rows] == [5, 5, 5, 5, 3]
    for shard in rows:
        ids = [r["problem_id"] for r in shard]
        assert ids == sorted(ids)
    assert sorted(r["problem_id"] for shard in rows for r in shard) == sorted(r.problem_id for r in records)
    entries = rio.file_entries(paths)
    assert [e["rows"] for e in entries] == [5, 5, 5, 5, 3]
    assert not glob.glob(os.path.join(str(tmp_path), "*.tmp*"))


def test_reruns_in_another_order_and_runner_mode_are_byte_identical(tmp_path):
    records = [problem(source_id=str(i), prompt=f"q{i}") for i in range(40)]
    first = _bytes(_write(records, str(tmp_path / "a"), max_rows=16))
    second = _bytes(_write(list(reversed(records)), str(tmp_path / "b"), max_rows=16,
                           options=["--direct_running_mode=multi_processing", "--direct_num_workers=2"]))
    assert first == second and len(first) == 3


def test_records_sharing_an_id_are_ordered_by_content_whatever_the_input_order(tmp_path):
    """The sort key is the id; only rows with the same id are compared by their content
    (JSON), so the bytes don't depend on the input order, and match the (id, JSON) order."""
    twins = [problem(source_id="same", prompt=f"variant {i}") for i in (3, 1, 2)]
    records = twins + [problem(source_id=str(i), prompt=f"q{i}") for i in range(6)]
    first = _bytes(_write(records, str(tmp_path / "a"), max_rows=4))
    second = _bytes(_write(list(reversed(records)), str(tmp_path / "b"), max_rows=4))
    assert first == second
    rows = [r for p in sorted(glob.glob(str(tmp_path / "a" / "problems-*.parquet")))
            for r in rio.read_parquet_rows(p)]
    shared = [r["prompt"] for r in rows if r["source_id"] == "same"]
    assert shared == ["variant 1", "variant 2", "variant 3"]
    items = [(r["problem_id"], r) for r in rows]
    old_order = sorted(items, key=lambda t: (t[0], json.dumps(t[1], sort_keys=True, default=str)))
    assert rio._by_id(list(reversed(items)), lambda t: t[0], lambda t: t[1]) == old_order


def test_read_records_returns_what_was_written(tmp_path):
    records = [problem(source_id=str(i), choices=["a", "b"] if i % 2 else []) for i in range(7)]
    paths = _write(records, str(tmp_path), max_rows=3)
    with beam.Pipeline() as p:
        assert_that(p | rio.ReadRecords(paths, Problem), equal_to(records))


def test_remove_stale_shards_and_temp_files_are_never_listed(tmp_path):
    prefix = os.path.join(str(tmp_path), "x")
    for name in ("x-00000-of-00002.parquet", "x-00001-of-00002.parquet",
                 "x-00000-of-00001.parquet.tmp-abc"):
        (tmp_path / name).write_bytes(b"")
    assert [os.path.basename(p) for p in rio.list_shards(prefix)] == [
        "x-00000-of-00002.parquet", "x-00001-of-00002.parquet"]
    rio.remove_stale(prefix, keep=[os.path.join(str(tmp_path), "x-00001-of-00002.parquet")])
    assert [os.path.basename(p) for p in rio.list_shards(prefix)] == ["x-00001-of-00002.parquet"]


def test_empty_input_writes_no_shard(tmp_path):
    with beam.Pipeline() as p:
        _ = p | beam.Create([]).with_output_types(Problem) | rio.WriteParquetShards(
            os.path.join(str(tmp_path), "problems"), Problem, max_rows=5)
    assert rio.list_shards(os.path.join(str(tmp_path), "problems")) == []


def test_only_empty_temp_folders_are_removed(tmp_path):
    """A stage's last step: the emptied .tmp/ folders go, one holding a killed writer's
    file stays, a folder without one and an object-store path are left alone."""
    rio.publish_bytes(str(tmp_path / "a" / "x.json"), b"{}")
    rio.publish_bytes(str(tmp_path / "b" / "y.json"), b"{}")
    (tmp_path / "b" / rio.TEMP_DIR / "y.json.abc-1.partial").write_bytes(b"half")
    (tmp_path / "c").mkdir()
    assert (tmp_path / "a" / rio.TEMP_DIR).is_dir()
    folders = [str(tmp_path / name) for name in "abc"] + ["gs://bucket/out"]
    assert rio.remove_empty_temp_dirs(folders) == [str(tmp_path / "a" / rio.TEMP_DIR)]
    assert sorted(os.listdir(tmp_path / "a")) == ["x.json"]
    assert os.listdir(tmp_path / "b" / rio.TEMP_DIR) == ["y.json.abc-1.partial"]
