"""Bounded JSON from untrusted processes (transforms/verify/untrusted.py): every hostile
line is UNREADABLE, none raises, and reading stays linear."""
import json
import time

import pytest

from transforms.verify.untrusted import MAX_DEPTH, UNREADABLE, json_depth, read_json, read_lines


@pytest.mark.parametrize("line,depth", [
    (b"1", 0), (b"[]", 1), (b'{"i": 0, "value": [1, [2]]}', 3),
    (b'["[[[[", "}}}", "\\"[["]', 1),  # brackets inside strings don't count
    (b"[" * 50 + b"]" * 50, 50),
    (b'"unterminated [[[', 3),  # counted (and not JSON anyway)
])
def test_json_depth(line, depth):
    assert json_depth(line) == depth


@pytest.mark.parametrize("line", [
    b"[" * 100_000 + b"]" * 100_000,  # json.loads: RecursionError (issue #17: a dead letter)
    b'{"i": 0, "value": ' + b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1) + b"}",
    b'{"i": 0, "value": ' + b"9" * 5000 + b"}",  # over Python's integer digit limit: ValueError
    b"\xff\xfe",
    b"nul",
    b'{"i": 0, "value": 1',
    b" " * (2 << 20),
])
def test_hostile_lines_are_unreadable(line):
    assert read_json(line) is UNREADABLE


def test_readable_lines_and_counts():
    values, unreadable = read_lines(b'"ready"\n{"i": 0, "value": 12}\n\n' + b"[" * 5000 + b"\n[1]\n\xff\n")
    assert values == ["ready", {"i": 0, "value": 12}, [1]] and unreadable == 2
    assert read_json(b'{"i": 0, "value": ' + b"9" * 4000 + b"}") == {"i": 0, "value": int("9" * 4000)}
    assert read_json(b"[Infinity]")[0] == float("inf")  # read; the checker never matches it


def test_reading_is_linear():
    started = time.process_time()
    for line in (b"[" * 1_000_000, b'"' + b"\\\"" * 500_000 + b'"', json.dumps(["x" * 900_000]).encode()):
        read_json(line)
    assert time.process_time() - started < 2.0
