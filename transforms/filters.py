"""Filters: quality filters on verified rollouts (stub: config only)."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class FilterConfig:
    drop_truncated: bool = True  # finish reason "length"
