"""The bar every journey meets before it counts as built: curate's filters,
decontamination and dedup, applied to the journey examples (``GateJourneys``).

A journey's wrong prefix was stopped by curate's verdict filter before any other filter
saw it, a reflect journey's continuation comes straight from the teacher, and neither
was deduplicated or decontaminated. The launcher injects curate's own rules (the mix
stage imports no other stage); this module only adapts examples to them:

* ``journey_filter`` (reasons as curate's, step ``journey_<filter step>``, e.g.
  ``journey_filter_language`` / ``language_mixing``): every part of a journey no curate
  filter has seen is checked as a trace of its own with all of curate's filters — the
  wrong prefix with its transition (both modes), and the teacher's continuation
  (reflect) — except the minimum lengths (a prefix may be one step). Then the whole
  journey is checked with all of them except the duplicate-line and duplicate-paragraph
  fractions: a journey restates by design the steps its prefix got right. Per-kind
  settings: :func:`part_filter_config` and :func:`whole_filter_config`.
* ``journey_decontaminate`` (``contaminated``): curate's benchmark matching on the
  prompt and (with ``check_responses``) the whole assistant turn.
* ``journey_dedup_exact`` (``duplicate``): a journey whose assistant turn without its
  transition, normalized as curate's exact dedup does, equals a direct example's of the
  same problem, or an earlier journey's (the smallest example id survives; direct
  examples always do): two journeys of the same wrong text and recovery are one.
* ``journey_dedup_responses`` (``duplicate``, ``near_duplicate``, ``response_cap``):
  curate's MinHash response dedup among the journeys of a problem.

Each rule sees a journey as a :class:`~schemas.records.VerifiedRollout` view
(:func:`example_view`: the prompt, the assistant turn as the completion, the example id
as the rollout id), and every rejection carries the journey example itself. The steps
start with ``journey_``, so the journey balance counts them: a journey is built only
once it passed.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, List, Optional, Sequence, Tuple

import apache_beam as beam

from schemas.records import SftExample, VerifiedRollout, project
from transforms.core import Drop, RuleStep, merge
from transforms.mix.examples import assistant_content

STAGE = "mix"
FILTER_STEP, DECONTAM_STEP = "journey_filter", "journey_decontaminate"
EXACT_STEP, RESPONSES_STEP = "journey_dedup_exact", "journey_dedup_responses"
#: Examples checked for contamination per call of the injected matcher.
BATCH = 64


def example_view(example, part: Optional[str] = None):
    """``example`` (an SftExample) as the VerifiedRollout curate's rules read; ``part``
    replaces its thinking (a part of the journey checked on its own, its lengths then
    estimated from the text)."""
    reasoning = example.reasoning if part is None else part
    answer = example.answer
    return project(
        VerifiedRollout, example, prompt=example.problem, choices=[], tests=None, metadata=None,
        rollout_id=example.example_id, teacher_revision=None, backend="", temperature=0.0, top_p=1.0,
        max_tokens=0, completion=assistant_content(reasoning, answer), reasoning=reasoning, answer=answer,
        finish_reason="stop", latency_s=0.0, verifier_version="", verdict_reason="",
        prompt_tokens=example.prompt_tokens if part is None else 0,
        completion_tokens=example.completion_tokens if part is None else 0,
    )


def journey_parts(example, transitions: Sequence[str]) -> List[Tuple[str, str]]:
    """The (label, text) parts of a journey's thinking no curate filter has seen: the wrong
    prefix with its transition, and for reflect the teacher's continuation after it. A
    thinking without a configured transition paragraph is one part, all of it."""
    paragraphs = (example.reasoning or "").split("\n\n")
    wanted = {t.strip() for t in transitions}
    cut = next((i for i, p in enumerate(paragraphs) if p.strip() in wanted), None)
    if cut is None:
        return [("journey", example.reasoning or "")]
    parts = [("wrong prefix", "\n\n".join(paragraphs[: cut + 1]))]
    if (example.journey or "").startswith("reflect"):
        parts.append(("continuation", "\n\n".join(paragraphs[cut + 1:])))
    return parts


def part_filter_config(config):
    """Curate's filter settings for a part of a journey: no minimum lengths."""
    return dataclasses.replace(config, min_reasoning_tokens=0, min_answer_tokens=0, min_prompt_tokens=0)


def whole_filter_config(config):
    """Curate's filter settings for a whole journey: no duplicate-line or -paragraph limit."""
    return dataclasses.replace(config, max_dup_line_fraction=1.0, max_dup_paragraph_fraction=1.0)


class JourneyFilters:
    """Rule: a journey → itself, or a ``Drop`` under ``journey_<filter step>`` naming the
    part that failed. ``part`` and ``whole``: curate's filter rule (record → record or
    Drop) under :func:`part_filter_config` and :func:`whole_filter_config`."""

    def __init__(self, part: Callable, whole: Callable, transitions: Sequence[str]):
        self.part, self.whole, self.transitions = part, whole, tuple(transitions)

    def setup(self) -> None:
        for rule in (self.part, self.whole):
            if hasattr(rule, "setup"):
                rule.setup()

    def __call__(self, example):
        checks = [(label, self.part, example_view(example, text)) for label, text in
                  journey_parts(example, self.transitions)]
        checks.append(("whole journey", self.whole, example_view(example)))
        for label, rule, view in checks:
            result = rule(view)
            if isinstance(result, Drop):
                return Drop(result.reason, f"{label}: {result.detail}", step=f"journey_{result.step or 'filter'}")
        return example


class OnViews:
    """A curate rule over a batch (list) or a ``(key, records)`` group of records, applied
    to journeys through :func:`example_view`; what it keeps or drops maps back to the
    journey examples."""

    def __init__(self, rule: Callable):
        self.rule = rule

    def setup(self) -> None:
        if hasattr(self.rule, "setup"):
            self.rule.setup()

    def teardown(self) -> None:
        if hasattr(self.rule, "teardown"):
            self.rule.teardown()

    def __call__(self, element):
        if isinstance(element, list):
            examples, arg = element, None
        else:
            key, examples = element[0], list(element[1])
            arg = key
        by_id = {e.example_id: e for e in examples}
        views = [example_view(e) for e in examples]
        outcomes = self.rule(views if arg is None else (arg, views))
        out = []
        for outcome in outcomes:
            if isinstance(outcome, Drop):
                record = by_id[outcome.record.rollout_id] if outcome.record is not None else None
                out.append(outcome._replace(record=record))
            elif hasattr(outcome, "rollout_id") and outcome.rollout_id in by_id:
                out.append(by_id[outcome.rollout_id])
            else:
                out.append(outcome)
        return out


def exact_text(example_or_rollout, normalize: Callable[[str], str], transitions: Sequence[str] = ()) -> Tuple[str, str]:
    """(problem id, normalized assistant turn without its transition paragraphs): equal
    keys are exact duplicates (two journeys of the same wrong text and recovery are the
    same example, whichever transition each drew)."""
    wanted = {t.strip() for t in transitions}
    reasoning = "\n\n".join(p for p in (example_or_rollout.reasoning or "").split("\n\n") if p.strip() not in wanted)
    text = assistant_content(reasoning, example_or_rollout.answer)
    return example_or_rollout.problem_id, normalize(text)


def dedup_exact_rule(element):
    """Rule: one (key, {"journeys": [...], "direct": [rollout ids]}) group → the journeys,
    none kept when a direct example has the same text, else the smallest example id."""
    _, groups = element
    journeys = sorted(groups["journeys"], key=lambda e: e.example_id)
    direct = sorted(groups["direct"])
    if not journeys:
        return []
    if direct:
        return [Drop("duplicate", f"same normalized text as the direct example of rollout {direct[0]}", record=j)
                for j in journeys]
    survivor = journeys[0]
    return [survivor] + [Drop("duplicate", f"same normalized text as journey {survivor.example_id}", record=j)
                         for j in journeys[1:]]


class GateJourneys(beam.PTransform):
    """{"journeys": SftExamples, "direct": curated VerifiedRollouts} → StageOutputs(the
    journeys that pass, rejections, dead letters). Every rule is injected (None: that
    check is off): ``filters`` a :class:`JourneyFilters`; ``decontam`` curate's batch
    matcher; ``normalize`` curate's exact-dedup text normalization; ``responses``
    curate's per-prompt response dedup rule; ``transitions``: the journey transitions,
    left out of the exact-dedup text."""

    def __init__(self, filters: Optional[JourneyFilters], decontam: Optional[Callable],
                 normalize: Optional[Callable[[str], str]], responses: Optional[Callable],
                 transitions: Sequence[str] = ()):
        super().__init__()
        self.filters, self.decontam, self.normalize, self.responses = filters, decontam, normalize, responses
        self.transitions = tuple(transitions)

    def expand(self, inputs):
        journeys = inputs["journeys"]
        parts = []
        if self.filters is not None:
            parts.append(journeys | "Filter" >> RuleStep(STAGE, FILTER_STEP, self.filters, output_type=SftExample))
            journeys = parts[-1].kept
        if self.decontam is not None:
            parts.append(journeys
                         | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=BATCH)
                         | "Decontaminate" >> RuleStep(STAGE, DECONTAM_STEP, OnViews(self.decontam),
                                                       output_type=SftExample))
            journeys = parts[-1].kept
        if self.normalize is not None:
            normalize, transitions = self.normalize, self.transitions
            keyed = {
                "journeys": journeys | "KeyJourneys" >> beam.Map(lambda e: (exact_text(e, normalize, transitions), e)),
                "direct": inputs["direct"] | "KeyDirect" >> beam.Map(
                    lambda r: (exact_text(r, normalize), r.rollout_id)),
            }
            parts.append(keyed
                         | "SameText" >> beam.CoGroupByKey()
                         | "DedupExact" >> RuleStep(STAGE, EXACT_STEP, dedup_exact_rule, output_type=SftExample))
            journeys = parts[-1].kept
        if self.responses is not None:
            parts.append(journeys
                         | "ByProblem" >> beam.Map(lambda e: (e.problem_id, e))
                         | "GroupProblem" >> beam.GroupByKey()
                         | "DedupResponses" >> RuleStep(STAGE, RESPONSES_STEP, OnViews(self.responses),
                                                        output_type=SftExample))
            journeys = parts[-1].kept
        if not parts:
            return merge(journeys.pipeline, "Gate", [], kept=journeys)
        return merge(journeys.pipeline, "Gate", parts)
