"""Selection by quota: buckets (kind, journey part, quota group), their targets, the
bucket report, and the three decisions as plain functions."""
import pytest

from tests.factories import verified
from transforms.core import Drop
from transforms.mix.config import MixConfig
from transforms.mix.examples import to_example
from transforms.mix.journey_config import JourneyConfig
from transforms.mix.select import (
    apportion,
    assign_bucket,
    bucket_key,
    bucket_of_detail,
    bucket_report,
    bucket_targets,
    cap_per_prompt,
    over_quota_detail,
    select_by_threshold,
    selection_key,
    threshold,
)


@pytest.mark.parametrize("total, shares, expected", [
    (10, {"a": 0.5, "b": 0.5}, {"a": 5, "b": 5}),
    (7, {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}, {"a": 3, "b": 2, "c": 2}),  # ties: by name
    (10, {"journey": 0.25, "direct": 0.75}, {"journey": 2, "direct": 8}),  # 2.5 vs 7.5: tie by name
    (1, {"journey": 0.1, "direct": 0.9}, {"journey": 0, "direct": 1}),
    (600, {"math": 0.64, "code": 0.34, "stem": 0.01, "logic": 0.01},
     {"math": 384, "code": 204, "stem": 6, "logic": 6}),
    (0, {"a": 1.0}, {"a": 0}),
])
def test_apportion_adds_up_by_largest_remainder(total, shares, expected):
    assert apportion(total, shares) == expected
    assert sum(apportion(total, shares).values()) == total


def test_bucket_targets_add_up_to_each_kind():
    config = MixConfig(scale=1 / 1000, journey=JourneyConfig(share=0.1), quota_field="domain",
                       quotas={"reasoning": {"math": 0.64, "code": 0.34, "stem": 0.01, "logic": 0.01}})
    targets = bucket_targets(config)
    assert sum(n for b, n in targets.items() if b.startswith("reasoning/")) == 600
    assert sum(n for b, n in targets.items() if b.startswith("reasoning/journey/")) == 60
    assert targets["knowledge/direct/*"] == 200
    assert bucket_targets(MixConfig(scale=1 / 1000)) == {"reasoning/direct/*": 600, "knowledge/direct/*": 200}


QUOTAS = MixConfig(quota_field="domain", quotas={"reasoning": {"math": 0.5, "code": 0.5},
                                                 "knowledge": {"stem": 0.2, "*": 0.8}})


@pytest.mark.parametrize("kind, journey, value, expected", [
    ("reasoning", None, "math", "reasoning/direct/math"),
    ("reasoning", "splice:step", "code", "reasoning/journey/code"),
    ("reasoning", None, "logic", None),  # no share for logic, no catch-all
    ("reasoning", None, None, None),
    ("knowledge", None, "stem", "knowledge/direct/stem"),
    ("knowledge", None, "history", "knowledge/direct/*"),  # the catch-all
    ("knowledge", None, "*", "knowledge/direct/*"),
])
def test_bucket_key(kind, journey, value, expected):
    assert bucket_key(kind, journey, value, QUOTAS) == expected


def test_bucket_report_supply_selected_shortfall():
    config = MixConfig(reasoning=4, knowledge=2, journey=JourneyConfig(share=0.5))
    report = bucket_report(["reasoning/direct/*"] * 2 + ["reasoning/journey/*"],
                           ["reasoning/direct/*"] * 3, config)
    assert report == {
        "knowledge/direct/*": {"target": 2, "supply": 0, "selected": 0, "shortfall": 2},
        "reasoning/direct/*": {"target": 2, "supply": 5, "selected": 2, "shortfall": 0},
        "reasoning/journey/*": {"target": 2, "supply": 1, "selected": 1, "shortfall": 1},
    }


@pytest.mark.parametrize("bucket", ["reasoning/direct/*", "knowledge/direct/stem",
                                    "reasoning/journey/odd: target 3 filled by lower-scoring examples"])
def test_over_quota_detail_names_its_bucket(bucket):
    assert bucket_of_detail(over_quota_detail(bucket, 7)) == bucket
    assert bucket_of_detail("problem has 3 direct examples, cap 1") is None
    assert bucket_of_detail("") is None


# -- the decisions ----------------------------------------------------------------------


def _example(i, domain="math", source_id="p0"):
    return to_example(verified(i, source_id=source_id, domain=domain, completion=f"c{i}"))


def test_assign_bucket_or_no_quota():
    ex = _example(0)
    assert assign_bucket(ex, QUOTAS) == ("reasoning/direct/math", ex)
    assert assign_bucket(ex, MixConfig()) == ("reasoning/direct/*", ex)
    assert assign_bucket(_example(1, domain="logic"), QUOTAS) == \
        Drop("no_quota", "reasoning: no share for domain='logic'")


def test_cap_per_prompt_keeps_the_lowest_keys():
    examples = [_example(i) for i in range(4)]
    items = [("reasoning/direct/*", ex) for ex in examples]
    out = list(cap_per_prompt((("p0", "direct"), items), cap=1, seed=3))
    kept = [o for o in out if not isinstance(o, Drop)]
    dropped = [o for o in out if isinstance(o, Drop)]
    assert kept == [("reasoning/direct/*", min(examples, key=lambda e: selection_key(3, e)))]
    assert [(d.reason, d.detail) for d in dropped] == [("per_prompt_cap", "problem has 4 direct examples, cap 1")] * 3
    assert sorted(e.example_id for e in [d.record for d in dropped] + [kept[0][1]]) == \
        sorted(e.example_id for e in examples)
    assert len(list(cap_per_prompt((("p0", "direct"), items), cap=None, seed=3))) == 4


def test_select_by_threshold():
    ex = _example(0)
    key = selection_key(5, ex)
    bucket = "reasoning/direct/*"
    assert select_by_threshold((bucket, ex), {}, seed=5, targets={bucket: 1}) == ex  # short supply: all
    assert select_by_threshold((bucket, ex), {bucket: key}, seed=5, targets={bucket: 1}) == ex
    over = select_by_threshold((bucket, ex), {bucket: (key[0] - 1e-9, "")}, seed=5, targets={bucket: 1})
    assert over == Drop("over_quota", over_quota_detail(bucket, 1), record=ex)
    assert select_by_threshold((bucket, ex), {}, seed=5, targets={})[0] == "over_quota"  # zero target
    assert threshold([(0.1, "a"), (0.2, "b"), (0.3, "c")], 2) == (0.2, "b")
    assert threshold([(0.1, "a")], 2) is None and threshold([(0.1, "a")], 0) is None
