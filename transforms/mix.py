"""Mix: curated rollouts → SFT examples, selected by quota per kind.

Targets are per kind (reasoning 600K, knowledge 200K by default, both multiplied by
``scale``). Selection is deterministic: each example gets a score from a hash of the
seed and its id, a per-prompt cap keeps the lowest-scoring samples of each problem,
and each kind keeps its ``target`` lowest scores. What is not selected is rejected
(``per_prompt_cap``, ``over_quota``); a kind with too little supply is reported as a
shortfall, never filled from elsewhere.
"""
from __future__ import annotations

import dataclasses
from typing import Dict, Optional

import apache_beam as beam

from schemas.records import Message, SftExample
from transforms.common import StageOutputs, hash_score, make_rejection, stable_hash

KINDS = ("reasoning", "knowledge")


@dataclasses.dataclass(frozen=True)
class MixConfig:
    reasoning: int = 600_000
    knowledge: int = 200_000
    scale: float = 1.0  # multiplies both targets (1/1000 → 600 + 200)
    per_prompt_cap: Optional[int] = None  # at most this many examples per problem
    max_rows_per_shard: int = 50_000
    compression: str = "zstd"

    def __post_init__(self):
        if self.reasoning < 0 or self.knowledge < 0:
            raise ValueError("reasoning/knowledge: targets must be >= 0")
        if self.scale <= 0:
            raise ValueError("scale: must be > 0")
        if self.per_prompt_cap is not None and self.per_prompt_cap < 1:
            raise ValueError("per_prompt_cap: must be >= 1")
        if self.max_rows_per_shard < 1:
            raise ValueError("max_rows_per_shard: must be >= 1")
        if self.compression not in ("zstd", "snappy", "gzip", "none"):
            raise ValueError("compression: must be zstd, snappy, gzip or none")

    def targets(self) -> Dict[str, int]:
        """The number of examples wanted per kind after scaling."""
        return {"reasoning": round(self.reasoning * self.scale),
                "knowledge": round(self.knowledge * self.scale)}


# -- rules ----------------------------------------------------------------------


def assistant_content(reasoning: str, answer: str) -> str:
    """The assistant turn: ``<think>`` reasoning, then the answer (R1's format)."""
    reasoning = (reasoning or "").strip()
    answer = (answer or "").strip()
    if not reasoning:
        return answer
    return f"<think>\n{reasoning}\n</think>\n\n{answer}"


def to_example(record) -> SftExample:
    """A curated VerifiedRollout as a training example."""
    return SftExample(
        example_id=stable_hash("sft", record.kind, record.rollout_id),
        kind=record.kind,
        journey=None,
        messages=[Message("user", record.prompt),
                  Message("assistant", assistant_content(record.reasoning, record.answer))],
        prompt=record.prompt,
        reasoning=record.reasoning,
        answer=record.answer,
        reference_answer=record.reference_answer,
        extracted_answer=record.extracted_answer,
        verdict=record.verdict,
        verifier=record.verifier,
        source=record.source,
        source_id=record.source_id,
        domain=record.domain,
        difficulty=record.difficulty,
        language=record.language,
        problem_id=record.problem_id,
        rollout_ids=[record.rollout_id],
        teacher_model=record.teacher_model,
        sample_index=record.sample_index,
        sample_seed=record.sample_seed,
        prompt_tokens=record.prompt_tokens,
        completion_tokens=record.completion_tokens,
        pass_rate=record.pass_rate,
        seed=record.seed,
        config_hash=record.config_hash,
        schema_version=record.schema_version,
    )


def selection_key(seed: int, example) -> tuple:
    """Lower keys are selected first; ties broken by id."""
    return hash_score(seed, example.example_id), example.example_id


# -- transforms -----------------------------------------------------------------


class _CapPerPrompt(beam.DoFn):
    def __init__(self, cap: Optional[int], seed: int):
        self.cap = cap
        self.seed = seed

    def process(self, element):
        _, examples = element
        ordered = sorted(examples, key=lambda e: selection_key(self.seed, e))
        for i, example in enumerate(ordered):
            if self.cap is None or i < self.cap:
                yield example
            else:
                yield beam.pvalue.TaggedOutput("rejected", make_rejection(
                    example, "mix", "per_prompt_cap", "per_prompt_cap",
                    f"problem has {len(ordered)} examples, cap {self.cap}"))


class _SelectByThreshold(beam.DoFn):
    def __init__(self, seed: int, targets: Dict[str, int]):
        self.seed = seed
        self.targets = targets

    def process(self, example, thresholds):
        key = selection_key(self.seed, example)
        limit = thresholds.get(example.kind)
        target = self.targets.get(example.kind, 0)
        if target > 0 and (limit is None or tuple(key) <= tuple(limit)):
            yield example
        else:
            beam.metrics.Metrics.counter("mix", "dropped_over_quota").inc()
            yield beam.pvalue.TaggedOutput("rejected", make_rejection(
                example, "mix", "select_quota", "over_quota",
                f"kind {example.kind}: target {target} filled by lower-scoring examples"))


class MixExamples(beam.PTransform):
    """Curated VerifiedRollouts → selected SftExamples (+ rejections for the rest).

    Also exposes ``supply`` (a PCollection of {kind: candidates}) for shortfall reports."""

    def __init__(self, config: MixConfig, seed: int):
        super().__init__()
        self.config = config
        self.seed = seed

    def expand(self, records):
        seed = self.seed
        targets = self.config.targets()
        examples = records | "ToExample" >> beam.Map(to_example).with_output_types(SftExample)
        capped = (
            examples
            | "ByProblem" >> beam.Map(lambda e: (e.problem_id, e))
            | "GroupProblem" >> beam.GroupByKey()
            | "Cap" >> beam.ParDo(_CapPerPrompt(self.config.per_prompt_cap, seed)).with_outputs(
                "rejected", main="kept")
        )
        # one more than the largest target: a kind with more keys than its target has surplus
        largest = max(list(targets.values()) + [0]) + 1
        thresholds = (
            capped.kept
            | "KeyByKind" >> beam.Map(lambda e: (e.kind, selection_key(seed, e)))
            | "Smallest" >> beam.combiners.Top.PerKey(largest, reverse=True)
            | "Threshold" >> beam.Map(
                lambda kv: (kv[0], _threshold(sorted(kv[1]), targets.get(kv[0], 0))))
        )
        selected = capped.kept | "Select" >> beam.ParDo(
            _SelectByThreshold(seed, targets), thresholds=beam.pvalue.AsDict(thresholds)
        ).with_outputs("rejected", main="kept")
        rejected = (capped.rejected, selected.rejected) | "Rejections" >> beam.Flatten()
        dead = records.pipeline | "NoDead" >> beam.Create([])
        return StageOutputs(selected.kept, rejected, dead)


def _threshold(sorted_keys, target: int):
    """The key of the target-th example, or None when supply is short (take all)."""
    if target <= 0 or len(sorted_keys) <= target:
        return None
    return tuple(sorted_keys[target - 1])
