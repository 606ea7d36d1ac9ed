"""Mix: quotas by kind into the final SFT corpus (stub: config only)."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class MixConfig:
    reasoning: int = 600_000
    knowledge: int = 200_000
    scale: float = 1.0  # multiplies both targets (1/1000 → 600 + 200)
    max_rows_per_shard: int = 50_000
    compression: str = "zstd"

    def __post_init__(self):
        if self.reasoning < 0 or self.knowledge < 0:
            raise ValueError("reasoning/knowledge: targets must be >= 0")
        if self.scale <= 0:
            raise ValueError("scale: must be > 0")
        if self.max_rows_per_shard < 1:
            raise ValueError("max_rows_per_shard: must be >= 1")
