"""``FilterRollouts``: the filter step of curate, through the shared ``RuleStep``.

One rule object applies the configured filter list (``registry.rules_for``) to a
record and drops it at its first failing filter: a Rejection (stage ``curate``,
the filter's step, reason and detail) and a ``<step>.dropped_<reason>`` counter in
namespace ``curate`` (``curate.filter_language.dropped_language_mixing``). A record
a check fails on is dead-lettered under step ``filter``. The language identifier
loads once per worker, in the rule's ``setup()``.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import apache_beam as beam

from transforms.core.stage import Drop, RuleStep
from transforms.filters.config import FilterConfig
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
        self.rules: Optional[List[Tuple[str, Rule]]] = None

    def setup(self) -> None:
        identifier = LanguageIdentifier().load() if self.config.check_language else None
        self.rules = rules_for(self.config, identifier)

    def __call__(self, record):
        if self.rules is None:
            self.setup()
        failure = first_failure(record, self.rules)
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
