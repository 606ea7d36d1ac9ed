"""Rows of a user's rollouts file, for the ``verify`` command
(:mod:`publish.verify_file`): a Rollout from a row, and the output row of a verdict."""
from __future__ import annotations

import ast
import json
from typing import List, Optional

from schemas.records import Rollout, from_dict
from transforms.core import stable_hash
from transforms.verify.verdicts import verdict_fields


def rollout_from_row(row: dict) -> Rollout:
    """A Rollout from a row of a user's rollouts file: ``prompt``, ``response`` (or
    ``completion``), optional ``problem_id`` (default: a hash of the prompt),
    ``domain`` (math, code, knowledge; code when ``tests`` are given),
    ``reference_answer``, ``choices``, ``tests`` (JSON text or value), ``metadata``."""
    response = row.get("response")
    if response is None:
        response = row.get("completion")
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
