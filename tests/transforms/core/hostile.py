"""Hostile input files for the input suite (#17 classes 2 and 3): good lines mixed with
every kind of bad one, compressed files cut short, corrupt Parquet."""
from __future__ import annotations

import bz2
import gzip
import json
import lzma
import zlib
from typing import List, Tuple

import pyarrow as pa
import pyarrow.parquet as pq

#: (kind, raw line): every kind of line no reader may die on, and the reason it gets.
BAD_LINES: List[Tuple[str, str, bytes]] = [
    ("deep array", "too_deep", b"[" * 5000 + b"]" * 5000),
    ("deep object", "too_deep", b'{"a":' * 5000 + b"1" + b"}" * 5000),
    ("parseable but past MAX_DEPTH", "too_deep", b'{"a":' * 150 + b"1" + b"}" * 150),
    ("lone high surrogate", "invalid_text", b'{"question": "a\\ud800b", "answer": "#### 1"}'),
    ("lone low surrogate, nested", "invalid_text", b'{"question": "q", "answer": "#### 1", "meta": {"x": ["\\udc00"]}}'),
    ("surrogate in a key", "invalid_text", b'{"question": "q", "answer": "#### 1", "k\\udbff": 1}'),
    ("invalid UTF-8", "invalid_json", b'{"question": "caf\xe9", "answer": "#### 1"}'),
    ("not JSON", "invalid_json", b'{"question": '),
    ("not an object", "not_an_object", b'["question", "answer"]'),
]


def good_row(i: int) -> dict:
    """A line both ``sample`` (gsm8k preset) and ``verify --input`` use."""
    q = f"Tom has {i} apples and buys 2 more. How many apples does he have?"
    return {"question": q, "answer": f"{i} + 2 = {i + 2}\n#### {i + 2}", "prompt": q,
            "response": f"He has \\boxed{{{i + 2}}}.", "reference_answer": str(i + 2), "problem_id": f"p{i}",
            "note": "emoji \U0001f600, written as a valid surrogate pair escape"}


def good_line(i: int) -> bytes:
    return json.dumps(good_row(i)).encode()


def mixed_lines() -> Tuple[List[bytes], List[int], List[Tuple[int, str]]]:
    """Good and bad lines interleaved: (lines, good line numbers, [(bad line number, reason)])."""
    lines, good, bad = [], [], []
    for index, (_, reason, raw) in enumerate(BAD_LINES):
        lines.append(good_line(index))
        good.append(len(lines))
        lines.append(raw)
        bad.append((len(lines), reason))
    lines.append(good_line(len(BAD_LINES)))
    good.append(len(lines))
    return lines, good, bad


def gzip_cut(lines: List[bytes], partial: bytes) -> bytes:
    """A gzip stream of ``lines`` followed by half of ``partial``, with no end: what a
    download or copy cut short leaves. Flushed line by line, so every whole line decodes."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    data = b""
    for line in lines:
        data += comp.compress(line + b"\n") + comp.flush(zlib.Z_SYNC_FLUSH)
    tail = comp.compress(partial) + comp.flush(zlib.Z_SYNC_FLUSH)
    return data + tail[: len(tail) // 2]


def write_mixed_gz(path) -> Tuple[List[int], List[Tuple[int, str]]]:
    """The file mixing good lines with every bad kind, gzip, cut short in its last line.
    Returns (good line numbers, [(bad line number, reason)])."""
    lines, good, bad = mixed_lines()
    with open(path, "wb") as fh:
        fh.write(gzip_cut(lines, good_line(99)))
    bad.append((len(lines) + 1, "truncated_input"))
    return good, bad


def compressed(kind: str, text: bytes) -> bytes:
    if kind == "gz":
        return gzip.compress(text)
    if kind == "bz2":
        return bz2.compress(text)
    if kind == "xz":
        return lzma.compress(text)
    if kind == "zst":
        import zstandard

        return zstandard.ZstdCompressor().compress(text)
    if kind == "deflate":
        return zlib.compress(text)
    raise ValueError(kind)


def write_parquet_corrupt(path, rows: int = 40, group: int = 10, corrupt_group: int = 1) -> None:
    """A Parquet file of ``rows`` rows in groups of ``group``, the data of row group
    ``corrupt_group`` overwritten with garbage (the file's size and footer intact)."""
    table = pa.table({"question": [f"q{i} " * 30 for i in range(rows)], "n": list(range(rows))})
    pq.write_table(table, str(path), row_group_size=group, compression="zstd")
    meta = pq.ParquetFile(str(path)).metadata
    column = meta.row_group(corrupt_group).column(0)
    start = column.data_page_offset
    with open(path, "r+b") as fh:
        fh.seek(start + 8)
        fh.write(b"\xff\x00\xfe\x01" * ((column.total_compressed_size - 16) // 4))
