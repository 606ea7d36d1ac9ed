"""Rejections and dead letters: what a stage keeps of a record it drops or fails on.

Beam-free, so rule code and child processes can import it."""
from __future__ import annotations

import json
import typing

from schemas.records import SCHEMA_VERSION, DeadLetter, Rejection, to_dict

#: How much of a bad input or a failed record a dead letter keeps.
MAX_PAYLOAD_CHARS = 4096


def truncate(text: str, limit: int = MAX_PAYLOAD_CHARS) -> str:
    if text is None:
        return ""
    if len(text) <= limit:
        return text
    return text[:limit] + f"...[truncated {len(text) - limit} chars]"


def record_json(record) -> str:
    return json.dumps(to_dict(record), ensure_ascii=False, sort_keys=True, default=str)


def record_id_of(record) -> str:
    for name in ("example_id", "rollout_id", "problem_id", "record_id"):
        if hasattr(record, name):
            return getattr(record, name)
    raise TypeError(f"record {type(record).__name__} has no id field")


def is_row_of(cls, row: dict) -> bool:
    """True when ``row`` (a record as a dict, e.g. a Rejection's payload) has every field of ``cls``.

    Rejections are recognised this way rather than by ``record_type``, which can name a
    runner-generated class when records were decoded by another process."""
    return set(cls._fields) <= row.keys()


def record_type_name(record) -> str:
    """The record type's name, by its fields: on portable runners records can arrive as
    Beam-generated classes (``BeamSchema_…``) with the same fields, never as ours."""
    from schemas.records import RECORD_TYPES

    fields = tuple(getattr(record, "_fields", ()))
    for name, cls in RECORD_TYPES.items():
        if cls._fields == fields:
            return name
    return type(record).__name__


def make_rejection(record, stage: str, step: str, reason: str, detail: str = "") -> Rejection:
    """A Rejection carrying the whole record as JSON, so nothing is lost."""
    return Rejection(
        record_id=record_id_of(record),
        record_type=record_type_name(record),
        problem_id=getattr(record, "problem_id", ""),
        source=getattr(record, "source", ""),
        stage=stage,
        step=step,
        reason=reason,
        detail=detail,
        payload=record_json(record),
        config_hash=getattr(record, "config_hash", ""),
        schema_version=SCHEMA_VERSION,
    )


def make_dead_letter(
    stage: str,
    step: str,
    error: str,
    *,
    record=None,
    record_id: str = "",
    file: typing.Optional[str] = None,
    line: typing.Optional[int] = None,
    field: typing.Optional[str] = None,
    payload: str = "",
    config_hash: str = "",
) -> DeadLetter:
    """A DeadLetter for a record (or raw input line) that failed with ``error``."""
    if record is not None:
        record_id = record_id or record_id_of(record)
        payload = payload or record_json(record)
        config_hash = config_hash or getattr(record, "config_hash", "")
    if not record_id and file is not None:
        record_id = f"{file}:{line}"
    return DeadLetter(
        record_id=record_id,
        stage=stage,
        step=step,
        file=file,
        line=line,
        field=field,
        error=truncate(error, 2000),
        payload=truncate(payload),
        config_hash=config_hash,
        schema_version=SCHEMA_VERSION,
    )


def error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
