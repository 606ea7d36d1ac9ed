"""Per-kind filter settings (``curate.filters.by_kind``): what changes for reasoning and for
knowledge (non-reasoning) records.

The filter settings of ``curate.filters`` apply to every record; ``by_kind.<kind>``
overrides some of them for the records of that kind (a field left unset keeps the
shared value). Knowledge answers are written without thinking (R1's non-reasoning
data), so by default the knowledge kind does not require reasoning; every other
filter (truncation, verdict, length, readability, repetition, language) still applies.

```yaml
curate:
  filters:
    by_kind:
      knowledge:
        keep_verdicts: [correct]   # kept by the judge's score (or the reference)
        require_reasoning: false   # the default: no thinking needed
        check_language: false      # e.g. translation requests
```
"""
from __future__ import annotations

import dataclasses
from typing import Optional, Tuple

from schemas.records import VERDICTS

KINDS = ("reasoning", "knowledge")


@dataclasses.dataclass(frozen=True)
class KindOverrides:
    """The filter settings one kind may set differently (None: the shared value)."""

    keep_verdicts: Optional[Tuple[str, ...]] = None
    require_reasoning: Optional[bool] = None
    require_think: Optional[bool] = None
    check_think_tags: Optional[bool] = None
    max_distinct_boxed: Optional[int] = None
    min_reasoning_tokens: Optional[int] = None
    max_reasoning_tokens: Optional[int] = None
    min_answer_tokens: Optional[int] = None
    max_answer_tokens: Optional[int] = None
    code_free_domains: Optional[Tuple[str, ...]] = None
    check_language: Optional[bool] = None

    def __post_init__(self):
        if self.keep_verdicts is not None:
            if not self.keep_verdicts:
                raise ValueError("keep_verdicts: keep at least one verdict")
            unknown = [v for v in self.keep_verdicts if v not in VERDICTS]
            if unknown:
                raise ValueError(f"keep_verdicts: unknown verdict(s) {', '.join(map(repr, unknown))}; "
                                 f"expected some of {', '.join(VERDICTS)}")

    def changes(self) -> dict:
        """The settings this kind sets (its non-None fields)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if getattr(self, f.name) is not None}


@dataclasses.dataclass(frozen=True)
class KnowledgeOverrides(KindOverrides):
    """The knowledge kind's overrides: no reasoning required by default."""

    require_reasoning: Optional[bool] = False


@dataclasses.dataclass(frozen=True)
class KindFilters:
    """``curate.filters.by_kind``: the overrides of each kind."""

    reasoning: KindOverrides = KindOverrides()
    knowledge: KnowledgeOverrides = KnowledgeOverrides()

    def of(self, kind: str) -> KindOverrides:
        """The overrides of ``kind`` (an unknown kind: the reasoning ones)."""
        return self.knowledge if kind == "knowledge" else self.reasoning


#: by_kind of a config that is already one kind's settings (no further overrides).
NO_OVERRIDES = KindFilters(KindOverrides(), KnowledgeOverrides(require_reasoning=None))
