"""The generators' API contract: problem shape, per-index seeds, determinism, distinct
prompts, and the checks of names, counts and levels."""
import json
import random
import re

import pytest

from transforms.core import derive_seed
from transforms.ingest.generators import GENERATORS, generate_problems

NAMES = ["arithmetic", "linear_equation", "countdown", "unit_rate"]
ANSWER_FORMAT = re.compile(r"-?[0-9]+(/[0-9]+)?")


# -- the API contract ----------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_problem_shape_and_json_metadata(name):
    problems = generate_problems(name, 12, seed=5, difficulties=[1, 2, 3])
    assert [p["id"] for p in problems] == [f"{name}-{i}" for i in range(12)]
    assert [p["difficulty"] for p in problems] == ["1", "2", "3"] * 4
    for problem in problems:
        assert set(problem) == {"id", "prompt", "answer", "difficulty", "metadata"}
        assert problem["prompt"].strip() and ANSWER_FORMAT.fullmatch(problem["answer"])
        assert json.loads(json.dumps(problem["metadata"])) == problem["metadata"]


@pytest.mark.parametrize("name", NAMES)
def test_problem_i_is_drawn_from_its_own_derived_seed(name):
    first = generate_problems(name, 1, seed=11, difficulties=[2])[0]
    rng = random.Random(derive_seed(11, name, 0))
    assert GENERATORS[name](0, rng, 2) == first


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_problems_other_seed_others(name):
    first = generate_problems(name, 30, seed=1, difficulties=[1, 2, 3])
    assert generate_problems(name, 30, seed=1, difficulties=[1, 2, 3]) == first
    other = generate_problems(name, 30, seed=2, difficulties=[1, 2, 3])
    assert [p["prompt"] for p in other] != [p["prompt"] for p in first]


@pytest.mark.parametrize("name", NAMES)
def test_more_problems_keep_the_earlier_ones(name):
    short = generate_problems(name, 10, seed=3, difficulties=[1, 3])
    long = generate_problems(name, 20, seed=3, difficulties=[1, 3])
    assert long[:10] == short


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("levels", [[1], [1, 2, 3]])
def test_prompts_are_distinct(name, levels):
    problems = generate_problems(name, 500, seed=0, difficulties=levels)
    assert len({p["prompt"] for p in problems}) == 500


def test_collisions_are_redrawn_deterministically():
    # 3000 level-1 sums/differences collide often (~15k possible): all must be redrawn.
    problems = generate_problems("arithmetic", 3000, seed=9, difficulties=[1])
    assert len({p["prompt"] for p in problems}) == 3000
    assert generate_problems("arithmetic", 3000, seed=9, difficulties=[1]) == problems


def test_exhausted_generator_raises(monkeypatch):
    def constant(index, rng, difficulty):
        return {"id": f"arithmetic-{index}", "prompt": "What is 1 + 1?", "answer": "2",
                "difficulty": str(difficulty), "metadata": {}}

    monkeypatch.setitem(GENERATORS, "arithmetic", constant)
    assert len(generate_problems("arithmetic", 1, seed=0, difficulties=[1])) == 1
    with pytest.raises(ValueError, match="no new prompt"):
        generate_problems("arithmetic", 2, seed=0, difficulties=[1])


def test_unknown_generator_lists_valid_names():
    with pytest.raises(ValueError) as error:
        generate_problems("calculus", 3, seed=0, difficulties=[1])
    for name in NAMES:
        assert name in str(error.value)


@pytest.mark.parametrize("name, count, levels", [
    ("arithmetic", -1, [1]), ("arithmetic", 3, []), ("countdown", 3, [0]), ("arithmetic", 3, [-1]),
    ("arithmetic", 3, [1, 4]), ("arithmetic", 3, ["2"]),
])
def test_bad_count_or_difficulties_raise(name, count, levels):
    with pytest.raises(ValueError):
        generate_problems(name, count, seed=0, difficulties=levels)


def test_zero_count_gives_no_problems():
    assert generate_problems("countdown", 0, seed=0, difficulties=[1]) == []
