"""The survivor policy: readability, the policy's order, the default survivor."""
from __future__ import annotations

import pytest

from tests import factories as f
from transforms.dedup.survivor import Candidate, pick_survivor, readability, survivor_rank


@pytest.mark.parametrize("text,score", [
    ("", 0.0),
    ("Plain text, with $x^2$ and ∑.", 1.0),
    ("bad\x00\x01 text", 0.8),
    ("\ufffd" * 3 + "a", 0.25),
])
def test_readability(text, score):
    assert readability(text) == score


@pytest.mark.parametrize("policy,winner", [
    ((), "a"),
    (("correct",), "c"),
    (("readable",), "b"),
    (("shortest",), "d"),
    (("correct", "shortest"), "c"),
])
def test_survivor_policy(policy, winner):
    cands = [Candidate("a", False, 0.5, 10), Candidate("b", False, 1.0, 30),
             Candidate("c", True, 0.5, 20), Candidate("d", False, 0.5, 5)]
    assert min(cands, key=lambda c: survivor_rank(c, policy)).record_id == winner
    published = Candidate("z", False, 0.0, 99, published=True)
    assert min(cands + [published], key=lambda c: survivor_rank(c, policy)).record_id == "z"


def test_pick_survivor_default_is_smallest_id_and_policy_prefers_correct():
    wrong = f.verified(0, verdict="incorrect", completion="A")
    right = f.verified(1, completion="A ")
    first = min((wrong, right), key=lambda r: r.rollout_id)
    assert pick_survivor([right, wrong])[0] is first
    assert pick_survivor([wrong, right], ("correct",))[0] is right
