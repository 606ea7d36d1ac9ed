"""One problem's samples: majority vote, pass rates and the pass-rate band."""
import pytest

from tests.factories import make_rollout, make_verified
from transforms.verify.config import VerifyConfig
from transforms.verify.majority import assign_pass_rates, band_rejection, finish_problem, majority_vote


def _no_gold(answers, **config):
    config = VerifyConfig(majority_vote=True, **config)
    records = [make_verified(make_rollout(rollout_id=f"r{i}", sample_index=i, reference_answer=None),
                             extracted_answer=a) for i, a in enumerate(answers)]
    return majority_vote(records, config)


def test_majority_vote_gives_a_pseudo_label():
    out = _no_gold(["0.5", "\\frac{1}{2}", "3", None])
    assert [r.verdict for r in out] == ["correct", "correct", "incorrect", "no_answer"]
    assert {r.verifier for r in out} == {"majority-vote"}
    assert out[0].verdict_reason == "pseudo_label: 2/4 samples agree on '0.5'"


@pytest.mark.parametrize("answers,config", [
    (["1", "2", "3", "4"], {}),  # no answer reaches half
    (["1", "1", "2", "2"], {}),  # a tie
    (["1", "1"], {}),  # too few samples
    (["1", "1", "1", "2"], {"majority_min_share": 0.8}),
])
def test_no_majority_stays_unverifiable(answers, config):
    out = _no_gold(answers, **config)
    assert {r.verdict for r in out} == {"unverifiable"}
    assert out[0].verdict_reason.startswith("no_majority")


def test_majority_vote_needs_every_sample_without_reference_and_the_switch():
    records = [make_verified(make_rollout(rollout_id=f"r{i}", sample_index=i), extracted_answer="1")
               for i in range(3)]
    assert majority_vote(records, VerifyConfig()) is None  # off by default
    mixed = records[:2] + [make_verified(extracted_answer="1", verdict="correct", verdict_reason="numeric_equal")]
    assert majority_vote(mixed, VerifyConfig(majority_vote=True)) is None


def test_assign_pass_rates():
    verified = [
        make_verified(make_rollout(rollout_id=f"r{i}", sample_index=i), extracted_answer="1", verdict=v,
                      verifier="exact", verdict_reason="")
        for i, v in enumerate(["correct", "incorrect", "timeout", "correct"])
    ]
    rates = {r.rollout_id: r.pass_rate for r in assign_pass_rates(("p1", verified))}
    assert rates == {"r0": 0.5, "r1": 0.5, "r2": 0.5, "r3": 0.5}


@pytest.mark.parametrize("verdicts,band,expected", [
    (["correct"] * 4, (0.0, 0.99), "pass_rate_too_high"),
    (["incorrect"] * 4, (0.01, 1.0), "pass_rate_too_low"),
    (["correct", "incorrect"], (0.01, 0.99), None),
    (["unverifiable"] * 4, (0.01, 0.99), None),  # nothing decided: the rate says nothing
])
def test_pass_rate_band(verdicts, band, expected):
    config = VerifyConfig(min_pass_rate=band[0], max_pass_rate=band[1])
    records = [make_verified(verdict=v, verdict_reason="x") for v in verdicts]
    records, rejection = finish_problem(records, config)
    assert (rejection[0] if rejection else None) == expected
    assert band_rejection(records[0].pass_rate, records, config) == rejection
