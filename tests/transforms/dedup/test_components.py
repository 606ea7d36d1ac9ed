"""Connected components: union-find, and ConnectedComponents in Beam."""
from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms.dedup.components import ConnectedComponents, union_find_roots


@pytest.mark.parametrize("pairs,expected", [
    ([], {}),
    ([("b", "a")], {"a": "a", "b": "a"}),
    ([("c", "d"), ("a", "b"), ("b", "d"), ("x", "y")], {"a": "a", "b": "a", "c": "a", "d": "a", "x": "x", "y": "x"}),
])
def test_union_find_roots(pairs, expected):
    assert union_find_roots(pairs) == expected


def test_connected_components_exact_for_any_number_of_rounds():
    chain = [(f"n{i:02d}", f"n{i + 1:02d}") for i in range(30)][::-1]  # diameter 30: needs the finish
    star = [("s0", f"s{i}") for i in range(1, 5)] + [("t1", "s3")]
    edges = chain + star + [("x", "y")]
    expected = [(f"n{i:02d}", "n00") for i in range(31)] + [(n, "s0") for n in ("s0", "s1", "s2", "s3", "s4", "t1")]
    expected += [("x", "x"), ("y", "x")]
    with TestPipeline() as p:
        pcoll = p | beam.Create(edges)
        for rounds in (0, 2):
            labels = pcoll | f"CC{rounds}" >> ConnectedComponents(rounds)
            assert_that(labels, equal_to(expected), label=f"Check{rounds}")
