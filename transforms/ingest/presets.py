"""Mapping one input record to a Problem: each preset's candidate fields, the gold
answer (an answer field, else a worked solution's final answer), multiple choice.

``to_problem`` raises ``BadRecord(field, reason)`` for a record it can't use; ingest
dead-letters it with the file, line and field."""
from __future__ import annotations

import dataclasses
import json
import math
import posixpath
from typing import Any, Dict, Optional, Tuple

from schemas.records import SCHEMA_VERSION, Problem
from transforms.core import stable_hash, truncate
from transforms.core.verification import METADATA_KEY, WITHHELD_KEY, verify_method
from transforms.ingest import sft
from transforms.ingest.code_presets import CODE_FIELDS, CODE_PRESET_FIELDS, code_problem
from transforms.ingest.config import FieldMapping, SourceConfig
from transforms.text.extract import boxed_contents

#: Longest string value copied into a Problem's metadata.
MAX_METADATA_VALUE_CHARS = 1000
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class BadRecord(ValueError):
    """A record that can't become a Problem: which input field, and why.

    ``reason`` is ``missing_field``, ``wrong_type`` or ``bad_value``."""

    def __init__(self, field: str, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.field = field
        self.reason = reason


#: Candidate input fields per preset, tried in order; explicit ``fields:`` replace them.
_COMMON: Dict[str, Tuple[str, ...]] = {"id": ("id", "unique_id"), "difficulty": ("difficulty", "level")}
_PRESET_FIELDS: Dict[str, Dict[str, Tuple[str, ...]]] = {
    "gsm8k": {"prompt": ("question",), "solution": ("answer",), "id": ("id",)},
    "math": {**_COMMON, "prompt": ("problem",), "answer": ("answer",), "solution": ("solution",)},
    "answer": {**_COMMON, "prompt": ("question", "problem", "prompt"), "answer": ("answer",)},
    "mcq": {**_COMMON, "prompt": ("question",), "choices": ("choices",), "answer": ("answer", "label")},
    **CODE_PRESET_FIELDS,
}
_GENERATOR_FIELDS: Dict[str, Tuple[str, ...]] = {
    "prompt": ("prompt",), "answer": ("answer",), "id": ("id",), "difficulty": ("difficulty",)
}
_MAPPED = tuple(f.name for f in dataclasses.fields(FieldMapping))


def field_candidates(source: SourceConfig) -> Dict[str, Tuple[str, ...]]:
    """For each FieldMapping slot, the input fields to try (no preset means ``answer``;
    an SFT import reads its own fields, :mod:`transforms.ingest.sft`, and ids by these)."""
    base: Dict[str, Tuple[str, ...]]
    if source.is_generator:
        base = _GENERATOR_FIELDS
    elif source.preset in sft.SFT_PRESETS:
        base = _COMMON
    else:
        base = _PRESET_FIELDS[source.preset or "answer"]
    out = {slot: base.get(slot, ()) for slot in _MAPPED}
    for slot in _MAPPED:
        explicit = getattr(source.fields, slot)
        if explicit:
            out[slot] = (explicit,)
    return out


def _lookup(record: dict, candidates: Tuple[str, ...]) -> Tuple[str, Any]:
    """(field name, value) of the first candidate present with a non-blank value, else (names, None)."""
    for name in candidates:
        value = record.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        return name, value
    return "|".join(candidates), None


def _scalar_text(field: str, value: Any) -> str:
    """A string or a number as text (integral floats without ".0"); a one-item list is unwrapped."""
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRecord(field, "wrong_type", f"expected a string or a number, got {type(value).__name__}")
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)


def gold_from_solution(text: str) -> Optional[str]:
    """The final answer of a worked solution.

    The text after the last ``#### `` (GSM8K style, commas removed), else the last ``\\boxed{}``."""
    if "####" in text:
        return text.rpartition("####")[2].strip().replace(",", "") or None
    boxed = boxed_contents(text)
    return boxed[-1] if boxed else None


def _gold_answer(record: dict, fields: Dict[str, Tuple[str, ...]], required: bool) -> Optional[str]:
    """The gold answer: the answer field, else the solution's final answer.

    Missing from a record is an error when ``required`` (a reasoning source verified
    against it) and None otherwise."""
    name, value = _lookup(record, fields["answer"])
    if value is not None:
        return _scalar_text(name, value)
    sol_name, solution = _lookup(record, fields["solution"])
    if solution is not None:
        if not isinstance(solution, str):
            raise BadRecord(sol_name, "wrong_type", f"expected a string, got {type(solution).__name__}")
        gold = gold_from_solution(solution)
        if gold is None:
            raise BadRecord(sol_name, "bad_value", "no '#### ' final answer or \\boxed{} in it")
        return gold
    if not required:
        return None
    wanted = "|".join(fields["answer"] + fields["solution"])
    raise BadRecord(wanted, "missing_field", "no gold answer")


def _choice_letter(field: str, value: Any, count: int) -> str:
    """An option index (int) or letter ("A".."Z") → the option's letter."""
    if isinstance(value, bool):
        raise BadRecord(field, "wrong_type", "expected an option index or letter, got bool")
    if isinstance(value, int):
        if not 0 <= value < count:
            raise BadRecord(field, "bad_value", f"option index {value} out of range for {count} choices")
        return _LETTERS[value]
    if isinstance(value, str):
        letter = value.strip().upper()
        if len(letter) == 1 and letter in _LETTERS[:count]:
            return letter
        raise BadRecord(field, "bad_value", f"{value!r} is not an option letter A-{_LETTERS[count - 1]}")
    raise BadRecord(field, "wrong_type", f"expected an option index or letter, got {type(value).__name__}")


def _multiple_choice(record: dict, fields: Dict[str, Tuple[str, ...]], question: str, required: bool):
    """(prompt listing the options, choices, gold letter or None) of a multiple-choice record."""
    name, choices = _lookup(record, fields["choices"])
    if choices is None:
        raise BadRecord(name, "missing_field", "no choices")
    if not isinstance(choices, (list, tuple)):
        raise BadRecord(name, "wrong_type", f"expected a list, got {type(choices).__name__}")
    if not 2 <= len(choices) <= len(_LETTERS):
        raise BadRecord(name, "bad_value", f"expected 2 to {len(_LETTERS)} choices, got {len(choices)}")
    options = [_scalar_text(name, choice) for choice in choices]
    prompt = question + "\n\n" + "\n".join(f"{_LETTERS[i]}. {text}" for i, text in enumerate(options))
    answer_name, answer = _lookup(record, fields["answer"])
    if answer is not None:
        gold = _choice_letter(answer_name, answer, len(options))
    elif not required:
        gold = None
    else:
        raise BadRecord(answer_name, "missing_field", "no gold answer")
    return prompt, options, gold


def _question(record: dict, fields: Dict[str, Tuple[str, ...]]) -> str:
    name, value = _lookup(record, fields["prompt"])
    if value is None:
        raise BadRecord(name, "missing_field", "no prompt")
    if not isinstance(value, str):
        raise BadRecord(name, "wrong_type", f"expected a string, got {type(value).__name__}")
    return value.strip()


def _optional_text(record: dict, candidates: Tuple[str, ...]) -> Optional[str]:
    name, value = _lookup(record, candidates)
    return None if value is None else _scalar_text(name, value)


def _tests_text(record: dict, candidates: Tuple[str, ...]) -> Optional[str]:
    _, value = _lookup(record, candidates)
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _metadata(record: dict, fields: Dict[str, Tuple[str, ...]], preset: Optional[str] = None,
              stamped: Optional[dict] = None) -> Optional[str]:
    """JSON of the input fields no mapping slot names; a ``metadata`` dict is merged in.

    Long strings are truncated so the metadata stays small."""
    mapped = {name for names in fields.values() for name in names} | set(CODE_FIELDS.get(preset or "", ()))
    extra = {k: v for k, v in record.items() if k not in mapped and v is not None}
    nested = extra.pop("metadata", None)
    if isinstance(nested, dict):
        extra.update(nested)
    elif nested is not None:
        extra["metadata"] = nested
    extra.update(stamped or {})
    if not extra:
        return None
    small = {k: truncate(v, MAX_METADATA_VALUE_CHARS) if isinstance(v, str) else v for k, v in extra.items()}
    return json.dumps(small, ensure_ascii=False, sort_keys=True, default=str)


def _file_label(file: str) -> str:
    return posixpath.basename(file.rstrip("/"))


def to_problem(
    record: dict, source: SourceConfig, file: str, line: int, seed: int, config_hash: str
) -> Problem:
    """Map one input record to a Problem (raises BadRecord when the record can't be used).

    ``source_id`` is the record's id field when mapped and present, else
    ``"<basename(file)>:<line>"``; ``problem_id = stable_hash(source.name, source_id)``."""
    fields = field_candidates(source)
    if source.preset in sft.SFT_PRESETS:
        return _imported_problem(record, source, fields, file, line, seed, config_hash)
    method = verify_method(source.verify_method)
    question = _question(record, fields)
    stamped: Dict[str, Any] = {} if method.name == "gold" else {METADATA_KEY: method.name}
    tests = _tests_text(record, fields["tests"])
    if source.preset in CODE_FIELDS and not source.fields.tests:
        question, tests = code_problem(source.preset, record, question, BadRecord)
    if method.needs_tests and not tests:
        raise BadRecord("|".join(fields["tests"]) or "tests", "missing_field", "no tests")
    required = method.reference == "required" and source.kind == "reasoning"
    if fields["choices"]:
        prompt, choices, gold = _multiple_choice(record, fields, question, required)
    else:
        prompt, choices = question, []
        gold = None if method.reference == "unused" else _gold_answer(record, fields, required)
    if method.reference == "withheld" and gold is not None:
        stamped[WITHHELD_KEY], gold = gold, None
    source_id = _optional_text(record, fields["id"]) or f"{_file_label(file)}:{line}"
    return Problem(
        problem_id=stable_hash(source.name, source_id),
        source=source.name,
        source_id=source_id,
        domain=_optional_text(record, fields["domain"]) or source.problem_domain,
        kind=source.kind,
        prompt=prompt,
        reference_answer=gold,
        choices=choices,
        tests=tests,
        difficulty=_optional_text(record, fields["difficulty"]),
        language=source.language,
        metadata=_metadata(record, fields, source.preset, stamped),
        seed=seed,
        config_hash=config_hash,
        schema_version=SCHEMA_VERSION,
    )


def _imported_problem(record: dict, source: SourceConfig, fields: Dict[str, Tuple[str, ...]], file: str,
                      line: int, seed: int, config_hash: str) -> Problem:
    """A knowledge Problem from one SFT row (:mod:`transforms.ingest.sft`): the prompt, no
    reference, the imported answer in the metadata."""
    preset = source.preset or ""
    try:
        prompt, answer, extra = sft.import_row(record, preset, source.fields.prompt, source.fields.answer)
    except sft.BadRow as exc:
        raise BadRecord(exc.field, exc.reason, exc.detail) from None
    read = dict(fields, prompt=sft.mapped_fields(preset, source.fields.prompt, source.fields.answer))
    method = verify_method(source.verify_method).name  # stamped as for any source (none, judge…)
    stamped = {} if method == "gold" else {METADATA_KEY: method}
    metadata = sft.imported_metadata(preset, answer, extra, _metadata(record, read, stamped=stamped))
    source_id = _optional_text(record, fields["id"]) or f"{_file_label(file)}:{line}"
    return Problem(
        problem_id=stable_hash(source.name, source_id), source=source.name, source_id=source_id,
        domain=_optional_text(record, fields["domain"]) or source.domain, kind=source.kind, prompt=prompt,
        reference_answer=None, choices=[], tests=None, difficulty=_optional_text(record, fields["difficulty"]),
        language=source.language, metadata=metadata,
        seed=seed, config_hash=config_hash, schema_version=SCHEMA_VERSION,
    )
