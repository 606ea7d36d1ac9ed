"""Statistics of every verified rollout: verifier agreement and pass rates, computed in
memory and aggregated in the pipeline (the same numbers)."""
import json

import apache_beam as beam
import pytest

from publish.verified import VerifiedStats, verified_stats, verifier_agreement


def _row(problem, answer, verdict, verifier="exact"):
    return {"problem_id": problem, "extracted_answer": answer, "verdict": verdict, "verifier": verifier,
            "pass_rate": 0.5}


def test_verifier_agreement_counts_groups_of_equal_answers():
    rows = [
        _row("p1", "5", "correct"), _row("p1", " 5 ", "correct"),  # agree (normalized)
        _row("p1", "6", "incorrect"),  # alone: not a group
        _row("p2", "\\frac{1}{2}", "correct", "math-verify"), _row("p2", "\\dfrac{1}{2}", "timeout", "math-verify"),
        _row("p3", None, "no_answer"), _row("p3", None, "no_answer"),  # no answer: not grouped
    ]
    agreement = verifier_agreement(rows)
    assert agreement["groups"] == 2 and agreement["agreeing"] == 1 and agreement["rate"] == 0.5
    assert agreement["disagreements"] == [{"problem_id": "p2", "answer": "\\frac{1}{2}",
                                           "verdicts": ["correct", "timeout"]}]
    assert agreement["verdicts"] == {"exact": {"correct": 2, "incorrect": 1, "no_answer": 2},
                                     "math-verify": {"correct": 1, "timeout": 1}}
    assert verifier_agreement([])["rate"] is None



def _rows():
    """Rows with agreeing and disagreeing groups, more than five disagreements, and a
    problem's rate repeated on each of its rollouts."""
    rows = [_row("p1", "5", "correct"), _row("p1", " 5 ", "correct"), _row("p1", "6", "incorrect"),
            _row("p3", None, "no_answer", None), _row("p3", None, "no_answer", None)]
    for i in range(8):
        rate = i / 8
        rows += [dict(_row(f"q{i}", "7", "correct", "math-verify"), pass_rate=rate),
                 dict(_row(f"q{i}", " 7 ", "timeout", "math-verify"), pass_rate=rate)]
    return rows


def test_verified_stats_per_problem_pass_rates():
    stats = verified_stats(_rows())
    assert sum(stats["pass_rates"]) == 10  # one rate per problem: p1, p3, q0 … q7
    assert stats["pass_rates"][5] == 2 + 1  # p1, p3 (0.5) and q4 (0.5)
    assert stats["verifier_agreement"]["groups"] == 9 and stats["verifier_agreement"]["agreeing"] == 1
    assert [d["problem_id"] for d in stats["verifier_agreement"]["disagreements"]] == \
        ["q0", "q1", "q2", "q3", "q4"]  # the first five, by key
    assert stats["verifier_agreement"]["verdicts"]["none"] == {"no_answer": 2}


@pytest.mark.parametrize("rows", [_rows(), [], [_row("p", None, "no_answer")]])
def test_the_pipeline_aggregate_equals_the_in_memory_one(rows, tmp_path):
    path = tmp_path / "stats.json"
    with beam.Pipeline() as p:
        _ = (p | beam.Create(rows, reshuffle=False) | VerifiedStats()
             | beam.Map(lambda stats: path.write_text(json.dumps(stats))))
    assert json.loads(path.read_text()) == json.loads(json.dumps(verified_stats(rows)))
