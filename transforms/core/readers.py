"""Readers of input files, shared by ingest and decontamination: JSONL, Parquet, a
``datasets`` directory and ``hf:`` ids, each yielding ``(file, line, record_or_ReadError)``
with 1-based line numbers (row index + 1 for tables). A line that can't become a record
comes back as a :class:`ReadError` instead of raising. ``expand_inputs`` turns one
configured path (file, glob, directory or ``hf:`` id) into the ``(format, path)``
inputs to read. Beam-free but for its FileSystems."""
from __future__ import annotations

import json
import os
from typing import Any, Iterator, List, NamedTuple, Optional, Tuple

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from transforms.core.records import MAX_PAYLOAD_CHARS

HF_PREFIX = "hf:"
#: Files whose presence marks a directory written by ``Dataset.save_to_disk``.
DATASETS_DIR_MARKERS = ("dataset_info.json", "state.json")
_READ_CHUNK_BYTES = 1 << 20
_TABLE_BATCH_ROWS = 1024
#: How much of a line :func:`count_records` looks at to tell a blank one.
_COUNT_HEAD_BYTES = 256


class ReadError(NamedTuple):
    """An input line that is not a record: ``error`` starts with the snake_case reason."""

    error: str
    payload: str


RecordOrError = Any  # dict | ReadError
ReadItem = Tuple[str, int, RecordOrError]


def _iter_lines(fh, max_bytes: int) -> Iterator[Tuple[int, bytes, int]]:
    """Yield (1-based line number, first ``max_bytes + 1`` bytes, full byte length) per line.

    Reads fixed-size chunks, so a huge line never sits in memory whole."""
    line_no, size, head = 0, 0, bytearray()
    while True:
        chunk = fh.read(_READ_CHUNK_BYTES)
        if not chunk:
            break
        start = 0
        while True:
            newline = chunk.find(b"\n", start)
            end = len(chunk) if newline < 0 else newline
            if len(head) <= max_bytes:
                head += chunk[start : min(end, start + max_bytes + 1 - len(head))]
            size += end - start
            if newline < 0:
                break
            line_no += 1
            yield line_no, bytes(head), size
            head, size, start = bytearray(), 0, newline + 1
    if size:
        yield line_no + 1, bytes(head), size


_JSON_TYPE_NAMES = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}


def parse_json_line(raw: bytes, size: int, max_bytes: int) -> RecordOrError:
    """One JSONL line → its object, or a ReadError (line_too_long, invalid_json, not_an_object)."""
    if size > max_bytes:
        payload = raw[:MAX_PAYLOAD_CHARS].decode("utf-8", errors="replace")
        return ReadError(f"line_too_long: {size} bytes > max_line_bytes={max_bytes}", payload)
    payload = raw.decode("utf-8", errors="replace")
    try:
        value = json.loads(raw)
    except ValueError as exc:  # JSONDecodeError, or UnicodeDecodeError for bad UTF-8
        return ReadError(f"invalid_json: {exc}", payload)
    if not isinstance(value, dict):
        kind = "null" if value is None else _JSON_TYPE_NAMES.get(type(value), type(value).__name__)
        return ReadError(f"not_an_object: got a JSON {kind}", payload)
    return value


def read_jsonl(path: str, max_line_bytes: int) -> Iterator[ReadItem]:
    """Records of a JSONL file (any FileSystems path; .gz etc. decompressed); blank lines skipped."""
    with FileSystems.open(path) as fh:
        for line_no, raw, size in _iter_lines(fh, max_line_bytes):
            if size <= max_line_bytes and not raw.strip():
                continue
            yield path, line_no, parse_json_line(raw, size, max_line_bytes)


def read_parquet(path: str) -> Iterator[ReadItem]:
    """Rows of a Parquet file, streamed by record batch; the line is the row index + 1."""
    import pyarrow.parquet as pq

    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as fh:
        row = 0
        for batch in pq.ParquetFile(fh).iter_batches(batch_size=_TABLE_BATCH_ROWS):
            for record in batch.to_pylist():
                row += 1
                yield path, row, record


def read_datasets_dir(path: str) -> Iterator[ReadItem]:
    """Rows of a ``Dataset.save_to_disk`` directory; the line is the row index + 1."""
    import datasets

    dataset = datasets.load_from_disk(path)
    if not isinstance(dataset, datasets.Dataset):
        raise ValueError(
            f"{path} holds a DatasetDict (splits {sorted(dataset)}); "
            "point the source at one split's directory"
        )
    for index, record in enumerate(dataset):
        yield path, index + 1, record


def parse_hf(spec: str) -> Tuple[str, str]:
    """``hf:ORG/NAME[:SPLIT]`` → (dataset name or local directory, split; default "train")."""
    name = spec[len(HF_PREFIX) :] if spec.startswith(HF_PREFIX) else spec
    split = "train"
    head, sep, tail = name.rpartition(":")
    if sep and tail and "/" not in tail:
        name, split = head, tail
    if not name:
        raise ValueError(f"{spec!r}: expected hf:ORG/NAME[:SPLIT]")
    return name, split


def read_hf(spec: str) -> Iterator[ReadItem]:
    """Rows of ``load_dataset(NAME, split=SPLIT)``, streamed (rows past a limit aren't fetched)."""
    import datasets

    name, split = parse_hf(spec)
    for index, record in enumerate(datasets.load_dataset(name, split=split, streaming=True)):
        yield spec, index + 1, record


def count_records(fmt: str, path: str, limit: Optional[int] = None) -> Optional[int]:
    """How many records (or bad lines) the reader of ``fmt`` yields from ``path``, at most
    ``limit`` (counting stops there); None where that can't be told without fetching
    the data (``hf:``). For the launcher's progress totals: JSONL lines are counted as
    :func:`read_jsonl` reads them (blank ones left out), tables from their metadata."""
    if fmt == "jsonl":
        count = 0
        with FileSystems.open(path) as fh:
            for _, head, size in _iter_lines(fh, _COUNT_HEAD_BYTES):
                if size > _COUNT_HEAD_BYTES or head.strip():
                    count += 1
                    if limit is not None and count >= limit:
                        break
        return count
    if fmt == "parquet":
        import pyarrow.parquet as pq

        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as fh:
            count = pq.ParquetFile(fh).metadata.num_rows
    elif fmt == "datasets":
        import datasets

        dataset = datasets.load_from_disk(path)
        if not isinstance(dataset, datasets.Dataset):
            return None
        count = dataset.num_rows
    else:
        return None
    return count if limit is None else min(count, limit)


def is_datasets_dir(path: str) -> bool:
    """Whether ``path`` is a directory written by ``datasets.Dataset.save_to_disk``."""
    return any(FileSystems.exists(FileSystems.join(path, name)) for name in DATASETS_DIR_MARKERS)


def detect_format(path: str) -> Optional[str]:
    """The format of one input path for ``format: auto`` (None when it can't tell).

    ``.jsonl``/``.json`` (optionally compressed, e.g. ``.jsonl.gz``) → jsonl,
    ``.parquet`` → parquet, a ``save_to_disk`` directory → datasets, ``hf:`` → hf."""
    if path.startswith(HF_PREFIX):
        return "hf"
    name = path.lower()
    if CompressionTypes.detect_compression_type(name) != CompressionTypes.UNCOMPRESSED:
        name = os.path.splitext(name)[0]
    if name.endswith((".jsonl", ".json")):
        return "jsonl"
    if name.endswith(".parquet"):
        return "parquet"
    if is_datasets_dir(path):
        return "datasets"
    return None


def match_paths(pattern: str, owner: str) -> List[str]:
    """The files a path or glob names (Beam FileSystems), sorted. ValueError naming
    ``owner`` when the filesystem can't list it or it matches no file."""
    try:
        result = FileSystems.match([pattern])[0]
        paths = sorted(meta.path for meta in result.metadata_list)
    except Exception as exc:  # the filesystem's own error, e.g. a bad bucket
        raise ValueError(f"{owner}: can't list path {pattern!r}: {exc}") from None
    if not paths:
        raise ValueError(f"{owner}: path {pattern!r} matches no file")
    return paths


def expand_inputs(path: str, fmt: str = "auto", owner: str = "input") -> List[Tuple[str, str]]:
    """The ``(format, path)`` inputs one configured path names, in reading order.

    An ``hf:`` id (or ``fmt="hf"``) is one input, as is a ``datasets`` directory; any
    other path is matched as a file or glob (``match_paths``: sorted), each file read
    as ``fmt`` or, for ``fmt="auto"``, as ``detect_format`` tells. ``owner`` names what
    the path belongs to in errors, e.g. ``"source 'gsm8k'"`` or ``"benchmark 'aime24'"``:
    a ValueError when the path can't be listed, matches no file, a ``datasets`` path is
    no directory, or a file's format can't be told. Ingest's sources and decontam's
    benchmarks both expand their paths with it."""
    if fmt == "hf" or (fmt == "auto" and path.startswith(HF_PREFIX)):
        return [("hf", path)]
    if fmt == "datasets":
        if "://" not in path and not os.path.isdir(path):
            raise ValueError(f"{owner}: path {path!r} is not a directory")
        return [("datasets", path)]
    inputs = []
    for name in match_paths(path, owner):
        found = fmt if fmt != "auto" else detect_format(name)
        if found is None:
            raise ValueError(
                f"{owner}: can't tell the format of {name!r} "
                "(expected .jsonl, .json, .parquet or a save_to_disk directory); set format:"
            )
        inputs.append((found, name))
    return inputs
