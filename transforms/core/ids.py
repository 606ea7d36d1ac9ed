"""Stable ids, seeds and scores: everything random in the pipeline comes from here.

``hashlib`` over stable parts plus a seed; never ``hash()`` (it changes between
processes) nor an unseeded ``random``."""
from __future__ import annotations

import hashlib


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
