"""Rows of a user's rollouts file, for the ``verify`` command
(:mod:`publish.verify_file`): a Rollout from a row, and the output row of a verdict."""
from __future__ import annotations

import ast
import json
from typing import Dict, List, Optional

from schemas.records import Rollout, from_dict
from transforms.core import stable_hash
from transforms.verify.verdicts import verdict_fields

#: The fields a row may have (``verify --fields`` maps a file's own names onto them).
ROW_FIELDS = ("prompt", "response", "completion", "problem_id", "domain", "reference_answer", "choices", "tests",
              "metadata", "sample_index", "rollout_id")


def rollout_from_row(row: dict, fields: Optional[Dict[str, str]] = None) -> Rollout:
    """A Rollout from a row of a user's rollouts file: ``prompt``, ``response`` (or
    ``completion``; a list holding one response is that response), optional
    ``problem_id`` (default: a hash of the prompt), ``domain`` (math, code,
    knowledge; code when ``tests`` are given), ``reference_answer``, ``choices``,
    ``tests`` (JSON text or value), ``metadata``. ``fields``: the row's own names
    for these (``{"response": "code"}``: the response is in the row's ``code``)."""
    if fields:
        row = dict(row)
        for name, source in fields.items():
            row[name] = row.get(source)
    response = row.get("response")
    if response is None:
        response = row.get("completion")
    if isinstance(response, list) and len(response) == 1:
        response = response[0]
    if response is not None and not isinstance(response, str):
        raise ValueError(f"response: expected a string, got {type(response).__name__}")
    prompt = str(row.get("prompt") or "")
    tests = row.get("tests")
    if tests is not None and not isinstance(tests, str):
        tests = json.dumps(tests)
    metadata = row.get("metadata")
    if metadata is not None and not isinstance(metadata, str):
        metadata = json.dumps(metadata)
    reference = row.get("reference_answer")
    values = {
        "problem_id": str(row.get("problem_id") or stable_hash("prompt", prompt)),
        "prompt": prompt,
        "domain": str(row.get("domain") or ("code" if tests else "math")),
        "reference_answer": None if reference is None else str(reference),
        "choices": _choices(row.get("choices")),
        "tests": tests,
        "metadata": metadata,
        "completion": response or "",
        "answer": "",
        "sample_index": row.get("sample_index") if isinstance(row.get("sample_index"), int) else 0,
        "rollout_id": str(row.get("rollout_id") or ""),
    }
    return from_dict(Rollout, values)


def _choices(value) -> List[str]:
    """A row's choices: a list, or a list written as JSON or a Python literal."""
    if isinstance(value, str):
        for loader in (json.loads, ast.literal_eval):
            try:
                value = loader(value)
                break
            except (ValueError, SyntaxError):
                continue
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"choices: expected a list, got {type(value).__name__}")
    return [str(c) for c in value]


def verdict_row(row: dict, fields: Optional[dict], error: Optional[str] = None) -> dict:
    """The output row of the ``verify`` command: the input's fields plus the verdict's."""
    out = dict(row)
    if fields is None:
        fields = verdict_fields(None, "error", "none", "", error or "unknown error")
    out.update(verdict=fields["verdict"], extracted_answer=fields["extracted_answer"],
               verifier=fields["verifier"], verifier_version=fields["verifier_version"],
               reason=fields["verdict_reason"], pass_rate=0.0)
    return out
