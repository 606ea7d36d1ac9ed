"""What a parsed record may hold: nesting at most :data:`MAX_DEPTH` deep, and only text
that UTF-8 can write (no lone UTF-16 surrogate, which JSON's ``"\\ud800"`` escape
yields and every coder and writer downstream refuses). Beam-free."""
from __future__ import annotations

from typing import Any, List, Optional, Tuple

#: The deepest nesting of arrays and objects a record may have.
MAX_DEPTH = 100


def _surrogate_at(text: str) -> int:
    """The index of the first lone surrogate in ``text``, or -1."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return -1


def check_value(value: Any) -> Optional[Tuple[str, Optional[str]]]:
    """Why a parsed record can't go on, or None: ``(error, field path)`` for nesting
    deeper than :data:`MAX_DEPTH` (``too_deep``) or a string, value or key, that holds a
    lone surrogate (``invalid_text``). Walks the value without recursion."""
    stack: List[Tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            at = _surrogate_at(item)
            if at >= 0:
                code = ord(item[at])
                return (f"invalid_text: lone surrogate \\u{code:04x} at character {at}"
                        f"{f' of {path}' if path else ''} (UTF-8 can't hold it)"), path or None
            continue
        if isinstance(item, (dict, list, tuple)):
            if depth >= MAX_DEPTH:
                return f"too_deep: nested more than {MAX_DEPTH} levels{f' at {path}' if path else ''}", path or None
            if isinstance(item, dict):
                for key, child in item.items():
                    name = key if isinstance(key, str) else str(key)
                    at = _surrogate_at(name)
                    if at >= 0:
                        where = f" in a key of {path}" if path else " in a key"
                        return (f"invalid_text: lone surrogate \\u{ord(name[at]):04x}{where} "
                                "(UTF-8 can't hold it)"), path or None
                    stack.append((child, f"{path}.{name}" if path else name, depth + 1))
            else:
                for index, child in enumerate(item):
                    stack.append((child, f"{path}[{index}]", depth + 1))
    return None
