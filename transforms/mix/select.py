"""Selection by quota: buckets, their targets, deterministic selection keys, and the
three decisions of the mix (plain functions, applied by :class:`~transforms.core.RuleStep`
in :class:`transforms.mix.transform.MixExamples`).

Targets are split into buckets ``kind/part/group``:

* part: ``journey`` takes ``journey.share`` of the reasoning target, ``direct`` the rest
  (knowledge is all direct);
* group: the example's ``quota_field`` value when ``quotas`` gives shares for its kind
  (``"*"`` catches every value not listed), else ``"*"``.

Bucket targets are apportioned by largest remainder, so they add up to the kind's
target exactly. An example of a kind with quotas whose value has no share is
rejected (step ``select_quota``, reason ``no_quota``).

Every example gets a score from a hash of the seed and its id; the per-prompt cap keeps
the lowest-scoring examples of each (problem, part) (step and reason ``per_prompt_cap``;
``mix.selection.policy`` may order them by thinking length or diversity instead, see
:mod:`transforms.mix.lengths`),
and each bucket keeps its ``target`` lowest scores (the rest: step ``select_quota``,
reason ``over_quota``). A bucket with too little supply is reported as a shortfall,
never filled from elsewhere.
"""
from __future__ import annotations

import math
import re
from typing import Dict, Iterable, Iterator, Optional

from transforms.core import Drop, hash_score
from transforms.mix.config import ANY, MixConfig
from transforms.mix.lengths import SelectionConfig, select_per_prompt

# -- buckets and targets -----------------------------------------------------------------


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


def example_bucket(row: dict, config: MixConfig) -> Optional[str]:
    """The bucket of an SftExample row (a dict, e.g. read back from Parquet)."""
    value = row.get(config.quota_field) if config.quota_field else None
    return bucket_key(row["kind"], row.get("journey"), value, config)


def part_of(bucket: str) -> str:
    """The part (``journey`` or ``direct``) of a bucket."""
    return bucket.split("/")[1]


def selection_key(seed: int, example) -> tuple:
    """Lower keys are selected first; ties broken by id."""
    return hash_score(seed, example.example_id), example.example_id


def threshold(sorted_keys, target: int):
    """The key of the target-th example, or None when supply is short (take all)."""
    if target <= 0 or len(sorted_keys) <= target:
        return None
    return tuple(sorted_keys[target - 1])


# -- the bucket report ---------------------------------------------------------------------


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


def over_quota_detail(bucket: str, target: int) -> str:
    """The ``detail`` of an ``over_quota`` rejection: it names the example's bucket."""
    return f"bucket {bucket}: target {target} filled by lower-scoring examples"


_OVER_QUOTA = re.compile(r"bucket (.*): target \d+ filled by lower-scoring examples", re.DOTALL)


def bucket_of_detail(detail: str) -> Optional[str]:
    """The bucket an ``over_quota`` rejection's detail names (the rejections' columns are
    enough to count supply per bucket; the payload is never read back)."""
    match = _OVER_QUOTA.fullmatch(detail or "")
    return match.group(1) if match else None


# -- the decisions (RuleStep rules) ----------------------------------------------------------


def assign_bucket(example, config: MixConfig):
    """Example → (bucket, example), or a ``no_quota`` Drop."""
    bucket = bucket_of(example, config)
    if bucket is None:
        field = config.quota_field
        value = getattr(example, field) if field else None
        return Drop("no_quota", f"{example.kind}: no share for {field}={value!r}")
    return bucket, example


def cap_per_prompt(element, cap: Optional[int], seed: int, selection: SelectionConfig = SelectionConfig()
                   ) -> Iterator:
    """((problem, part), [(bucket, example), ...]) → the ``cap`` first pairs in the order of
    ``selection.policy`` (by default the lowest scores); a ``per_prompt_cap`` Drop for each
    of the rest (under another policy: step ``select_per_prompt``, see
    :func:`transforms.mix.lengths.select_per_prompt`)."""
    return select_per_prompt(element, cap, seed, selection)


def select_by_threshold(element, thresholds: Dict[str, tuple], seed: int, targets: Dict[str, int]):
    """(bucket, example) → the example when its key is within its bucket's threshold
    (``thresholds``: a side input), else an ``over_quota`` Drop."""
    bucket, example = element
    key = selection_key(seed, example)
    limit = thresholds.get(bucket)
    target = targets.get(bucket, 0)
    if target > 0 and (limit is None or tuple(key) <= tuple(limit)):
        return example
    return Drop("over_quota", over_quota_detail(bucket, target), record=example)
