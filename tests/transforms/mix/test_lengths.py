"""Shorter thinking at equal correctness (#15): the per-prompt selection policies as rule
tables, deterministic ties, and the reasons recorded for the examples not chosen."""
import pytest

from tests.factories import verified
from transforms.core import Drop
from transforms.mix.config import MixConfig
from transforms.mix.examples import to_example
from transforms.mix.lengths import (
    LengthCap,
    NoCotConfig,
    SelectionConfig,
    apply_no_cot,
    cap_for,
    cap_length,
    is_no_cot,
    no_cot_candidate,
    no_cot_pick,
    order_per_prompt,
    select_per_prompt,
    tokens_saved,
)
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


# -- no chain of thought -------------------------------------------------------------------------


def _pair(source_id="p", i=0, thinking="2 + 3 = 5.", pass_rate=1.0, **kw):
    ex = to_example(verified(i, source_id=source_id, completion=f"{source_id}{i}", reasoning=thinking,
                             answer="The answer is \\boxed{5}.", pass_rate=pass_rate, **kw))
    return "reasoning/direct/*", ex


@pytest.mark.parametrize("overrides, eligible", [
    ({}, True),
    ({"pass_rate": 0.75}, False),  # not always solved
    ({"thinking": "x" * 400}, False),  # 100 tokens > 50
    ({"thinking": ""}, False),  # no thinking to leave out
    ({"verdict": "incorrect"}, False),
    ({"kind": "knowledge"}, None),  # not a reasoning example: no candidate
])
def test_no_cot_candidates(overrides, eligible):
    out = list(no_cot_candidate(_pair(**overrides), NoCotConfig(enabled=True, max_thinking_tokens=50), 1))
    if eligible is None:
        assert out == []
    else:
        assert [(pid, ok) for pid, (ok, _, _) in out] == [(_pair(**overrides)[1].problem_id, eligible)]


def test_a_problem_gets_one_no_cot_example_only_when_every_candidate_is_eligible():
    config = NoCotConfig(enabled=True, max_thinking_tokens=50)
    pairs = [_pair(i=i) for i in range(3)]
    candidates = [c for p in pairs for _, c in no_cot_candidate(p, config, 1)]
    picks = list(no_cot_pick(("p", candidates), 1))
    assert len(picks) == 1 and picks[0][1] == min(pairs, key=lambda p: selection_key(1, p[1]))[1].example_id
    long = [c for _, c in no_cot_candidate(_pair(i=9, thinking="x" * 400), config, 1)]
    assert list(no_cot_pick(("p", candidates + long), 1)) == []


def test_without_thinking_keeps_the_answer_and_the_length_as_sampled():
    _, ex = _pair()
    bucket, out = apply_no_cot(("b", ex), {ex.example_id: True})
    assert out.messages[-1].content == "<think>\n\n</think>\n\nThe answer is \\boxed{5}."
    assert out.messages[0] == ex.messages[0] and out.reasoning == "" and out.example_id == ex.example_id
    assert (out.reasoning_tokens_before, out.reasoning_tokens_after) == (ex.reasoning_tokens_before, 0)
    assert is_no_cot(out) and not is_no_cot(ex)
    assert apply_no_cot(("b", ex), {}) == ("b", ex)


@pytest.mark.parametrize("share, target, limit", [(0.1, 100, 10), (0.1, 9, 0), (0.5, 3, 1), (1.0, 7, 7)])
def test_no_cot_limit_is_a_share_of_the_reasoning_target(share, target, limit):
    assert NoCotConfig(enabled=True, max_share=share).limit(target) == limit
    assert NoCotConfig(max_share=share).limit(target) == 0  # off


def test_no_cot_in_the_mix_is_deterministic_and_capped_by_its_share(tmp_path):
    from tests.transforms.mix.test_transform import _run_examples

    easy = [verified(i, source_id=f"easy{p}", completion=f"e{p}{i}", reasoning="2 + 3 = 5.",
                     answer="The answer is \\boxed{5}.") for p in range(6) for i in range(2)]
    hard = [verified(i, source_id="hard", completion=f"h{i}", reasoning="x" * 2000, pass_rate=0.5) for i in range(2)]
    config = MixConfig(reasoning=20, knowledge=0, no_cot=NoCotConfig(enabled=True, max_thinking_tokens=50,
                                                                     max_share=0.2))
    runs = [_run_examples(pool, config, tmp_path / str(n)) for n, pool in enumerate((easy + hard, hard + easy[::-1]))]
    assert runs[0] == runs[1]
    no_cot = [e for e in runs[0] if is_no_cot(e)]
    assert len(runs[0]) == 14 and len(no_cot) == 4  # 20% of 20, one per problem
    assert len({e.problem_id for e in no_cot}) == 4 and all(e.source_id.startswith("easy") for e in no_cot)


def test_no_cot_config_errors():
    with pytest.raises(ValueError, match="max_share"):
        NoCotConfig(max_share=1.5)
    with pytest.raises(ValueError, match="max_thinking_tokens"):
        NoCotConfig(max_thinking_tokens=-1)


# -- length caps by difficulty -------------------------------------------------------------------

CAPS = (LengthCap(min_pass_rate=0.8, max_reasoning_tokens=20), LengthCap(min_pass_rate=0.3, max_reasoning_tokens=50))


@pytest.mark.parametrize("pass_rate, tokens, kept, cap", [
    (1.0, 20, True, 20),
    (1.0, 21, False, 20),
    (0.8, 21, False, 20),  # the bound belongs to the higher band
    (0.79, 21, True, 50),
    (0.3, 51, False, 50),
    (0.25, 5000, True, None),  # below every band: no cap
])
def test_length_caps_by_pass_rate(pass_rate, tokens, kept, cap):
    pair = _pair(thinking="x" * (4 * tokens), pass_rate=pass_rate)
    assert pair[1].reasoning_tokens_after == tokens
    chosen = cap_for(pass_rate, CAPS)
    assert (chosen.max_reasoning_tokens if chosen else None) == cap
    out = cap_length(pair, CAPS)
    if kept:
        assert out == pair
    else:
        assert (out.reason, out.record) == ("over_length_cap", pair[1])
        assert out.detail.startswith(f"{tokens} thinking tokens > {cap} for pass rate")


def test_length_caps_leave_journeys_and_knowledge_alone():
    _, ex = _pair(thinking="x" * 4000, pass_rate=1.0)
    for other in (ex._replace(journey="splice:step"), ex._replace(kind="knowledge")):
        assert cap_length(("b", other), CAPS) == ("b", other)


def test_length_caps_config():
    config = MixConfig(length_caps=(CAPS[0], CAPS[1]))
    assert [c.min_pass_rate for c in config.length_caps] == [0.3, 0.8]  # sorted
    with pytest.raises(ValueError, match="must differ"):
        MixConfig(length_caps=(CAPS[0], CAPS[0]))
    with pytest.raises(ValueError, match="max_reasoning_tokens"):
        LengthCap(min_pass_rate=0.5)
    with pytest.raises(ValueError, match="min_pass_rate"):
        LengthCap(min_pass_rate=1.5, max_reasoning_tokens=10)
