"""Filters: quality rules on verified rollouts, each a plain function returning
``None`` (keep) or a snake_case reason (drop), applied by ``FilterRollouts``.

Every drop becomes a Rejection (stage ``curate``, step ``filter``, the reason, and
the numbers behind it) and increments a ``dropped_<reason>`` counter.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, List, Optional, Tuple

import apache_beam as beam

from transforms.common import DEAD, REJECTED, StageOutputs, error_text, make_dead_letter, make_rejection

#: A rule: record → None (keep) or (reason, detail).
Rule = Callable[[object], Optional[Tuple[str, str]]]


@dataclasses.dataclass(frozen=True)
class FilterConfig:
    drop_truncated: bool = True  # finish reason "length"
    require_answer: bool = True  # an answer section after the reasoning
    keep_verdicts: Tuple[str, ...] = ("correct",)  # verdicts that pass; others are dropped with the verdict as reason

    def __post_init__(self):
        if not self.keep_verdicts:
            raise ValueError("keep_verdicts: keep at least one verdict")


# -- rules ----------------------------------------------------------------------


def truncated(record) -> Optional[Tuple[str, str]]:
    """Drop completions cut off by the token limit."""
    if record.finish_reason == "length":
        return "truncated", f"finish_reason=length at {record.completion_tokens} tokens (max_tokens={record.max_tokens})"
    return None


def missing_answer(record) -> Optional[Tuple[str, str]]:
    """Drop completions with no answer after the reasoning."""
    if not (record.answer or "").strip():
        return "missing_answer", "no answer section after the reasoning"
    return None


def verdict_not_kept(keep: Tuple[str, ...]) -> Rule:
    def rule(record) -> Optional[Tuple[str, str]]:
        if record.verdict not in keep:
            return record.verdict, (
                f"verdict={record.verdict} (extracted={record.extracted_answer!r}, "
                f"reference={record.reference_answer!r}): {record.verdict_reason}"
            )
        return None

    rule.__name__ = "verdict"
    return rule


def rules_for(config: FilterConfig) -> List[Tuple[str, Rule]]:
    """The (step name, rule) list a config enables, in the order they run."""
    rules: List[Tuple[str, Rule]] = []
    if config.drop_truncated:
        rules.append(("filter_truncation", truncated))
    rules.append(("filter_verdict", verdict_not_kept(config.keep_verdicts)))
    if config.require_answer:
        rules.append(("filter_format", missing_answer))
    return rules


def first_failure(record, rules: List[Tuple[str, Rule]]) -> Optional[Tuple[str, str, str]]:
    """(step, reason, detail) of the first rule that drops the record, or None."""
    for step, rule in rules:
        result = rule(record)
        if result is not None:
            return (step,) + tuple(result)
    return None


class _ApplyRules(beam.DoFn):
    def __init__(self, config: FilterConfig, stage: str):
        self.config = config
        self.stage = stage

    def setup(self):
        self.rules = rules_for(self.config)

    def process(self, record):
        try:
            failure = first_failure(record, self.rules)
        except Exception as exc:  # noqa: BLE001 - a bad record is dead-lettered, never a crash
            yield beam.pvalue.TaggedOutput(DEAD, make_dead_letter(self.stage, "filter", error_text(exc), record=record))
            return
        if failure is None:
            yield record
            return
        step, reason, detail = failure
        beam.metrics.Metrics.counter(self.stage, f"dropped_{reason}").inc()
        yield beam.pvalue.TaggedOutput(REJECTED, make_rejection(record, self.stage, step, reason, detail))


class FilterRollouts(beam.PTransform):
    """VerifiedRollouts → the ones every enabled rule keeps (+ rejections, dead letters)."""

    def __init__(self, config: FilterConfig, stage: str = "curate"):
        super().__init__()
        self.config = config
        self.stage = stage

    def expand(self, records):
        out = records | "Rules" >> beam.ParDo(_ApplyRules(self.config, self.stage)).with_outputs(
            REJECTED, DEAD, main="kept")
        return StageOutputs(out.kept, out[REJECTED], out[DEAD])
