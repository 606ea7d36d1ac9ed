"""Verify: Rollouts → VerifiedRollouts (stub: config only)."""
from __future__ import annotations

import dataclasses
from typing import Tuple


@dataclasses.dataclass(frozen=True)
class VerifyConfig:
    timeout_s: float = 5.0  # wall-clock bound per verification, enforced by killing a child process
    last_number_fallback: bool = True  # use the last number when no explicit answer is stated
    keep_verdicts: Tuple[str, ...] = ("correct",)  # verdicts that pass on to the filters

    def __post_init__(self):
        if self.timeout_s <= 0:
            raise ValueError("timeout_s: must be > 0")
