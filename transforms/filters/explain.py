"""Explain: every filter's decision on a record or a file of rows, with the numbers behind it.

Records are read by attribute and may lack fields (bare rows): a check whose input
is missing keeps the record and says so. ``reasoning-corpus explain`` prints
``explain_file``'s objects as JSON lines.
"""
from __future__ import annotations

import json
from typing import Iterable, Iterator, List, Optional, Tuple, cast

from schemas.records import VerifiedRollout, from_dict
from transforms.core.io import read_records
from transforms.core.records import error_text
from transforms.filters.config import FilterConfig
from transforms.filters.registry import Filter, filters_for
from transforms.text.extract import split_reasoning
from transforms.text.language import LanguageIdentifier
from transforms.text.views import view


def explain_record(record, config: FilterConfig, filters: Optional[List[Filter]] = None) -> dict:
    """Every filter's decision on ``record`` with the numbers behind it, in order.

    ``{"decision", "reason", "step", "detail", "filters": [{"filter", "step",
    "decision", "reason", "detail", <numbers>}, ...]}``; the top-level decision is
    the pipeline's (the first filter that drops). Without ``filters``, those of the
    record's kind (``config.for_kind``)."""
    filters = filters if filters is not None else filters_for(config.for_kind(getattr(record, "kind", None) or ""))
    record = view(record)
    rows, first = [], None
    for f in filters:
        measured = f.check(record)
        decision = "keep" if measured.reason is None else "drop"
        rows.append(dict(filter=f.name, step=f.step, decision=decision, reason=measured.reason,
                         detail=measured.detail, **measured.numbers))
        if first is None and decision == "drop":
            first = rows[-1]
    return dict(decision="drop" if first else "keep", reason=first["reason"] if first else None,
                step=first["step"] if first else None, detail=first["detail"] if first else "", filters=rows)


#: Record types a rejection's payload can hold that have a chain of thought to explain.
ROLLOUT_TYPES = ("Rollout", "VerifiedRollout", "SftExample")


def unwrap(row: dict) -> Tuple[dict, Optional[str]]:
    """The row to explain: a rollout row as is; a Rejection row (``rejections-*``) → the
    record in its payload, with where it was rejected; a DeadLetter row is refused (what
    failed there is its ``error``, not a filter's decision)."""
    if "payload" in row and "record_type" in row and "reason" in row:
        kind = row["record_type"]
        if kind not in ROLLOUT_TYPES:
            raise ValueError(f"a rejection of a {kind} (at {row.get('stage')}/{row.get('step')}: "
                             f"{row.get('reason')}): no rollout to explain")
        payload = json.loads(row["payload"])
        if not isinstance(payload, dict):
            raise ValueError("a rejection whose payload is not a JSON object")
        return payload, f"{row.get('stage')}/{row.get('step')}: {row.get('reason')}"
    if "payload" in row and "error" in row and "stage" in row:
        raise ValueError(f"a dead letter (at {row.get('stage')}/{row.get('step')}: {row.get('error')}): "
                         "no decision to explain")
    return row, None


def record_from_row(row: dict):
    """A VerifiedRollout-like record from a bare row (``completion``, or ``response`` as
    ``verify --input`` reads it, or ``reasoning``/``answer``).

    Missing fields are None; reasoning and answer are split from the completion when absent."""
    if row.get("completion") is None and isinstance(row.get("response"), str):
        row = {**row, "completion": row["response"]}
    record = from_dict(VerifiedRollout, row)
    if isinstance(record.completion, str) and record.reasoning is None and record.answer is None:
        reasoning, answer = split_reasoning(record.completion)
        record = record._replace(reasoning=reasoning, answer=answer)
    return record


def read_rows(path: str) -> Iterable[Tuple[int, Optional[dict], Optional[str]]]:
    """(line or row number, row, error) for each record of a JSONL or Parquet file, in order."""
    return read_records(path, skip_blank=True)


def explain_file(config: FilterConfig, path: str) -> Iterator[dict]:
    """One explanation per record of a JSONL/Parquet rollouts file, in input order.

    Each is ``{"line": n, "id": <rollout_id or id or None>, **explain_record(...)}``;
    a line that isn't a JSON object, or a row a check fails on, gives ``"error"``
    instead of the decisions. A rejections file is explained record by record from the
    payloads (each with ``rejected_at``: the stage, step and reason it was rejected with)."""
    kinds = {kind: config.for_kind(kind) for kind in ("reasoning", "knowledge")}
    identifier = LanguageIdentifier().load() if any(c.check_language for c in kinds.values()) else None
    by_kind = {kind: filters_for(c, identifier) for kind, c in kinds.items()}
    for number, row, error in read_rows(path):
        if error is not None:
            yield {"line": number, "error": error}
            continue
        row = cast(dict, row)  # a row wherever there is no error
        found = dict(line=number, id=row.get("rollout_id") or row.get("id") or row.get("record_id"))
        try:
            row, rejected_at = unwrap(row)
            if rejected_at is not None:
                found.update(id=row.get("rollout_id") or row.get("example_id") or found["id"],
                             rejected_at=rejected_at)
            record = record_from_row(row)
            kind = "knowledge" if getattr(record, "kind", None) == "knowledge" else "reasoning"
            found.update(explain_record(record, config, by_kind[kind]))
        except Exception as exc:  # noqa: BLE001 - one bad row is reported, the rest still explained
            found["error"] = f"check_failed: {error_text(exc)}"
        yield found
