"""The rules of adaptive sampling (``sample.adaptive``): rounds, closing, budgets, config."""
from __future__ import annotations

import pytest

from pipelines.config import ConfigError, RunConfig, config_hash, load_config
from tests import factories
from transforms.sample import adaptive
from transforms.sample.adaptive import AdaptiveConfig, RoundState
from transforms.sample.config import SampleConfig

ON = AdaptiveConfig(enabled=True, first=4, step=4, k=3)


def test_rounds_continue_the_sample_indexes_up_to_n():
    assert adaptive.rounds(ON, 16) == 4
    assert adaptive.rounds(AdaptiveConfig(enabled=True, first=4, step=5), 16) == 4  # 4, 9, 14, 16
    assert adaptive.rounds(AdaptiveConfig(enabled=True, first=4, step=5), 4) == 1
    state = adaptive.start(ON, 10, (factories.problem(), []))
    assert state.indices == (0, 1, 2, 3)
    sizes = [adaptive.round_size(ON, 10, asked) for asked in (0, 4, 8, 10)]
    assert sizes == [4, 4, 2, 0]
    assert adaptive.next_indices(8, 2) == (8, 9)


@pytest.mark.parametrize("asked, correct, reason", [
    (4, 3, adaptive.ENOUGH), (4, 5, adaptive.ENOUGH), (16, 3, adaptive.ENOUGH), (16, 2, adaptive.MAX),
    (8, 2, None), (8, 0, None), (12, 0, None)])
def test_close_reason(asked, correct, reason):
    assert adaptive.close_reason(ON, 16, asked, correct) == reason


def test_give_up_closes_only_problems_without_a_correct_sample():
    config = AdaptiveConfig(enabled=True, first=4, step=4, k=3, give_up_after=8)
    assert adaptive.close_reason(config, 16, 4, 0) is None
    assert adaptive.close_reason(config, 16, 8, 0) == adaptive.GAVE_UP
    assert adaptive.close_reason(config, 16, 8, 1) is None


def _rollouts(problem, indices):
    return [factories.rollout(i, source_id=problem.source_id) for i in indices]


def test_after_round_closes_on_k_correct_or_asks_the_next_indexes():
    problem = factories.problem()
    state = adaptive.start(ON, 16, (problem, []))
    first = adaptive.after_round(ON, 16, state, _rollouts(problem, range(4)),
                                 ["correct", "incorrect", "no_answer", "correct"])
    assert (first.correct, first.closed, first.indices) == (2, None, (4, 5, 6, 7))
    second = adaptive.after_round(ON, 16, first, _rollouts(problem, range(4, 8)), ["incorrect", "correct"] * 2)
    assert (second.correct, second.closed, second.indices) == (4, adaptive.ENOUGH, ())
    assert [r.sample_index for r in second.rollouts] == list(range(8))


def test_after_round_stops_at_n():
    problem = factories.problem()
    state = RoundState(problem, [], tuple(_rollouts(problem, range(12))), 0, (12, 13, 14, 15))
    last = adaptive.after_round(ON, 16, state, _rollouts(problem, range(12, 16)), ["incorrect"] * 4)
    assert (len(last.rollouts), last.closed, last.indices) == (16, adaptive.MAX, ())


def test_grant_spends_a_bucket_budget_in_hash_order():
    wants = [(adaptive.rank(1, pid), pid, 4) for pid in ("a", "b", "c")]
    order = [pid for _, pid, _ in sorted(wants)]
    assert adaptive.grant(None, 0, wants) == {"a": 4, "b": 4, "c": 4}
    granted = adaptive.grant(10, 0, wants)
    assert [granted[p] for p in order] == [4, 4, 2]
    granted = adaptive.grant(10, 7, wants)  # 7 spent in earlier rounds
    assert [granted[p] for p in order] == [3, 0, 0]
    assert adaptive.grant(10, 12, wants) == {"a": 0, "b": 0, "c": 0}
    assert adaptive.grant(10, 0, list(reversed(wants))) == adaptive.grant(10, 0, wants)  # order-free


def test_apply_grant_trims_or_closes_for_budget():
    state = RoundState(factories.problem(), [], indices=(4, 5, 6, 7))
    assert adaptive.apply_grant(state, 4) == state
    assert adaptive.apply_grant(state, 2).indices == (4, 5)
    closed = adaptive.apply_grant(state, 0)
    assert (closed.indices, closed.closed) == ((), adaptive.BUDGET)


def test_bucket_is_the_source_or_the_domain():
    problem = factories.problem(source="gsm8k", domain="math")
    assert adaptive.bucket_of(ON, problem) == "gsm8k"
    assert adaptive.bucket_of(AdaptiveConfig(bucket="domain"), problem) == "math"


def test_config_loads_checked_and_keeps_the_hash_when_off(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("sample:\n  n: 16\n  adaptive:\n    enabled: true\n    first: 4\n    k: 2\n"
                    "    budget: {gsm8k: 100}\n")
    config = load_config(str(path))
    assert config.sample.adaptive.enabled and config.sample.adaptive.caps == {"gsm8k": 100}
    assert config_hash(RunConfig()) == config_hash(RunConfig(sample=SampleConfig(adaptive=AdaptiveConfig())))
    assert config_hash(config) != config_hash(load_config(None, {"sample": {"n": 16}}))
    path.write_text("sample:\n  adaptive:\n    enabled: true\n    frist: 4\n")
    with pytest.raises(ConfigError, match=r"c.yaml:4: unknown key 'sample.adaptive.frist' \(did you mean"):
        load_config(str(path))
    path.write_text("sample:\n  n: 4\n  adaptive:\n    enabled: true\n    first: 8\n")
    with pytest.raises(ConfigError, match=r"first \(8\) must be <= n \(4\)"):
        load_config(str(path))
    for bad, match in (("k: 0", "k: must be >= 1"), ("bucket: kind", "bucket: must be one of"),
                       ("budget: {a: -1}", "budget: a: must be >= 0")):
        path.write_text(f"sample:\n  adaptive:\n    {bad}\n")
        with pytest.raises(ConfigError, match=match):
            load_config(str(path))


def test_the_manifest_entry_counts_why_problems_stopped():
    from pipelines.sample import adaptive_summary

    counters = {"sample.adaptive_closed_enough": 6, "sample.adaptive_closed_max": 2, "sample.adaptive_correct": 14}
    assert adaptive_summary(counters, 8, 40) == {
        "closed": {"enough": 6, "max": 2, "gave_up": 0, "budget": 0}, "correct": 14, "rollouts_per_problem": 5.0}
