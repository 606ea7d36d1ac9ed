"""The mix stage's selection, read back from its outputs on the launcher: buckets
(target, supply, selected, shortfall) for the manifest and the card.

Counted from columns only: the selected examples' ``kind``, ``journey`` and quota field,
and the rejections' ``reason`` and ``detail`` (an ``over_quota`` rejection's detail names
its bucket, :func:`transforms.mix.select.over_quota_detail`). No payload is parsed.
"""
from __future__ import annotations

from typing import Dict

from publish import accounting
from publish.layout import DATA
from publish.stats import read_columns
from transforms.mix.config import MixConfig
from transforms.mix.select import bucket_of_detail, bucket_report, example_bucket

__all__ = ["DATA", "per_kind", "selection_report"]


def selection_report(outputs: Dict[str, dict], config: MixConfig, data: str = DATA,
                     rejections: str = "rejections") -> dict:
    """Buckets (target, supply, selected, shortfall), read back from the mix stage's
    outputs (``accounting.collect``: ``data`` and ``rejections`` are the output names of
    the examples and the rejections)."""
    field = [config.quota_field] if config.quota_field else []
    selected = read_columns(accounting.paths(outputs, data), ["kind", "journey"] + field)
    rejected = read_columns(accounting.paths(outputs, rejections), ["step", "reason", "detail"])
    over_quota = [bucket_of_detail(r["detail"]) for r in rejected
                  if r["step"] == "select_quota" and r["reason"] == "over_quota"]
    chosen = [example_bucket(r, config) for r in selected]
    # None (no bucket) never comes back: the mix drops examples no quota covers, and
    # every over_quota detail names its bucket
    return {"buckets": bucket_report([b for b in chosen if b is not None],
                                     [b for b in over_quota if b is not None], config)}


def per_kind(buckets: Dict[str, dict], name: str, kinds) -> Dict[str, int]:
    """A bucket column (target, supply, selected, shortfall) summed per kind."""
    out = {k: 0 for k in kinds}
    for bucket, entry in buckets.items():
        kind = bucket.split("/", 1)[0]
        out[kind] = out.get(kind, 0) + entry[name]
    return out
