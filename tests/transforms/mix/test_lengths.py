"""Shorter thinking at equal correctness (#15): the per-prompt selection policies as rule
tables, deterministic ties, and the reasons recorded for the examples not chosen."""
import pytest

from tests.factories import verified
from transforms.core import Drop
from transforms.mix.config import MixConfig
from transforms.mix.examples import to_example
from transforms.mix.lengths import SelectionConfig, order_per_prompt, select_per_prompt, tokens_saved
from transforms.mix.select import cap_per_prompt, selection_key

#: (name, thinking, verdict): thinking of 40, 4, 20 and 4 estimated tokens
TRACES = {
    "long": ("x" * 160, "correct"),
    "short": ("y" * 16, "correct"),
    "mid": ("z" * 80, "correct"),
    "short2": ("w" * 16, "correct"),
}


def _items(traces=TRACES):
    out = []
    for i, (name, (thinking, verdict)) in enumerate(traces.items()):
        ex = to_example(verified(i, source_id="p", completion=name, reasoning=thinking, verdict=verdict))
        out.append(("reasoning/direct/*", ex._replace(example_id=name)))
    return out


def _names(pairs):
    return [e.example_id for _, e in pairs]


def test_hash_policy_is_the_old_cap_order():
    items = _items()
    assert _names(order_per_prompt(items, SelectionConfig(), 3, 2)) == _names(
        sorted(items, key=lambda be: selection_key(3, be[1])))


@pytest.mark.parametrize("policy, lam, first_two", [
    ("shortest", 0.1, {"short", "short2"}),
    ("length_penalised", 0.1, {"short", "short2"}),  # all correct: the shortest
    ("length_penalised", 0.0, None),  # no penalty: the hash order
])
def test_length_policies(policy, lam, first_two):
    items = _items()
    ordered = _names(order_per_prompt(items, SelectionConfig(policy=policy, lambda_per_1k_tokens=lam), 3, 2))
    if first_two is None:
        assert ordered == _names(order_per_prompt(items, SelectionConfig(), 3, 2))
    else:
        assert set(ordered[:2]) == first_two
        assert ordered[2:] == ["mid", "long"]


def test_equal_lengths_tie_by_the_hash_key_so_the_seed_decides():
    items = _items()
    firsts = {_names(order_per_prompt(items, SelectionConfig(policy="shortest"), seed, 1))[0] for seed in range(20)}
    assert firsts == {"short", "short2"}


def test_length_penalty_trades_correctness_for_length():
    traces = {"wrong_short": ("a" * 16, "incorrect"), "right_long": ("b" * 4000, "correct")}  # 1000 tokens
    order = lambda lam: _names(order_per_prompt(_items(traces), SelectionConfig(  # noqa: E731
        policy="length_penalised", lambda_per_1k_tokens=lam), 1, 1))
    assert order(0.5)[0] == "right_long"  # 1 - 0.5 > 0 - 0.002
    assert order(2.0)[0] == "wrong_short"  # 1 - 2 < 0 - 0.008


def test_diverse_picks_the_farthest_trace_next():
    traces = {"a": ("the sum of two and three is five so five", "correct"),
              "a_again": ("the sum of two and three is five so five indeed", "correct"),
              "b": ("count up from three two more steps reaching five", "correct")}
    for seed in range(6):
        ordered = _names(order_per_prompt(_items(traces), SelectionConfig(policy="diverse", ngram=2), seed, 2))
        assert set(ordered[:2]) in ({"a", "b"}, {"a_again", "b"})


def test_drops_name_the_policy_and_hash_keeps_the_old_reason():
    items = _items()
    old = list(cap_per_prompt((("p", "direct"), items), cap=1, seed=3))
    assert [(d.reason, d.step) for d in old if isinstance(d, Drop)] == [("per_prompt_cap", None)] * 3
    new = list(select_per_prompt((("p", "direct"), items), 1, 3, SelectionConfig(policy="shortest")))
    kept = [x for x in new if not isinstance(x, Drop)]
    drops = [x for x in new if isinstance(x, Drop)]
    assert _names(kept)[0] in {"short", "short2"}
    assert {(d.step, d.reason) for d in drops} == {("select_per_prompt", "shortest")}
    assert [d.record.example_id for d in drops][-2:] == ["mid", "long"]
    assert "rank 4 by shortest (40 thinking tokens)" in drops[-1].detail


def test_tokens_saved_against_a_random_pick():
    examples = [e for _, e in _items()]  # 40 + 4 + 20 + 4 = 68 tokens, mean 17
    assert tokens_saved([examples[1]], examples) == 13
    assert tokens_saved([examples[0]], examples) == -23
    assert tokens_saved([], []) == 0


@pytest.mark.parametrize("kwargs, match", [
    ({"selection": SelectionConfig(policy="shortest")}, "set per_prompt_cap"),
])
def test_a_policy_needs_a_cap(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MixConfig(**kwargs)


@pytest.mark.parametrize("kwargs, match", [
    ({"policy": "longest"}, "policy: must be one of"),
    ({"lambda_per_1k_tokens": -1}, "lambda_per_1k_tokens"),
    ({"ngram": 0}, "ngram"),
])
def test_selection_config_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SelectionConfig(**kwargs)
