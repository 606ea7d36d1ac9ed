"""The stage contract, written once: every stage returns kept records, rejections and
dead letters, and every decision goes through :class:`RuleStep`.

A *rule* is a plain function (or an object with ``__call__`` and optional ``setup`` /
``teardown`` for heavy state) that tests call directly. Given one element it returns
(or yields) outcomes:

- a record: kept;
- :class:`Drop` ``(reason, detail, record, step)``: rejected, with the whole record as
  the rejection's payload (the input element when ``record`` is None), under ``step``
  (the RuleStep's own step when None: a rule list applied in one step can name each
  rule's step);
- :class:`Dead` ``(error, record)``: dead-lettered for one record of a batch;
- a ready :class:`~schemas.records.DeadLetter` (e.g. one naming a file, line and field)
  or :class:`~schemas.records.Rejection`: passed through (a rejection is counted);
- ``None``: nothing (the element is consumed, e.g. a group that emits its members).

:class:`RuleStep` turns the outcomes into the three outputs in one place: an exception
raised by the rule dead-letters the element (each record of a batch or group), every
drop becomes a :class:`~schemas.records.Rejection` and bumps the counter
``<step>.dropped_<reason>`` in namespace ``<stage>``, which Beam reports as
``<stage>.<step>.dropped_<reason>``.

``RuleStep(..., stream=True)`` is for a rule that yields many outcomes per element (one
that reads a whole file): its outcomes go out as it yields them, never held in a list.
An exception is then not caught, since part of the element's outcomes may be out
already: it fails the bundle, which the runner retries (such a rule catches its bad
records itself and yields a :class:`Dead` or a ready DeadLetter for each).
"""
from __future__ import annotations

import collections.abc
import typing
from typing import Any, Callable, Iterable, Optional

import apache_beam as beam

from schemas.records import DeadLetter, Rejection
from transforms.core.records import error_text, make_dead_letter, make_rejection

#: Tags of the tagged outputs every stage DoFn uses.
REJECTED = "rejected"
DEAD = "dead"


class StageOutputs(typing.NamedTuple):
    """What a stage transform returns: kept records, rejections and dead letters."""

    kept: beam.PCollection
    rejected: beam.PCollection
    dead: beam.PCollection


class Drop(typing.NamedTuple):
    """A rule's decision to reject: ``reason`` names the counter, ``detail`` is for people."""

    reason: str
    detail: str = ""
    record: Any = None
    step: Optional[str] = None


class Dead(typing.NamedTuple):
    """A record a rule could not process (the rest of its batch goes on)."""

    error: str
    record: Any = None


def dropped_counter(step: str, reason: str) -> str:
    """The counter name of a drop, in the stage's namespace."""
    return f"{step}.dropped_{reason}"


def _records_of(element) -> list:
    """The records an element carries: itself, a batch's members, or a group's values."""
    if hasattr(element, "_fields"):
        return [element]
    if isinstance(element, (list, tuple)):
        # a (key, values) group; a (key, record) pair is not one (a record is iterable too)
        if len(element) == 2 and not hasattr(element[0], "_fields") and isinstance(element[1], Iterable) \
                and not isinstance(element[1], (str, bytes)) and not hasattr(element[1], "_fields"):
            return [r for r in _records_of_values(element[1])]
        return [r for item in element for r in _records_of(item)]
    return []


def _records_of_values(values) -> list:
    out = []
    for value in values:
        out.extend(_records_of(value))
    return out


def dead_letters_for(stage: str, step: str, element, error: str) -> list:
    """Dead letters for an element a rule failed on: one per record it carries."""
    records = _records_of(element)
    if not records:
        return [make_dead_letter(stage, step, error, payload=repr(element))]
    return [make_dead_letter(stage, step, error, record=r) for r in records]


class _RuleFn(beam.DoFn):
    def __init__(self, stage: str, step: str, rule: Callable, stream: bool = False):
        self.stage = stage
        self.step = step
        self.rule = rule
        self.stream = stream

    def setup(self):
        if hasattr(self.rule, "setup"):
            self.rule.setup()

    def teardown(self):
        if hasattr(self.rule, "teardown"):
            self.rule.teardown()

    def _count_drop(self, step: str, reason: str) -> None:
        beam.metrics.Metrics.counter(self.stage, dropped_counter(step, reason)).inc()

    def _drop(self, element, drop: Drop) -> Rejection:
        step = drop.step or self.step
        self._count_drop(step, drop.reason)
        record = drop.record if drop.record is not None else element
        return make_rejection(record, self.stage, step, drop.reason, drop.detail)

    def _dead(self, error: str, element) -> Iterable:
        for letter in dead_letters_for(self.stage, self.step, element, error):
            beam.metrics.Metrics.counter(self.stage, f"{self.step}.dead").inc()
            yield beam.pvalue.TaggedOutput(DEAD, letter)

    def process(self, element, *side):
        if self.stream:  # outcomes go out as they come; an exception fails the bundle
            outcomes = self.rule(element, *side)
            yield from self._route(element, outcomes if _is_many(outcomes) else [outcomes])
            return
        try:
            outcomes = self.rule(element, *side)
            outcomes = list(outcomes) if _is_many(outcomes) else [outcomes]
        except Exception as exc:  # noqa: BLE001 - a bad record is dead-lettered, never a crash
            yield from self._dead(error_text(exc), element)
            return
        yield from self._route(element, outcomes)

    def _route(self, element, outcomes: Iterable) -> Iterable:
        """Each outcome to its output: kept, rejected (counted) or dead."""
        for outcome in outcomes:
            if outcome is None:
                continue
            if isinstance(outcome, Drop):
                yield beam.pvalue.TaggedOutput(REJECTED, self._drop(element, outcome))
            elif isinstance(outcome, Dead):
                yield from self._dead(outcome.error, outcome.record if outcome.record is not None else element)
            elif isinstance(outcome, Rejection):
                self._count_drop(outcome.step, outcome.reason)
                yield beam.pvalue.TaggedOutput(REJECTED, outcome)
            elif isinstance(outcome, DeadLetter):
                beam.metrics.Metrics.counter(self.stage, f"{outcome.step}.dead").inc()
                yield beam.pvalue.TaggedOutput(DEAD, outcome)
            else:
                yield outcome


def _is_many(outcomes) -> bool:
    """A list or generator of outcomes; anything else (a record, a plain tuple) is one."""
    return isinstance(outcomes, (list, collections.abc.Iterator))


class RuleStep(beam.PTransform):
    """``pcoll | RuleStep(stage, step, rule)`` → :class:`StageOutputs`.

    ``side`` are side inputs passed to the rule after the element (``AsDict`` …);
    ``output_type`` types the kept output (RowCoder for records); ``stream`` emits the
    outcomes as the rule yields them (see the module docstring)."""

    def __init__(self, stage: str, step: str, rule: Callable, *side, output_type: Optional[type] = None,
                 stream: bool = False):
        super().__init__()
        self.stage = stage
        self.step = step
        self.rule = rule
        self.side = side
        self.output_type = output_type
        self.stream = stream

    def expand(self, pcoll):
        par = beam.ParDo(_RuleFn(self.stage, self.step, self.rule, self.stream), *self.side)
        if self.output_type is not None:
            par = par.with_output_types(self.output_type, **{REJECTED: Rejection, DEAD: DeadLetter})
        out = pcoll | par.with_outputs(REJECTED, DEAD, main="kept")
        return StageOutputs(out.kept, out[REJECTED], out[DEAD])


def merge(pipeline, label: str, parts: Iterable[StageOutputs], kept=None) -> StageOutputs:
    """One StageOutputs from several steps: ``kept`` (default: the last part's) and the
    rejections and dead letters of all of them, flattened."""
    parts = list(parts)

    def flat(name, pcolls):
        pcolls = [p for p in pcolls if p is not None]
        if not pcolls:
            return pipeline | f"{label} no {name}" >> beam.Create([])
        if len(pcolls) == 1:
            return pcolls[0]
        return tuple(pcolls) | f"{label} {name}" >> beam.Flatten()

    return StageOutputs(kept if kept is not None else parts[-1].kept,
                        flat("rejections", [p.rejected for p in parts]),
                        flat("dead letters", [p.dead for p in parts]))
