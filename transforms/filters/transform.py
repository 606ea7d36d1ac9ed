"""``FilterRollouts``: the filter step of curate, through the shared ``RuleStep``.

One rule object applies the configured filter list (``registry.rules_for``) of the
record's kind (``FilterConfig.for_kind``: ``curate.filters`` with ``by_kind``'s
overrides, :mod:`transforms.filters.kinds`) to a record and drops it at its first
failing filter: a Rejection (stage ``curate``,
the filter's step, reason and detail) and a ``<step>.dropped_<reason>`` counter in
namespace ``curate`` (``curate.filter_language.dropped_language_mixing``). A record
a check fails on is dead-lettered under step ``filter``. The language identifier
loads once per worker, in the rule's ``setup()``.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import apache_beam as beam

from transforms.core.stage import Drop, RuleStep
from transforms.filters.config import FilterConfig
from transforms.filters.kinds import KINDS
from transforms.filters.registry import Rule, first_failure, rules_for
from transforms.text.language import LanguageIdentifier

#: The step of the filter rule list as a whole (its dead letters); each drop names its filter's step.
STEP = "filter"


class ApplyFilters:
    """The filter list of a config as one rule: a record, or a ``Drop`` naming the first
    filter's step that drops it. Call ``setup()`` first (``RuleStep`` does) to load the
    language identifier once; a call without it sets up on first use."""

    def __init__(self, config: FilterConfig):
        self.config = config
        self.rules: Optional[Dict[str, List[Tuple[str, Rule]]]] = None

    def setup(self) -> None:
        configs = {kind: self.config.for_kind(kind) for kind in KINDS}
        identifier = LanguageIdentifier().load() if any(c.check_language for c in configs.values()) else None
        self.rules = {kind: rules_for(config, identifier) for kind, config in configs.items()}

    def __call__(self, record):
        if self.rules is None:
            self.setup()
        assert self.rules is not None
        kind = getattr(record, "kind", None)
        failure = first_failure(record, self.rules["knowledge" if kind == "knowledge" else "reasoning"])
        if failure is None:
            return record
        step, reason, detail = failure
        return Drop(reason, detail, step=step)


class FilterRollouts(beam.PTransform):
    """VerifiedRollouts → the ones every enabled rule keeps (+ rejections, dead letters)."""

    def __init__(self, config: FilterConfig, stage: str = "curate"):
        super().__init__()
        self.config = config
        self.stage = stage

    def expand(self, records):
        return records | "Rules" >> RuleStep(self.stage, STEP, ApplyFilters(self.config))
