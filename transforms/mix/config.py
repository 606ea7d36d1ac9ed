"""The mix stage's configuration (``mix`` in the run config): targets, quotas, the
per-prompt cap and its selection policy, no chain of thought, length caps, journeys,
knowledge examples and the corpus shards.

Targets are per kind (reasoning 600K, knowledge 200K by default, both multiplied by
``scale``); ``quotas`` split a kind's target by the value of ``quota_field`` (``"*"``
catches every value not listed). See :mod:`transforms.mix.select` for how buckets and
selection use them.
"""
from __future__ import annotations

import dataclasses
from typing import Dict, Optional, Tuple

from transforms.mix.journey_config import JourneyConfig
from transforms.mix.knowledge import KnowledgeConfig
from transforms.mix.lengths import LengthCap, NoCotConfig, SelectionConfig, check_length_caps
from transforms.mix.prune import PruneConfig

KINDS = ("reasoning", "knowledge")
QUOTA_FIELDS = ("domain", "source", "difficulty", "language")
ANY = "*"

#: {kind: ((value, share), ...)}, frozen so the config stays hashable.
Quotas = Tuple[Tuple[str, Tuple[Tuple[str, float], ...]], ...]


def _freeze_quotas(quotas) -> Quotas:
    """Quotas from a mapping (or the config loader's sorted pairs) as sorted nested tuples."""
    items = quotas.items() if isinstance(quotas, dict) else quotas
    frozen = []
    for kind, shares in items:
        pairs = shares.items() if isinstance(shares, dict) else shares
        frozen.append((str(kind), tuple(sorted((str(v), float(s)) for v, s in pairs))))
    return tuple(sorted(frozen))


@dataclasses.dataclass(frozen=True)
class MixConfig:
    reasoning: int = 600_000
    knowledge: int = 200_000
    scale: float = 1.0  # multiplies both targets (1/1000 → 600 + 200)
    per_prompt_cap: Optional[int] = None  # at most this many examples per problem (and part)
    selection: SelectionConfig = SelectionConfig()  # which ones the cap keeps (hash: as before)
    quota_field: Optional[str] = None  # domain | source | difficulty | language
    quotas: Dict[str, Dict[str, float]] = dataclasses.field(default_factory=dict)  # {kind: {value: share}}
    journey: JourneyConfig = JourneyConfig()
    knowledge_format: KnowledgeConfig = KnowledgeConfig()
    prune: PruneConfig = PruneConfig()  # cut redundant re-checks from correct traces (off)
    no_cot: NoCotConfig = NoCotConfig()  # an empty <think> for problems always solved briefly (off)
    length_caps: Tuple[LengthCap, ...] = ()  # thinking caps by pass rate (none)
    max_rows_per_shard: int = 50_000
    compression: str = "zstd"

    def __post_init__(self):
        if self.reasoning < 0 or self.knowledge < 0:
            raise ValueError("reasoning/knowledge: targets must be >= 0")
        if self.scale <= 0:
            raise ValueError("scale: must be > 0")
        if self.per_prompt_cap is not None and self.per_prompt_cap < 1:
            raise ValueError("per_prompt_cap: must be >= 1")
        if self.selection.policy != "hash" and self.per_prompt_cap is None:
            raise ValueError(f"per_prompt_cap: selection.policy {self.selection.policy!r} chooses among the "
                             "examples of a problem: set per_prompt_cap (how many it keeps)")
        if self.max_rows_per_shard < 1:
            raise ValueError("max_rows_per_shard: must be >= 1")
        if self.compression not in ("zstd", "snappy", "gzip", "none"):
            raise ValueError("compression: must be zstd, snappy, gzip or none")
        object.__setattr__(self, "quotas", _freeze_quotas(self.quotas))
        object.__setattr__(self, "length_caps", tuple(sorted(self.length_caps, key=lambda c: c.min_pass_rate)))
        check_length_caps(self.length_caps)
        self._check_quotas()

    def _check_quotas(self):
        if self.quotas and self.quota_field not in QUOTA_FIELDS:
            raise ValueError(f"quota_field: must be one of {', '.join(QUOTA_FIELDS)} when quotas are set, "
                             f"got {self.quota_field!r}")
        for kind, shares in self.quotas:
            if kind not in KINDS:
                raise ValueError(f"quotas: unknown kind {kind!r} (kinds: {', '.join(KINDS)})")
            if any(s < 0 for _, s in shares) or abs(sum(s for _, s in shares) - 1.0) > 1e-6:
                raise ValueError(f"quotas.{kind}: shares must be >= 0 and add up to 1, got {dict(shares)}")

    def targets(self) -> Dict[str, int]:
        """The number of examples wanted per kind after scaling."""
        return {"reasoning": round(self.reasoning * self.scale),
                "knowledge": round(self.knowledge * self.scale)}

    def shares(self, kind: str) -> Dict[str, float]:
        """{group: share} of a kind (``{"*": 1.0}`` without quotas)."""
        return dict(dict(self.quotas).get(kind, ((ANY, 1.0),)))
