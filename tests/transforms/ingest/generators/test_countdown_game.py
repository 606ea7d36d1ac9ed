"""The ``countdown`` generator: every stored solution passes check_countdown."""
import pytest

from transforms.ingest.generators import generate_problems
from transforms.ingest.generators.countdown_game import _COUNTDOWN_LEVELS
from transforms.text.countdown import check_countdown


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
