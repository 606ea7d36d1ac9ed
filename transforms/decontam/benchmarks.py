"""Reading benchmarks: a JSONL or Parquet file or glob, a ``save_to_disk`` directory or
an ``hf:ORG/NAME[:SPLIT]`` id (expanded and read with ``transforms.core.readers``), the
item text taken from the first of ``fields`` a row has, the item id from its id field
(else its line or row number)."""
from __future__ import annotations

from typing import List, Sequence, Tuple

from transforms.core import readers
from transforms.decontam.config import BenchmarkConfig

_ID_FIELDS = ("id", "unique_id", "idx")


def benchmark_inputs(benchmark: BenchmarkConfig) -> List[Tuple[str, str]]:
    """(format, path) of each input of a benchmark; ValueError when there is none."""
    try:
        return readers.expand_inputs(benchmark.path, owner=f"benchmark {benchmark.name!r}")
    except ValueError as exc:
        raise ValueError(f"decontaminate: {exc}") from None


def _item_text(row: dict, fields: Sequence[str]) -> str:
    for field in fields:
        value = row.get(field)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _item_id(row: dict, line: int) -> str:
    for field in _ID_FIELDS:
        value = row.get(field)
        if value is not None and str(value).strip():
            return str(value)
    return str(line)


def read_benchmark(benchmark: BenchmarkConfig) -> List[Tuple[str, str]]:
    """(item id, text) of every row of a benchmark that has one of its fields."""
    items = []
    for fmt, path in benchmark_inputs(benchmark):
        if fmt == "jsonl":
            rows = readers.read_jsonl(path, 1 << 24)
        elif fmt == "parquet":
            rows = readers.read_parquet(path)
        elif fmt == "datasets":
            rows = readers.read_datasets_dir(path)
        else:
            rows = readers.read_hf(path)
        for _, line, row in rows:
            if isinstance(row, dict):
                text = _item_text(row, benchmark.fields)
                if text:
                    items.append((_item_id(row, line), text))
    if not items:
        raise ValueError(f"benchmark {benchmark.name!r}: no row of {benchmark.path!r} has any of "
                         f"the fields {benchmark.fields}")
    return items
