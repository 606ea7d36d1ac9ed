"""Mix: candidate SFT examples → the corpus, selected by quota.

Curated rollouts become examples (:func:`transforms.mix.examples.to_example`), journey
examples join them, and three decisions (:mod:`transforms.mix.select`) go through
:class:`~transforms.core.RuleStep`, each drop counted as ``mix.<step>.dropped_<reason>``:

* ``select_quota``: a bucket per example (``no_quota`` when no quota covers it);
* ``length_cap`` (with ``length_caps``): direct reasoning examples thinking longer than
  the cap of their problem's pass rate (``over_length_cap``);
* ``per_prompt_cap``: the lowest-scoring examples of each (problem, part), or the first
  under ``selection.policy`` (step ``select_per_prompt``, :mod:`transforms.mix.lengths`);
* ``select_quota``: each bucket's ``target`` lowest scores (``over_quota`` for the rest).

With ``no_cot`` on, one kept example of each problem the teacher always solves briefly
(up to its share of the reasoning target) loses its thinking before the quota selection
(same id, so the selection is unchanged).

Example, R1's Table 5 shares::

    mix:
      quota_field: domain
      quotas:
        reasoning: {math: 0.64, code: 0.34, stem: 0.01, logic: 0.01}
        knowledge: {"*": 1.0}
"""
from __future__ import annotations

import functools
from typing import Optional

import apache_beam as beam

from schemas.records import SftExample
from transforms.core import RuleStep, merge
from transforms.mix.config import MixConfig
from transforms.mix.examples import to_example
from transforms.mix.lengths import apply_no_cot, cap_length, no_cot_candidate, no_cot_pick
from transforms.mix.prune import Pruner
from transforms.mix.select import (
    assign_bucket,
    bucket_targets,
    cap_per_prompt,
    part_of,
    select_by_threshold,
    selection_key,
    threshold,
)

STAGE = "mix"


class ToExamples(beam.DoFn):
    """A curated rollout → its example; with a :class:`~transforms.mix.prune.Pruner`, its
    thinking pruned first (the pruner's verifier and filters set up once per worker)."""

    def __init__(self, knowledge, pruner: Optional[Pruner] = None):
        super().__init__()
        self.knowledge, self.pruner = knowledge, pruner

    def setup(self):
        if self.pruner is not None:
            self.pruner.setup()

    def teardown(self):
        if self.pruner is not None:
            self.pruner.teardown()

    def process(self, record):
        yield to_example(record, self.knowledge, self.pruner)


class MixExamples(beam.PTransform):
    """Curated VerifiedRollouts (a PCollection), or ``{"curated": ..., "journeys": SftExamples}``
    → StageOutputs(selected SftExamples, rejections of the rest, dead letters)."""

    def __init__(self, config: MixConfig, seed: int, pruner: Optional[Pruner] = None):
        super().__init__()
        self.config = config
        self.seed = seed
        self.pruner = pruner

    def expand(self, inputs):
        inputs = inputs if isinstance(inputs, dict) else {"curated": inputs}
        seed, config = self.seed, self.config
        targets = bucket_targets(config)
        examples = inputs["curated"] | "ToExample" >> beam.ParDo(
            ToExamples(config.knowledge_format, self.pruner)).with_output_types(SftExample)
        if inputs.get("journeys") is not None:
            examples = (examples, inputs["journeys"]) | "WithJourneys" >> beam.Flatten()
        bucketed = examples | "Bucket" >> RuleStep(
            STAGE, "select_quota", functools.partial(assign_bucket, config=config))
        steps = [bucketed]
        candidates = bucketed.kept
        if config.length_caps:
            capped_length = candidates | "LengthCap" >> RuleStep(
                STAGE, "length_cap", functools.partial(cap_length, caps=config.length_caps))
            steps.append(capped_length)
            candidates = capped_length.kept
        capped = (
            candidates
            | "ByProblem" >> beam.Map(lambda be: ((be[1].problem_id, part_of(be[0])), be))
            | "GroupProblem" >> beam.GroupByKey()
            | "Cap" >> RuleStep(STAGE, "per_prompt_cap",
                                functools.partial(cap_per_prompt, cap=config.per_prompt_cap, seed=seed,
                                                  selection=config.selection))
        )
        capped_kept = capped.kept
        no_cot = config.no_cot.limit(config.targets()["reasoning"])
        if no_cot > 0:
            chosen = (
                capped.kept
                | "NoCotCandidates" >> beam.FlatMap(no_cot_candidate, config.no_cot, seed)
                | "NoCotByProblem" >> beam.GroupByKey()
                | "NoCotPick" >> beam.FlatMap(no_cot_pick, seed)
                | "NoCotChoose" >> beam.combiners.Top.Smallest(no_cot)
                | "NoCotIds" >> beam.FlatMap(lambda picks: [(example_id, True) for _, example_id in picks])
            )
            capped_kept = capped.kept | "NoCot" >> beam.Map(apply_no_cot, beam.pvalue.AsDict(chosen))
        # one more than the largest target: a bucket with more keys than its target has surplus
        largest = max(list(targets.values()) + [0]) + 1
        thresholds = (
            capped_kept
            | "KeyByBucket" >> beam.Map(lambda be: (be[0], selection_key(seed, be[1])))
            | "Smallest" >> beam.combiners.Top.PerKey(largest, reverse=True)
            | "Threshold" >> beam.Map(
                lambda kv: (kv[0], threshold(sorted(kv[1]), targets.get(kv[0], 0))))
        )
        selected = capped_kept | "Select" >> RuleStep(
            STAGE, "select_quota", functools.partial(select_by_threshold, seed=seed, targets=targets),
            beam.pvalue.AsDict(thresholds))
        return merge(examples.pipeline, "Mix", steps + [capped, selected])
