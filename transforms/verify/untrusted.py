"""Reading JSON from a process that ran untrusted input: bounded, never an exception.

The code sandbox's result lines are written on a descriptor the solution can write
to as well, and the math-verify child has parsed model text; the parent reads every
line from them as hostile: longer than :data:`MAX_LINE_BYTES`, nested deeper than
:data:`MAX_DEPTH` (counted before parsing, in linear time, so ``json`` never
recurses that far), an integer over Python's digit limit, invalid UTF-8 or not JSON
at all, and the line is :data:`UNREADABLE`; the verdict is then decided as if the
line were missing.

Standard library only (the math-verify child imports it).
"""
from __future__ import annotations

import itertools
import json
import re
from typing import Any, List, Tuple

#: The longest result line read (the run's whole output is capped anyway).
MAX_LINE_BYTES = 1 << 20
#: The deepest nesting of arrays and objects read.
MAX_DEPTH = 32

_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class Unreadable:
    """The value of a line that could not be read (a marker, never equal to a value)."""


UNREADABLE = Unreadable()


def json_depth(line: bytes) -> int:
    """How deeply arrays and objects nest in a JSON text (brackets inside strings
    don't count), in linear time."""
    brackets = _STRING.sub(b'""', line).translate(None, _NOT_BRACKETS)
    if len(brackets) <= 1:
        return len(brackets)
    return max(0, max(itertools.accumulate(map(_STEP.__getitem__, brackets))))


def read_json(line: bytes, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_LINE_BYTES) -> Any:
    """The JSON value of one line, or :data:`UNREADABLE`."""
    if len(line) > max_bytes or json_depth(line) > max_depth:
        return UNREADABLE
    try:
        return json.loads(line)
    except Exception:  # ValueError, UnicodeDecodeError, RecursionError, MemoryError …: unreadable
        return UNREADABLE


def read_lines(data: bytes) -> Tuple[List[Any], int]:
    """(the values of the readable lines, how many lines were unreadable); blank lines
    are skipped."""
    values, unreadable = [], 0
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        value = read_json(line)
        if value is UNREADABLE:
            unreadable += 1
        else:
            values.append(value)
    return values, unreadable


def answer_json_objects(text: str) -> Tuple[str, List[dict]]:
    """A model's answer after its thinking (the text after the last ``</think>``, or all
    of it) and every JSON object in it, in order (the judge's and the rubric's replies)."""
    if "</think>" in text:
        text = text.rpartition("</think>")[2]
    decoder = json.JSONDecoder()
    objects = []
    for start in (m.start() for m in re.finditer(r"\{", text)):
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            continue
        if isinstance(value, dict):
            objects.append(value)
    return text, objects
