"""The ``knights_knaves`` generator: deterministic from the seed, every puzzle has exactly
one solution (brute force), and its gold answer passes the checker."""
import pytest

from transforms.ingest.generators import generate_problems
from transforms.text.knights import check_knights, solutions


@pytest.mark.parametrize("level, sizes", [(1, {2}), (2, {3}), (3, {4, 5})])
def test_puzzles_are_unique_and_their_gold_answers_check(level, sizes):
    problems = generate_problems("knights_knaves", 60, seed=5, difficulties=[level])
    assert problems == generate_problems("knights_knaves", 60, seed=5, difficulties=[level])
    seen = set()
    for problem in problems:
        meta = problem["metadata"]
        assert meta["verifier"] == "knights_knaves"
        people, statements = meta["people"], meta["statements"]
        assert [tuple(s == "knight" for s in meta["solution"])] == solutions(statements)
        assert check_knights(problem["answer"], people, statements)[1:] == (True, "ok")
        assert all(f"{name} says:" in problem["prompt"] for name in people)
        seen.add(len(people))
    assert seen == sizes
    assert generate_problems("knights_knaves", 5, seed=6, difficulties=[level]) != problems[:5]
