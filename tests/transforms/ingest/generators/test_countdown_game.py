"""The ``countdown`` generator: every stored solution passes check_countdown."""
import pytest

from transforms.ingest.generators import generate_problems
from transforms.ingest.generators.countdown_game import _COUNTDOWN_LEVELS
from transforms.text.countdown import AT_MOST_ONCE, EXACTLY_ONCE, check_countdown


@pytest.mark.parametrize("level, sizes", [(1, {3}), (2, {4}), (3, {5, 6})])
def test_countdown_solutions_are_valid(level, sizes):
    seen_sizes = set()
    for problem in generate_problems("countdown", 300, seed=8, difficulties=[level]):
        meta = problem["metadata"]
        assert meta["verifier"] == "countdown"
        assert problem["answer"] == str(meta["target"])
        assert check_countdown(meta["solution"], meta["numbers"], meta["target"]) == (True, "ok")
        assert meta["target"] not in meta["numbers"]
        assert f"numbers {meta['numbers']}," in problem["prompt"]
        assert f"equals {meta['target']}." in problem["prompt"]
        seen_sizes.add(len(meta["numbers"]))
    assert seen_sizes == sizes


def test_countdown_levels_always_have_a_qualifying_target():
    # countdown() redraws until the target fits; the all-"+" fold must always fit.
    for sizes, largest, max_target, _ in _COUNTDOWN_LEVELS.values():
        assert max(sizes) * largest <= max_target


def test_countdown_follows_tinyzero_rule_by_default_and_at_most_once_on_request():
    """Every stored solution uses every number exactly once; the prompt and metadata say
    which rule the answer is held to; the at-most-once variant only changes the rule."""
    exact = generate_problems("countdown", 50, seed=3, difficulties=[1, 2, 3])
    loose = generate_problems("countdown", 50, seed=3, difficulties=[1, 2, 3], rule=AT_MOST_ONCE)
    for strict, relaxed in zip(exact, loose):
        meta = strict["metadata"]
        assert meta["rule"] == EXACTLY_ONCE and "each number exactly once" in strict["prompt"]
        assert check_countdown(meta["solution"], meta["numbers"], meta["target"], EXACTLY_ONCE) == (True, "ok")
        assert relaxed["metadata"]["rule"] == AT_MOST_ONCE and "each number at most once" in relaxed["prompt"]
        assert {k: v for k, v in relaxed["metadata"].items() if k != "rule"} == \
            {k: v for k, v in meta.items() if k != "rule"}
    with pytest.raises(ValueError, match="rule: countdown rules are exactly_once, at_most_once"):
        generate_problems("countdown", 1, seed=3, difficulties=[1], rule="twice")
    with pytest.raises(ValueError, match="rule: arithmetic has no rules"):
        generate_problems("arithmetic", 1, seed=3, difficulties=[1], rule=AT_MOST_ONCE)
