"""Mix: candidate SFT examples → the corpus, selected by quota.

Targets are per kind (reasoning 600K, knowledge 200K by default, both multiplied by
``scale``) and are split into buckets ``kind/part/group``:

* part: ``journey`` takes ``journey.share`` of the reasoning target, ``direct`` the rest
  (knowledge is all direct);
* group: the example's ``quota_field`` value when ``quotas`` gives shares for its kind
  (``"*"`` catches every value not listed), else ``"*"``.

Bucket targets are apportioned by largest remainder, so they add up to the kind's
target exactly. An example of a kind with quotas whose value has no share is
rejected (``no_quota``). Example, R1's Table 5 shares::

    mix:
      quota_field: domain
      quotas:
        reasoning: {math: 0.64, code: 0.34, stem: 0.01, logic: 0.01}
        knowledge: {"*": 1.0}

Selection is deterministic: every example gets a score from a hash of the seed and its
id; the per-prompt cap keeps the lowest-scoring examples of each (problem, part), and
each bucket keeps its ``target`` lowest scores. What is not selected is rejected
(``per_prompt_cap``, ``over_quota``); a bucket with too little supply is reported as a
shortfall, never filled from elsewhere.
"""
from __future__ import annotations

import dataclasses
import json
import math
from typing import Dict, Iterable, Optional, Tuple

import apache_beam as beam

from schemas.records import SftExample
from publish import accounting
from publish import card as report
from transforms.core import REJECTED, StageOutputs, hash_score, make_rejection
from transforms.mix.examples import is_row_of, to_example
from transforms.mix.journey import JourneyConfig
from transforms.mix.knowledge import KnowledgeConfig

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
    quota_field: Optional[str] = None  # domain | source | difficulty | language
    quotas: Dict[str, Dict[str, float]] = dataclasses.field(default_factory=dict)  # {kind: {value: share}}
    journey: JourneyConfig = JourneyConfig()
    knowledge_format: KnowledgeConfig = KnowledgeConfig()
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
        object.__setattr__(self, "quotas", _freeze_quotas(self.quotas))
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


# -- rules ----------------------------------------------------------------------


def apportion(total: int, shares: Dict[str, float]) -> Dict[str, int]:
    """``total`` split by ``shares`` (adding up to 1) into integers that add up to ``total``.

    Largest remainder: floors first, then one more to the largest fractions (ties by name)."""
    exact = {k: total * s for k, s in shares.items()}
    counts = {k: math.floor(v + 1e-9) for k, v in exact.items()}
    left = total - sum(counts.values())
    for key in sorted(exact, key=lambda k: (-(exact[k] - counts[k]), k))[:max(left, 0)]:
        counts[key] += 1
    return counts


def bucket_targets(config: MixConfig) -> Dict[str, int]:
    """Target per bucket ``kind/part/group``; they add up to each kind's target."""
    out = {}
    for kind, total in config.targets().items():
        share = config.journey.share if kind == "reasoning" else 0.0
        parts = apportion(total, {"journey": share, "direct": 1.0 - share}) if share > 0 else {"direct": total}
        for part, part_total in sorted(parts.items()):
            for group, n in sorted(apportion(part_total, config.shares(kind)).items()):
                out[f"{kind}/{part}/{group}"] = n
    return out


def bucket_key(kind: str, journey: Optional[str], value, config: MixConfig) -> Optional[str]:
    """The bucket of an example's (kind, journey, quota-field value); None when no quota covers it."""
    part = "journey" if journey else "direct"
    shares = config.shares(kind)
    value = "" if value is None else str(value)
    group = value if value in shares and value != ANY else ANY if ANY in shares else None
    return None if group is None else f"{kind}/{part}/{group}"


def bucket_of(example, config: MixConfig) -> Optional[str]:
    value = getattr(example, config.quota_field) if config.quota_field else None
    return bucket_key(example.kind, example.journey, value, config)


def selection_key(seed: int, example) -> tuple:
    """Lower keys are selected first; ties broken by id."""
    return hash_score(seed, example.example_id), example.example_id


def bucket_report(selected: Iterable[str], over_quota: Iterable[str], config: MixConfig) -> Dict[str, dict]:
    """{bucket: {target, supply, selected, shortfall}} from the buckets of the selected
    examples and of those rejected ``over_quota`` (supply = both)."""
    report = {b: {"target": t, "supply": 0, "selected": 0, "shortfall": 0}
              for b, t in bucket_targets(config).items()}
    for name, buckets in (("selected", selected), ("supply", over_quota)):
        for bucket in buckets:
            entry = report.setdefault(bucket, {"target": 0, "supply": 0, "selected": 0, "shortfall": 0})
            entry[name] += 1
    for entry in report.values():
        entry["supply"] += entry["selected"]
        entry["shortfall"] = max(entry["target"] - entry["selected"], 0)
    return dict(sorted(report.items()))


def example_bucket(row: dict, config: MixConfig) -> Optional[str]:
    """The bucket of an SftExample row (a dict, e.g. read back from Parquet or a payload)."""
    value = row.get(config.quota_field) if config.quota_field else None
    return bucket_key(row["kind"], row.get("journey"), value, config)


def rejected_example(rejection: dict) -> Optional[dict]:
    """The SftExample row inside a mix Rejection row, or None for other rejections."""
    row = json.loads(rejection["payload"])
    return row if is_row_of(SftExample, row) else None


# -- transforms -----------------------------------------------------------------


class _Bucket(beam.DoFn):
    """Example → (bucket, example), or a ``no_quota`` rejection."""

    def __init__(self, config: MixConfig):
        self.config = config

    def process(self, example):
        bucket = bucket_of(example, self.config)
        if bucket is None:
            field = self.config.quota_field
            yield beam.pvalue.TaggedOutput(REJECTED, make_rejection(
                example, "mix", "select_quota", "no_quota",
                f"{example.kind}: no share for {field}={getattr(example, field)!r}"))
        else:
            yield bucket, example


class _CapPerPrompt(beam.DoFn):
    def __init__(self, cap: Optional[int], seed: int):
        self.cap = cap
        self.seed = seed

    def process(self, element):
        (_, part), items = element
        ordered = sorted(items, key=lambda be: selection_key(self.seed, be[1]))
        for i, (bucket, example) in enumerate(ordered):
            if self.cap is None or i < self.cap:
                yield bucket, example
            else:
                yield beam.pvalue.TaggedOutput(REJECTED, make_rejection(
                    example, "mix", "per_prompt_cap", "per_prompt_cap",
                    f"problem has {len(ordered)} {part} examples, cap {self.cap}"))


class _SelectByThreshold(beam.DoFn):
    def __init__(self, seed: int, targets: Dict[str, int]):
        self.seed = seed
        self.targets = targets

    def process(self, element, thresholds):
        bucket, example = element
        key = selection_key(self.seed, example)
        limit = thresholds.get(bucket)
        target = self.targets.get(bucket, 0)
        if target > 0 and (limit is None or tuple(key) <= tuple(limit)):
            yield example
        else:
            beam.metrics.Metrics.counter("mix", "dropped_over_quota").inc()
            yield beam.pvalue.TaggedOutput(REJECTED, make_rejection(
                example, "mix", "select_quota", "over_quota",
                f"bucket {bucket}: target {target} filled by lower-scoring examples"))


def _part(bucket: str) -> str:
    return bucket.split("/")[1]


class MixExamples(beam.PTransform):
    """Curated VerifiedRollouts (a PCollection), or ``{"curated": ..., "journeys": SftExamples}``
    → StageOutputs(selected SftExamples, rejections of the rest, no dead letters)."""

    def __init__(self, config: MixConfig, seed: int):
        super().__init__()
        self.config = config
        self.seed = seed

    def expand(self, inputs):
        inputs = inputs if isinstance(inputs, dict) else {"curated": inputs}
        seed, config = self.seed, self.config
        targets = bucket_targets(config)
        examples = inputs["curated"] | "ToExample" >> beam.Map(
            to_example, config.knowledge_format).with_output_types(SftExample)
        if inputs.get("journeys") is not None:
            examples = (examples, inputs["journeys"]) | "WithJourneys" >> beam.Flatten()
        bucketed = examples | "Bucket" >> beam.ParDo(_Bucket(config)).with_outputs(REJECTED, main="kept")
        capped = (
            bucketed.kept
            | "ByProblem" >> beam.Map(lambda be: ((be[1].problem_id, _part(be[0])), be))
            | "GroupProblem" >> beam.GroupByKey()
            | "Cap" >> beam.ParDo(_CapPerPrompt(config.per_prompt_cap, seed)).with_outputs(
                REJECTED, main="kept")
        )
        # one more than the largest target: a bucket with more keys than its target has surplus
        largest = max(list(targets.values()) + [0]) + 1
        thresholds = (
            capped.kept
            | "KeyByBucket" >> beam.Map(lambda be: (be[0], selection_key(seed, be[1])))
            | "Smallest" >> beam.combiners.Top.PerKey(largest, reverse=True)
            | "Threshold" >> beam.Map(
                lambda kv: (kv[0], _threshold(sorted(kv[1]), targets.get(kv[0], 0))))
        )
        selected = capped.kept | "Select" >> beam.ParDo(
            _SelectByThreshold(seed, targets), thresholds=beam.pvalue.AsDict(thresholds)
        ).with_outputs(REJECTED, main="kept")
        rejected = ((bucketed[REJECTED], capped[REJECTED], selected[REJECTED])
                    | "Rejections" >> beam.Flatten())
        dead = examples.pipeline | "NoDead" >> beam.Create([])
        return StageOutputs(selected.kept, rejected, dead)


def _threshold(sorted_keys, target: int):
    """The key of the target-th example, or None when supply is short (take all)."""
    if target <= 0 or len(sorted_keys) <= target:
        return None
    return tuple(sorted_keys[target - 1])


# -- read back from the stage's outputs (the launcher's accounting and manifest) ----------------

#: The examples' output name.
DATA = "data/train"


def selection_report(outputs: Dict[str, dict], config: MixConfig, data: str = DATA) -> dict:
    """Buckets (target, supply, selected, shortfall) and journey counts, read back from the
    mix stage's outputs (``accounting.collect``: ``data`` is the examples' output name)."""
    field = [config.quota_field] if config.quota_field else []
    selected = list(report.read_columns(accounting.paths(outputs, data), ["kind", "journey"] + field))
    rejections = list(report.read_columns(accounting.paths(outputs, "rejections"),
                                          ["step", "reason", "payload"]))
    rejected_examples = [(r["reason"], rejected_example(r)) for r in rejections]
    over_quota = [example_bucket(ex, config) for reason, ex in rejected_examples if reason == "over_quota"]
    return {
        "buckets": bucket_report([example_bucket(r, config) for r in selected], over_quota, config),
        "journeys_built": sum(1 for r in selected if r["journey"])
        + sum(1 for _, ex in rejected_examples if ex is not None and ex.get("journey")),
        "journey_rejected": sum(1 for r in rejections if r["step"].startswith("journey_")),
    }


def per_kind(buckets: Dict[str, dict], name: str, kinds) -> Dict[str, int]:
    """A bucket column (target, supply, selected, shortfall) summed per kind."""
    out = {k: 0 for k in kinds}
    for bucket, entry in buckets.items():
        kind = bucket.split("/", 1)[0]
        out[kind] = out.get(kind, 0) + entry[name]
    return out
