"""The ``sequence`` generator: the terms shown fix the rule of their level, and the gold
answer is the term that rule gives next."""
import pytest

from transforms.ingest.generators import generate_problems


def _differences(terms):
    return [b - a for a, b in zip(terms, terms[1:])]


def _next_by_level(level, terms):
    """The next term under the rule each level draws from, found from the shown terms."""
    steps = _differences(terms)
    if level in (0, 1):
        assert len(set(steps)) == 1
        return terms[-1] + steps[0]
    if level == 2:
        if len(set(steps)) == 2 and steps[0::2].count(steps[0]) == len(steps[0::2]):
            return terms[-1] + steps[-2]  # alternating steps
        factor = terms[1] // terms[0]
        assert all(b == a * factor for a, b in zip(terms, terms[1:]))
        return terms[-1] * factor
    second = _differences(steps)
    if len(set(second)) == 1:
        return terms[-1] + steps[-1] + second[0]
    assert all(c == a + b for a, b, c in zip(terms, terms[1:], terms[2:]))
    return terms[-1] + terms[-2]


@pytest.mark.parametrize("level, shown", [(0, 4), (1, 4), (2, 5), (3, 6)])
def test_gold_answers_follow_the_shown_terms(level, shown):
    problems = generate_problems("sequence", 40, seed=3, difficulties=[level])
    assert problems == generate_problems("sequence", 40, seed=3, difficulties=[level])
    for problem in problems:
        terms = problem["metadata"]["terms"]
        assert len(terms) == shown and all(t > 0 for t in terms)
        assert ", ".join(map(str, terms)) in problem["prompt"]
        assert problem["answer"] == str(_next_by_level(level, terms))


def test_level_0_counts_on_by_one_or_two_from_a_small_start():
    for problem in generate_problems("sequence", 40, seed=9, difficulties=[0]):
        terms = problem["metadata"]["terms"]
        assert 1 <= terms[0] <= 30 and set(_differences(terms)) <= {1, 2}
