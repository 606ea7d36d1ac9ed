"""Reading the Parquet files an upstream stage wrote, defensively: the launcher checks
every listed file first (:func:`check_stage_files`: there, the listed size, a Parquet
footer with the listed rows; a :class:`DamagedStage` error naming the file otherwise),
and :class:`ReadStageRecords` turns every row it can't read (a corrupt page) into a
dead letter with the file and row number instead of failing the pipeline. Used through
``transforms.core.io`` (``rio.ReadStageRecords``)."""
from __future__ import annotations

import json
import typing
from typing import Dict, Iterator, List

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from schemas.records import from_dict


def read_stage_file(path: str, record_cls, stage: str) -> Iterator:
    """The records of one Parquet file a stage wrote, as ``record_cls``; a row that can't
    be read (a corrupt row group: ``corrupt_parquet``) or isn't a ``record_cls``
    (``invalid_row``) is a DeadLetter of ``stage``/``read`` with the file and row number.
    A file that can't be opened at all is a DeadLetter too (the launcher checked every
    file first, :func:`check_stage_files`, so that is one that changed since)."""
    from transforms.core import readers
    from transforms.core.records import make_dead_letter

    row_no = 0
    try:
        for _, row_no, row in readers.read_parquet(path):
            if isinstance(row, readers.ReadError):
                yield make_dead_letter(stage, "read", row.error, file=path, line=row_no, field=row.field,
                                       payload=row.payload)
                continue
            try:
                yield from_dict(record_cls, row)
            except Exception as exc:  # noqa: BLE001 - a row of another shape: kept as a dead letter
                yield make_dead_letter(stage, "read", f"invalid_row: {type(exc).__name__}: {exc}", file=path,
                                       line=row_no, payload=json.dumps(row, ensure_ascii=True, default=str))
    except Exception as exc:  # noqa: BLE001 - the file stopped reading: said, the stage goes on
        yield make_dead_letter(stage, "read", f"read_error: {type(exc).__name__}: {exc}; nothing after row "
                                              f"{row_no} of this file was read", file=path, line=row_no + 1)


class _ReadStageFile:
    """The rule of :class:`ReadStageRecords`: one file → its records and dead letters."""

    def __init__(self, record_cls, stage: str):
        self.record_cls = record_cls
        self.stage = stage

    def __call__(self, path: str) -> Iterator:
        return read_stage_file(path, self.record_cls, self.stage)


class ReadStageRecords(beam.PTransform):
    """Parquet files of an upstream stage (as its manifest lists them) → StageOutputs:
    ``kept`` records of ``record_cls``, no rejections, and a DeadLetter (stage
    ``stage``, step ``read``, with file and row) for every row that can't be read."""

    def __init__(self, paths: List[str], record_cls, stage: str):
        super().__init__()
        self.paths = sorted(paths)
        self.record_cls = record_cls
        self.stage = stage

    def expand(self, pbegin):
        from transforms.core.stage import RuleStep, StageOutputs

        read = (pbegin
                | "Files" >> beam.Create(self.paths)
                | "Read" >> RuleStep(self.stage, "read", _ReadStageFile(self.record_cls, self.stage),
                                     output_type=self.record_cls, stream=True))
        kept = read.kept | "Spread" >> beam.Reshuffle()
        return StageOutputs(kept, read.rejected, read.dead)


class DamagedStage(ValueError):
    """A stage folder whose manifest or files are broken; the message names the file."""


def check_stage_files(manifest_file: str, outputs: Dict[str, dict], names: typing.Sequence[str]) -> None:
    """Check the files the manifest lists for ``names`` before a pipeline reads them:
    each exists, has the listed size, is a Parquet file (footer) with the listed rows.
    DamagedStage naming the manifest and the file otherwise. (The content's sha256 is
    what ``verify DIR`` checks; here only what is cheap.)"""
    from transforms.core import readers

    for name in names:
        for entry in outputs[name]["files"]:
            path = entry["path"]
            where = f"{manifest_file}: outputs.{name}: {path}"
            try:
                size = FileSystems.match([path])[0].metadata_list[0].size_in_bytes
            except Exception:  # noqa: BLE001 - missing, unlistable
                raise DamagedStage(f"{where}: listed but missing") from None
            if entry.get("bytes") is not None and size != entry["bytes"]:
                raise DamagedStage(f"{where}: {size} bytes, the manifest says {entry['bytes']} "
                                   "(truncated or changed since the stage wrote it)")
            try:
                pf = readers.open_parquet(path)
            except readers.UnreadableInput as exc:
                raise DamagedStage(f"{manifest_file}: outputs.{name}: {exc}") from None
            rows = pf.metadata.num_rows
            pf.close()
            if entry.get("rows") is not None and rows != entry["rows"]:
                raise DamagedStage(f"{where}: {rows} rows, the manifest says {entry['rows']}")
