"""Shared pieces of every stage: stable hashing, stage outputs, rejections and dead letters."""
from __future__ import annotations

import hashlib
import json
import typing

import apache_beam as beam

from schemas.records import SCHEMA_VERSION, DeadLetter, Rejection, to_dict

#: Tags of the tagged outputs every stage DoFn uses.
REJECTED = "rejected"
DEAD = "dead"

#: How much of a bad input or a failed record a dead letter keeps.
MAX_PAYLOAD_CHARS = 4096


class StageOutputs(typing.NamedTuple):
    """What a stage transform returns: kept records, rejections and dead letters."""

    kept: beam.PCollection
    rejected: beam.PCollection
    dead: beam.PCollection


def stable_hash(*parts, length: int = 16) -> str:
    """Hex sha256 over the parts (joined by an unambiguous separator).

    Never use ``hash()``: it changes between processes (PYTHONHASHSEED)."""
    h = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode("utf-8")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()[:length]


def derive_seed(*parts) -> int:
    """A deterministic 31-bit seed from stable parts (config seed, ids, indexes)."""
    return int(stable_hash(*parts, length=8), 16) & 0x7FFFFFFF


def hash_score(seed: int, record_id: str) -> float:
    """A deterministic pseudo-random number in [0, 1) for sampling and selection."""
    return int(stable_hash("score", seed, record_id, length=15), 16) / float(16**15)


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
