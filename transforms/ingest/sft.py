"""Importing existing SFT data as knowledge examples: Alpaca, ShareGPT and OpenAI-style
``messages`` rows become knowledge Problems that carry their answer.

R1's non-reasoning half reused DeepSeek-V3's SFT data (writing, factual QA,
self-cognition, translation), with a chain of thought written by DeepSeek-V3 for some
of it. Presets (``preset:`` of a source, which must be ``kind: knowledge``):

* ``alpaca``: ``instruction``, ``input``, ``output``: the prompt is the instruction,
  then the input after a blank line when there is one (the text to rewrite, classify,
  translate…); the output is the imported answer;
* ``sharegpt``: ``conversations``: ``[{"from": "human"|"gpt"|"system", "value": …}]``;
* ``messages``: ``messages``: ``[{"role": "user"|"assistant"|"system", "content": …}]``.

A conversation gives its first exchange: the first user turn is the prompt and the
assistant turn right after it the answer (a leading system turn, and how many turns
came after the exchange, are kept in the metadata). A row with no answer (an empty
Alpaca ``output``, no assistant turn after the first user turn) is imported as a
prompt alone: the teacher answers it, as any knowledge source. ``fields.prompt`` / ``fields.answer``
/ ``fields.id`` rename the instruction / output (or the conversation) / id fields.

The answer is not a gold label: it is carried in the Problem's metadata
(:data:`~transforms.core.imported.IMPORTED_RESPONSE`, never truncated), ``reference_answer`` stays None. The
sample stage turns it into the rollout (a chain of thought added by the teacher for
non-trivial prompts when configured: :mod:`transforms.sample.imports`), and curate
judges it like any knowledge answer without a reference (the judge's rubric).
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

from transforms.core.imported import IMPORTED_FROM, IMPORTED_RESPONSE
from transforms.ingest.config import SFT_PRESETS

__all__ = ["SFT_PRESETS", "BadRow", "import_row", "imported_metadata", "mapped_fields"]


_USER = ("user", "human", "prompter")
_ASSISTANT = ("assistant", "gpt", "chatgpt", "bard", "bing", "model")
_SYSTEM = ("system",)

#: Default field names per preset: (prompt field, answer field).
_DEFAULTS = {"alpaca": ("instruction", "output"), "sharegpt": ("conversations", ""),
             "messages": ("messages", "")}
#: The keys of one turn per conversation preset: (role key, text key).
_TURN_KEYS = {"sharegpt": ("from", "value"), "messages": ("role", "content")}


class BadRow(ValueError):
    """A row that can't be imported: (field, reason, detail); ingest dead-letters it as a BadRecord."""

    def __init__(self, field: str, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.field, self.reason, self.detail = field, reason, detail


def _text(record: dict, field: str, required: bool = True) -> str:
    value = record.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise BadRow(field, "missing_field", f"no {field}")
        return ""
    if not isinstance(value, str):
        raise BadRow(field, "wrong_type", f"expected a string, got {type(value).__name__}")
    return value.strip()


def _alpaca(record: dict, prompt_field: str, answer_field: str) -> Tuple[str, str, dict]:
    instruction = _text(record, prompt_field)
    extra = _text(record, "input", required=False)
    answer = _text(record, answer_field, required=False)
    prompt = f"{instruction}\n\n{extra}" if extra else instruction
    return prompt, answer, {}


def _role(turn: Any, field: str, index: int, role_key: str, text_key: str) -> Tuple[str, str]:
    if not isinstance(turn, dict):
        raise BadRow(f"{field}[{index}]", "wrong_type", f"expected a turn object, got {type(turn).__name__}")
    role = str(turn.get(role_key, "")).strip().lower()
    text = turn.get(text_key)
    if not isinstance(text, str):
        raise BadRow(f"{field}[{index}].{text_key}", "wrong_type" if text is not None else "missing_field",
                           f"expected a string, got {type(text).__name__}")
    if role in _USER:
        return "user", text.strip()
    if role in _ASSISTANT:
        return "assistant", text.strip()
    if role in _SYSTEM:
        return "system", text.strip()
    raise BadRow(f"{field}[{index}].{role_key}", "bad_value", f"unknown role {role!r}")


def _conversation(record: dict, preset: str, field: str) -> Tuple[str, str, dict]:
    turns = record.get(field)
    if turns is None:
        raise BadRow(field, "missing_field", f"no {field}")
    if not isinstance(turns, list):
        raise BadRow(field, "wrong_type", f"expected a list of turns, got {type(turns).__name__}")
    role_key, text_key = _TURN_KEYS[preset]
    roles: List[Tuple[str, str]] = [_role(t, field, i, role_key, text_key) for i, t in enumerate(turns)]
    extra: Dict[str, Any] = {}
    start = 0
    if roles and roles[0][0] == "system":
        if roles[0][1]:
            extra["system"] = roles[0][1]
        start = 1
    user = next((i for i in range(start, len(roles)) if roles[i][0] == "user"), None)
    if user is None or not roles[user][1]:
        raise BadRow(field, "missing_field", "no user turn")
    answered = user + 1 < len(roles) and roles[user + 1][0] == "assistant"
    later = len(roles) - (user + 2 if answered else user + 1)
    if later:
        extra["turns_after_first_exchange"] = later
    return roles[user][1], roles[user + 1][1] if answered else "", extra


def import_row(record: dict, preset: str, prompt_field: Optional[str] = None,
               answer_field: Optional[str] = None) -> Tuple[str, str, dict]:
    """(prompt, imported answer ("" when the row has none), extra metadata) of one SFT row; raises
    :class:`BadRow` (field, reason, detail) for a row that can't be imported."""
    default_prompt, default_answer = _DEFAULTS[preset]
    if preset == "alpaca":
        return _alpaca(record, prompt_field or default_prompt, answer_field or default_answer)
    return _conversation(record, preset, prompt_field or answer_field or default_prompt)


def mapped_fields(preset: str, prompt_field: Optional[str], answer_field: Optional[str]) -> Tuple[str, ...]:
    """The input fields an import reads (left out of the metadata's extra fields)."""
    default_prompt, default_answer = _DEFAULTS[preset]
    names = [prompt_field or default_prompt]
    if preset == "alpaca":
        names += ["input", answer_field or default_answer]
    elif answer_field:
        names.append(answer_field)
    return tuple(names)


def imported_metadata(preset: str, answer: str, extra: dict, other: Optional[str]) -> str:
    """The Problem's metadata JSON: the imported answer (whole), its format, the
    conversation's extra facts and the row's other fields (``other``: their JSON)."""
    data: Dict[str, Any] = json.loads(other) if other else {}
    data.update(extra)
    data[IMPORTED_FROM] = preset
    if answer:
        data[IMPORTED_RESPONSE] = answer
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
