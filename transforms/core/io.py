"""Parquet in and out: a deterministic shard writer, a reader of manifest-listed
files, and the per-stage manifest written last.

Shards are deterministic: records are ranked by id (a stable hash), rank // max_rows
picks the shard, each shard is sorted by id and written with pyarrow, so the same
records give byte-identical files whatever the runner, worker count or bundling.
Publishing: a file is written under a temporary name in a hidden ``.tmp/`` folder
beside it (a name no reader's glob matches: hidden folder, no ``.parquet`` suffix)
and renamed into place (the stage removes the emptied ``.tmp/`` at its end,
:func:`remove_empty_temp_dirs`); the manifest, written by the launcher after the
pipeline finished, is what makes a run visible, and readers take the files it lists
(:func:`published_files`). A re-run first withdraws the manifest, then deletes every
shard and temporary file of the outputs it rewrites, so shards of an earlier run
with another shard count never survive next to the new ones.
"""
from __future__ import annotations

import hashlib
import io
import itertools
import json
import math
import os
import typing
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from schemas.arrow import arrow_schema
from schemas.records import from_dict, to_dict
from transforms.core import record_id_of, stable_hash
from transforms.core.stage_files import (  # noqa: F401 - read through rio, like the rest
    DamagedStage,
    ReadStageRecords,
    check_stage_files,
    read_stage_file,
)

#: Records are spread over this many id-range buckets before ranking.
RANK_BUCKETS = 256
ROW_GROUP_ROWS = 2_000
#: The hidden folder, beside the final files, that holds files being written.
TEMP_DIR = ".tmp"
TEMP_SUFFIX = ".partial"


def _bucket(record_id: str) -> int:
    return int(stable_hash(record_id, length=4), 16) % RANK_BUCKETS


def _row_json(row: dict) -> str:
    return json.dumps(row, sort_keys=True, default=str)


def _by_id(items: list, rid_of: Callable[[Any], str], row_of: Callable[[Any], dict]) -> list:
    """``items`` ordered by record id, then by the row's content (JSON) among equal ids:
    the same order as sorting on (id, JSON), but a row is serialised only when its id
    is shared (the same record twice), not for every row."""
    out: list = []
    for _, group in itertools.groupby(sorted(items, key=rid_of), key=rid_of):
        tied = list(group)
        out.extend(tied if len(tied) == 1 else sorted(tied, key=lambda t: _row_json(row_of(t))))
    return out


def shard_path(prefix: str, index: int, count: int) -> str:
    return f"{prefix}-{index:05d}-of-{count:05d}.parquet"


def temp_path(path: str, tag: str) -> str:
    """Where ``path`` is written before it is renamed into place.

    ``dir/.tmp/NAME.TAG-PID.partial``: a hidden folder and a suffix that no glob
    for the final files (``NAME-*.parquet``, ``dir/*``, ``**/*.parquet``) matches.
    The process id keeps two concurrent attempts at the same file apart."""
    folder, name = FileSystems.split(path)
    return FileSystems.join(folder, TEMP_DIR, f"{name}.{tag}-{os.getpid()}{TEMP_SUFFIX}")


def publish_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to a temporary file, then rename it to ``path`` (replacing it)."""
    tmp = temp_path(path, hashlib.sha256(data).hexdigest()[:12])
    with FileSystems.create(tmp) as fh:
        fh.write(data)
    if FileSystems.exists(path):
        FileSystems.delete([path])
    FileSystems.rename([tmp], [path])


def write_table(path: str, rows: List[dict], record_cls, compression: str = "zstd") -> dict:
    """Write rows as one Parquet file (temp name, then rename); return its file entry."""
    table = pa.Table.from_pylist(rows, schema=arrow_schema(record_cls))
    buf = io.BytesIO()
    pq.write_table(table, buf, compression=compression, row_group_size=ROW_GROUP_ROWS)
    data = buf.getvalue()
    publish_bytes(path, data)
    return {
        "path": path,
        "rows": len(rows),
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


class _AssignShards(beam.DoFn):
    def __init__(self, max_rows: int):
        self.max_rows = max_rows

    def process(self, element, counts):
        bucket, items = element
        offset = sum(n for b, n in counts.items() if b < bucket)
        total = sum(counts.values())
        num_shards = max(1, math.ceil(total / self.max_rows))
        for i, (rid, row) in enumerate(_by_id(list(items), lambda t: t[0], lambda t: t[1])):
            rank = offset + i
            yield rank // self.max_rows, (num_shards, rid, row)


class _WriteShard(beam.DoFn):
    def __init__(self, prefix: str, record_cls, compression: str):
        self.prefix = prefix
        self.record_cls = record_cls
        self.compression = compression

    def process(self, element):
        shard, items = element
        items = _by_id(list(items), lambda t: t[1], lambda t: t[2])
        num_shards = items[0][0]
        rows = [row for _, _, row in items]
        entry = write_table(shard_path(self.prefix, shard, num_shards), rows, self.record_cls,
                            self.compression)
        beam.metrics.Metrics.counter("io", "rows_written").inc(len(rows))
        yield entry


class WriteParquetShards(beam.PTransform):
    """Records → Parquet shards of at most ``max_rows`` rows each, sorted by id.

    Returns a PCollection of file entries ``{path, rows, bytes, sha256}``."""

    def __init__(self, prefix: str, record_cls, max_rows: int = 50_000, compression: str = "zstd"):
        super().__init__()
        self.prefix = prefix
        self.record_cls = record_cls
        self.max_rows = max_rows
        self.compression = compression

    def expand(self, records):
        keyed = records | "Key" >> beam.Map(
            lambda r: (_bucket(record_id_of(r)), (record_id_of(r), to_dict(r))))
        counts = (
            keyed
            | "One" >> beam.Map(lambda kv: (kv[0], 1))
            | "CountPerBucket" >> beam.CombinePerKey(sum)
        )
        return (
            keyed
            | "GroupBuckets" >> beam.GroupByKey()
            | "AssignShards" >> beam.ParDo(_AssignShards(self.max_rows), counts=beam.pvalue.AsDict(counts))
            | "GroupShards" >> beam.GroupByKey()
            | "Write" >> beam.ParDo(_WriteShard(self.prefix, self.record_cls, self.compression))
        )


def read_parquet_rows(path: str) -> Iterable[dict]:
    """Rows of one Parquet file, row group by row group."""
    with FileSystems.open(path) as fh:
        pf = pq.ParquetFile(io.BytesIO(fh.read()))
    for i in range(pf.num_row_groups):
        yield from pf.read_row_group(i).to_pylist()


class ReadRecords(beam.PTransform):
    """Parquet files (as listed in an upstream manifest) → records of ``record_cls``."""

    def __init__(self, paths: List[str], record_cls):
        super().__init__()
        self.paths = sorted(paths)
        self.record_cls = record_cls

    def expand(self, pbegin):
        cls = self.record_cls
        return (
            pbegin
            | "Files" >> beam.Create(self.paths)
            | "Read" >> beam.FlatMap(lambda p: (from_dict(cls, row) for row in read_parquet_rows(p)))
            .with_output_types(cls)
            | "Spread" >> beam.Reshuffle()
        )


# -- manifests ------------------------------------------------------------------

MANIFEST = "manifest.json"


def file_entries(paths: Iterable[str]) -> List[dict]:
    """File entries (path, rows, bytes, sha256) read back from written files."""
    out = []
    for path in sorted(paths):
        with FileSystems.open(path) as fh:
            data = fh.read()
        rows = pq.ParquetFile(io.BytesIO(data)).metadata.num_rows
        out.append({"path": path, "rows": rows, "bytes": len(data),
                    "sha256": hashlib.sha256(data).hexdigest()})
    return out


def list_shards(prefix: str) -> List[str]:
    """Completed shards under a prefix (temp files of killed runs are never matched)."""
    pattern = f"{prefix}-*-of-*.parquet"
    try:
        result = FileSystems.match([pattern])[0]
    except Exception:  # noqa: BLE001 - nothing matched
        return []
    return sorted(m.path for m in result.metadata_list)


def write_json(path: str, obj) -> None:
    """Write JSON through a temporary file and a rename: readers see all of it or nothing."""
    publish_bytes(path, (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def write_json_value(value, path: str, key: str) -> None:
    """``{key: value}`` written to ``path`` (``write_json``): for ``beam.Map`` after a
    global combine, e.g. a count the launcher reads back."""
    write_json(path, {key: value})


def read_json(path: str):
    with FileSystems.open(path) as fh:
        return json.loads(fh.read().decode("utf-8"))


def column_counts(paths: Iterable[str], columns: typing.Sequence[str]) -> Dict[str, int]:
    """Counts of the value combinations of ``columns`` over Parquet files ("a/b" keys)."""
    counts: Dict[str, int] = {}
    for path in paths:
        with FileSystems.open(path) as fh:
            table = pq.read_table(io.BytesIO(fh.read()), columns=list(columns))
        cols = [table.column(c).to_pylist() for c in columns]
        for values in zip(*cols):
            key = "/".join("" if v is None else str(v) for v in values)
            counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def join(*parts: str) -> str:
    return FileSystems.join(*parts)


def remove_empty_temp_dirs(folders: Iterable[str]) -> List[str]:
    """Remove the hidden ``.tmp/`` folder of each (local) folder when it is empty: every
    file written there was renamed into place. Stages call it last, so a finished stage
    leaves no empty folder behind (readers that list a folder, like LLaMA-Factory's of
    ``data/``, see only the shards). A ``.tmp/`` still holding a killed writer's file
    stays; an object store has no folders to remove. Returns the folders removed."""
    removed = []
    for folder in folders:
        if "://" in folder:
            continue
        tmp = os.path.join(folder, TEMP_DIR)
        try:
            os.rmdir(tmp)
        except OSError:  # absent, or not empty
            continue
        removed.append(tmp)
    return removed


def list_temp_files(prefix: str) -> List[str]:
    """Temporary files left under ``prefix``'s hidden ``.tmp/`` folder (by killed writers)."""
    folder, name = FileSystems.split(prefix)
    pattern = FileSystems.join(folder, TEMP_DIR, f"{name}-*{TEMP_SUFFIX}")
    try:
        result = FileSystems.match([pattern])[0]
    except Exception:  # noqa: BLE001 - nothing matched
        return []
    return sorted(m.path for m in result.metadata_list)


def remove_stale(prefix: str, keep: Optional[List[str]] = None) -> List[str]:
    """Delete shards under ``prefix`` not in ``keep`` (from an earlier run with other shard
    counts) and every temporary file a killed writer left for this prefix."""
    keep_set = set(keep or [])
    stale = [p for p in list_shards(prefix) if p not in keep_set] + list_temp_files(prefix)
    if stale:
        FileSystems.delete(stale)
    return stale


def resolve_path(base_dir: str, path: str) -> str:
    """A path from a manifest: relative ones are relative to the manifest's folder."""
    if "://" in path or os.path.isabs(path):
        return path
    return join(base_dir, path)


def manifest_path(path: str) -> str:
    """The manifest of a stage folder (or the manifest path itself)."""
    return path if path.endswith(".json") else join(path, MANIFEST)


def published_files(stage_dir: str, name: str) -> List[str]:
    """The files of output ``name`` that the stage's manifest lists: what a reader reads.

    Raises FileNotFoundError while no manifest is written (the stage is not published)."""
    path = manifest_path(stage_dir)
    if not FileSystems.exists(path):
        raise FileNotFoundError(f"{path}: not published (no {MANIFEST})")
    manifest = read_json(path)
    base = FileSystems.split(path)[0]
    files = manifest.get("outputs", {}).get(name, {}).get("files", [])
    return [resolve_path(base, f["path"]) for f in files]


def read_columns(paths: Iterable[str], columns: typing.Sequence[str]) -> List[dict]:
    """Rows holding only ``columns``, over Parquet files (for launcher-side reports)."""
    rows: List[dict] = []
    for path in paths:
        with FileSystems.open(path) as fh:
            rows.extend(pq.read_table(io.BytesIO(fh.read()), columns=list(columns)).to_pylist())
    return rows


#: The longest line ``read_records`` reads (longer ones are ``line_too_long`` errors).
MAX_RECORD_LINE_BYTES = 1 << 26


def read_records(path: str, skip_blank: bool = True,
                 max_line_bytes: int = MAX_RECORD_LINE_BYTES) -> Iterator[Tuple[int, Optional[dict], Optional[str]]]:
    """``(line or row number, row or None, error or None)`` for each record of a JSONL
    (plain or compressed) or Parquet file, in order, read by ``transforms.core.readers``:
    whatever can't be a record comes back as an error at its line (``invalid_json``,
    ``not_an_object``, ``too_deep``, ``invalid_text``, ``line_too_long``,
    ``truncated_input``, ``corrupt_parquet``, …), never raised; blank lines are skipped,
    or reported as ``invalid_json`` errors when every line must be answered. A file that
    can't be read at all raises ``readers.UnreadableInput`` naming it."""
    from transforms.core import readers

    if path.endswith(".parquet"):
        for _, number, row in readers.read_parquet(path):
            if isinstance(row, readers.ReadError):
                yield number, None, row.error
            else:
                yield number, row, None
        return
    for number, record in readers.read_lines(path, max_line_bytes, skip_blank=skip_blank):
        if isinstance(record, readers.ReadError):
            yield number, None, record.error
        else:
            yield number, record, None
