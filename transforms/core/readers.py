"""Readers of input files, shared by ingest, decontamination and ``verify --input``:
JSONL (plain or gzip/bz2/xz/zst/deflate compressed), Parquet, a ``datasets`` directory
and ``hf:`` ids, each yielding ``(file, line, record_or_ReadError)`` with 1-based line
numbers (row index + 1 for tables). ``expand_inputs`` turns one configured path (file,
glob, directory, ``hf:`` id or ``pkg:PACKAGE/FILE``, a file shipped inside an installed
Python package, such as the demo's ``pkg:pipelines/demo/general.jsonl``) into the
``(format, path)`` inputs to read. Beam-free but for its FileSystems.

No input line stops a reader: whatever can't become a record comes back as a
:class:`ReadError` (the reason first, snake_case) at its line, never raised:

* ``line_too_long``, ``invalid_json`` (including bytes that aren't UTF-8),
  ``not_an_object``;
* ``too_deep``: arrays/objects nested deeper than :data:`MAX_DEPTH` (a JSON parser's
  recursion would otherwise kill the worker);
* ``invalid_text``: a string (a value or a key, at any depth) holding a lone UTF-16
  surrogate such as ``"\\ud800"``: valid JSON, but no UTF-8 coder can write it;
* ``truncated_input``: a compressed file that ends before its end-of-stream marker, or
  whose checksum is wrong (gzip trailer/CRC, bz2, xz, zstd frame, deflate): reported at
  the line after the last one read whole, with the partial line as payload; nothing of
  a truncated file is ever kept silently;
* ``read_error``: the file stopped reading part-way (an I/O error), likewise;
* ``corrupt_parquet``: a Parquet row group (or batch) that can't be decoded: each of its
  rows, by row number; ``invalid_row``: a table row that can't be converted.

A file that can't be opened at all (missing, unreadable, not Parquet, a broken
``datasets`` folder) is one error naming it: :func:`check_readable`, which the launcher
runs on every input before the pipeline (and any model) starts."""
from __future__ import annotations

import json
import os
from typing import Any, Iterator, List, NamedTuple, Optional, Tuple

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from transforms.core.records import MAX_PAYLOAD_CHARS
from transforms.core.streams import iter_lines, open_input, stream_error  # noqa: F401 - open_input: API
from transforms.core.values import MAX_DEPTH, check_value  # noqa: F401 - MAX_DEPTH: API

HF_PREFIX = "hf:"
#: ``pkg:PACKAGE/PATH``: a file (or glob) inside an installed package's folder.
PKG_PREFIX = "pkg:"
#: Files whose presence marks a directory written by ``Dataset.save_to_disk``.
DATASETS_DIR_MARKERS = ("dataset_info.json", "state.json")
_TABLE_BATCH_ROWS = 1024
#: How much of a line :func:`count_records` looks at to tell a blank one.
_COUNT_HEAD_BYTES = 256


class ReadError(NamedTuple):
    """An input line that is not a record: ``error`` starts with the snake_case reason;
    ``field`` is the path of the offending value when one is to blame (``a.b[2]``)."""

    error: str
    payload: str
    field: Optional[str] = None


class UnreadableInput(ValueError):
    """An input file that can't be read at all; the message names it."""


RecordOrError = Any  # dict | ReadError
ReadItem = Tuple[str, int, RecordOrError]


_JSON_TYPE_NAMES = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}


def parse_json_line(raw: bytes, size: int, max_bytes: int) -> RecordOrError:
    """One JSONL line → its object, or a ReadError (line_too_long, invalid_json,
    not_an_object, too_deep, invalid_text)."""
    if size > max_bytes:
        payload = raw[:MAX_PAYLOAD_CHARS].decode("utf-8", errors="replace")
        return ReadError(f"line_too_long: {size} bytes > max_line_bytes={max_bytes}", payload)
    payload = raw.decode("utf-8", errors="replace")
    try:
        value = json.loads(raw)
    except RecursionError:
        return ReadError(f"too_deep: nested more than the JSON parser can follow (limit {MAX_DEPTH})", payload)
    except ValueError as exc:  # JSONDecodeError, or UnicodeDecodeError for bad UTF-8
        return ReadError(f"invalid_json: {exc}", payload)
    if not isinstance(value, dict):
        kind = "null" if value is None else _JSON_TYPE_NAMES.get(type(value), type(value).__name__)
        return ReadError(f"not_an_object: got a JSON {kind}", payload)
    problem = check_value(value)
    if problem is not None:
        return ReadError(problem[0], payload, problem[1])
    return value


def read_lines(path: str, max_line_bytes: int, skip_blank: bool = True) -> Iterator[Tuple[int, RecordOrError]]:
    """``(line, record or ReadError)`` for each line of a JSONL file (any FileSystems
    path; compressed by suffix, the end of the stream checked, see :func:`open_input`).
    Blank lines are skipped, or reported as ``invalid_json`` when ``skip_blank`` is
    False. A file that stops reading part-way ends with a ``truncated_input`` or
    ``read_error`` ReadError at the line after the last whole one."""
    try:
        fh = open_input(path)
    except Exception as exc:  # noqa: BLE001 - whatever the filesystem raises, named
        raise UnreadableInput(f"{path}: can't open: {type(exc).__name__}: {exc}") from None
    with fh:
        for line_no, raw, size, broke in iter_lines(fh, max_line_bytes):
            if broke is not None:
                payload = raw[:MAX_PAYLOAD_CHARS].decode("utf-8", errors="replace")
                yield line_no, ReadError(stream_error(broke, line_no - 1), payload)
                return
            if size <= max_line_bytes and not raw.strip():
                if not skip_blank:
                    yield line_no, ReadError("invalid_json: blank line", "")
                continue
            yield line_no, parse_json_line(raw, size, max_line_bytes)


def read_jsonl(path: str, max_line_bytes: int) -> Iterator[ReadItem]:
    """Records of a JSONL file (:func:`read_lines`); blank lines skipped."""
    for line_no, record in read_lines(path, max_line_bytes):
        yield path, line_no, record


def check_row(row: Any) -> RecordOrError:
    """A table row as a record, or a ReadError (``too_deep``, ``invalid_text``)."""
    problem = check_value(row)
    if problem is None:
        return row
    return ReadError(problem[0], _row_payload(row), problem[1])


def _row_payload(row: Any) -> str:
    try:
        return json.dumps(row, ensure_ascii=True, default=str)[:MAX_PAYLOAD_CHARS]
    except (ValueError, TypeError, RecursionError):
        return ""


def _table_rows(batch, first_row: int) -> Iterator[RecordOrError]:
    """The rows of one Arrow batch as records; rows that can't be converted (e.g. bytes
    that aren't UTF-8 in a string column) as ``invalid_row`` ReadErrors, one by one."""
    try:
        rows = batch.to_pylist()
    except Exception:  # noqa: BLE001 - find the rows to blame, one at a time
        rows = []
        for index in range(batch.num_rows):
            try:
                rows.append(batch.slice(index, 1).to_pylist()[0])
            except Exception as exc:  # noqa: BLE001
                rows.append(ReadError(f"invalid_row: row {first_row + index} can't be read: "
                                      f"{type(exc).__name__}: {exc}", ""))
    for row in rows:
        yield row if isinstance(row, ReadError) else check_row(row)


def open_parquet(path: str):
    """A ``pyarrow.parquet.ParquetFile`` of ``path``; UnreadableInput naming the file when
    it can't be opened or is no Parquet file (e.g. truncated: no footer)."""
    import pyarrow.parquet as pq

    try:
        fh = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
    except Exception as exc:  # noqa: BLE001
        raise UnreadableInput(f"{path}: can't open: {type(exc).__name__}: {exc}") from None
    try:
        return pq.ParquetFile(fh)
    except Exception as exc:  # noqa: BLE001 - ArrowInvalid, OSError: not Parquet, truncated
        fh.close()
        raise UnreadableInput(f"{path}: not a readable Parquet file: {type(exc).__name__}: {exc}") from None


def read_parquet(path: str) -> Iterator[ReadItem]:
    """Rows of a Parquet file, streamed by record batch; the line is the row index + 1.

    A row group that can't be decoded (a corrupt page) gives a ``corrupt_parquet``
    ReadError for each of its rows not read yet; the next row group is read as usual."""
    pf = open_parquet(path)
    row = 0
    try:
        for group in range(pf.metadata.num_row_groups):
            group_end = row + pf.metadata.row_group(group).num_rows
            try:
                for batch in pf.iter_batches(batch_size=_TABLE_BATCH_ROWS, row_groups=[group]):
                    for record in _table_rows(batch, row + 1):
                        row += 1
                        yield path, row, record
            except Exception as exc:  # noqa: BLE001 - a corrupt page: every row of it, dead-lettered
                error = f"corrupt_parquet: row group {group} can't be decoded: {type(exc).__name__}: {exc}"
                while row < group_end:
                    row += 1
                    yield path, row, ReadError(error, "")
            row = group_end
    finally:
        pf.close()


def read_datasets_dir(path: str) -> Iterator[ReadItem]:
    """Rows of a ``Dataset.save_to_disk`` directory; the line is the row index + 1."""
    import datasets

    try:
        dataset = datasets.load_from_disk(path)
    except Exception as exc:  # noqa: BLE001 - a broken folder, named
        raise UnreadableInput(f"{path}: not a readable datasets folder: {type(exc).__name__}: {exc}") from None
    if not isinstance(dataset, datasets.Dataset):
        raise ValueError(
            f"{path} holds a DatasetDict (splits {sorted(dataset)}); "
            "point the source at one split's directory"
        )
    row = 0
    for table in dataset.with_format("arrow").iter(batch_size=_TABLE_BATCH_ROWS):
        for batch in table.to_batches():
            for record in _table_rows(batch, row + 1):
                row += 1
                yield path, row, record


def check_readable(fmt: str, path: str) -> None:
    """Raise :class:`UnreadableInput` naming ``path`` when it can't be read at all: it
    can't be opened, a compressed file's header is wrong, a Parquet file has no footer
    (truncated, or no Parquet), a ``datasets`` folder doesn't load. What a readable file
    holds past that (truncation, bad lines, corrupt pages) the readers report line by
    line. ``hf:`` ids and generators aren't checked here."""
    if fmt == "jsonl":
        try:
            fh = open_input(path)
        except Exception as exc:  # noqa: BLE001
            raise UnreadableInput(f"{path}: can't open: {type(exc).__name__}: {exc}") from None
        try:
            fh.read(1)
        except EOFError:
            pass  # ends early: the reader reports it at its line
        except Exception as exc:  # noqa: BLE001 - e.g. "Not a gzipped file", a directory
            raise UnreadableInput(f"{path}: can't be read: {type(exc).__name__}: {exc}") from None
        finally:
            fh.close()
    elif fmt == "parquet":
        open_parquet(path).close()
    elif fmt == "datasets":
        next(iter(read_datasets_dir(path)), None)


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
        yield spec, index + 1, check_row(record)


def count_records(fmt: str, path: str, limit: Optional[int] = None) -> Optional[int]:
    """How many records (or bad lines) the reader of ``fmt`` yields from ``path``, at most
    ``limit`` (counting stops there); None where that can't be told without fetching
    the data (``hf:``). For the launcher's progress totals: JSONL lines are counted as
    :func:`read_jsonl` reads them (blank ones left out), tables from their metadata."""
    if fmt == "jsonl":
        count = 0
        try:
            fh = open_input(path)
        except Exception:  # noqa: BLE001 - no total; the reader names the file
            return None
        with fh:
            for _, head, size, broke in iter_lines(fh, _COUNT_HEAD_BYTES):
                if broke is not None or size > _COUNT_HEAD_BYTES or head.strip():
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


def package_path(spec: str, owner: str = "input") -> str:
    """``pkg:PACKAGE/PATH`` → PATH under the folder of the installed package PACKAGE (a
    top-level package, found without importing it). ValueError naming ``owner`` when
    the spec is malformed or the package isn't installed as a folder."""
    import importlib.util

    package, _, relative = spec[len(PKG_PREFIX):].partition("/")
    if not package or not relative or os.path.isabs(relative) or ".." in relative.split("/"):
        raise ValueError(f"{owner}: expected pkg:PACKAGE/PATH inside the package, got {spec!r}")
    try:
        found = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        found = None
    folders = list(found.submodule_search_locations or ()) if found is not None else []
    if not folders:
        raise ValueError(f"{owner}: {spec!r}: no installed package {package!r}")
    return os.path.join(folders[0], *relative.split("/"))


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

    An ``hf:`` id (or ``fmt="hf"``) is one input, as is a ``datasets`` directory; a
    ``pkg:`` path is first put under its package's folder (:func:`package_path`); any
    other path is matched as a file or glob (``match_paths``: sorted), each file read
    as ``fmt`` or, for ``fmt="auto"``, as ``detect_format`` tells. ``owner`` names what
    the path belongs to in errors, e.g. ``"source 'gsm8k'"`` or ``"benchmark 'aime24'"``:
    a ValueError when the path can't be listed, matches no file, a ``datasets`` path is
    no directory, or a file's format can't be told. Ingest's sources and decontam's
    benchmarks both expand their paths with it."""
    if fmt == "hf" or (fmt == "auto" and path.startswith(HF_PREFIX)):
        return [("hf", path)]
    if path.startswith(PKG_PREFIX):
        path = package_path(path, owner)
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
