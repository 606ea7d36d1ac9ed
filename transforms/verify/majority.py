"""One problem's samples together: the majority vote (a pseudo-label for problems
without a reference), the pass rate, and the pass-rate band.

Plain functions over a problem's VerifiedRollouts; the ``verify`` command
(:mod:`publish.verify_file`) uses :func:`vote` and :func:`voted_verdict` too."""
from __future__ import annotations

import collections
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple

from transforms.verify.config import VerifyConfig
from transforms.verify.dispatch import is_code, verify_method_of
from transforms.verify.matching.keys import answer_key

MAJORITY_VERSION = "majority-vote==1"


def majority_applies(records: Sequence, config: VerifyConfig) -> bool:
    """Every record is a non-code answer without a reference, and the vote is on: for
    a problem whose source says ``verify: majority``, or for all (``majority_vote``)."""
    if not records or not all(r.verdict_reason == "no_reference_answer" and not is_code(r) for r in records):
        return False
    return config.majority_vote or all(verify_method_of(r) == "majority" for r in records)


def vote(counts: collections.Counter, n: int, config: VerifyConfig) -> Tuple[Optional[str], str]:
    """(the winning answer key or None, reason) of a vote over ``n`` samples whose
    answer keys were counted in ``counts`` (samples without an answer count in ``n``).

    The most common answer wins when it is the only most common one, there are at
    least ``majority_min_samples`` samples and its share reaches ``majority_min_share``."""
    ranked = counts.most_common(2)
    top = ranked[0][1] if ranked else 0
    if n < config.majority_min_samples:
        return None, f"no_majority: {n} samples < {config.majority_min_samples}"
    if not ranked or (len(ranked) == 2 and ranked[1][1] == top) or top / n < config.majority_min_share:
        return None, f"no_majority: top answer {top}/{n} below {config.majority_min_share:g} or tied"
    return ranked[0][0], f"pseudo_label: {top}/{n} samples agree"


def voted_verdict(key: Optional[str], label: Optional[str]) -> str:
    """A sample's verdict against the vote's winning key (``unverifiable`` without one)."""
    if label is None:
        return "unverifiable"
    if key is None:
        return "no_answer"
    return "correct" if key == label else "incorrect"


def majority_vote(records: Sequence, config: VerifyConfig) -> Optional[List]:
    """The records of a problem without a reference relabelled against the majority
    answer (verifier ``majority-vote``, the pseudo-label and the agreement in the
    reason), or None when the vote doesn't apply (see :func:`majority_applies`).
    Answers are compared by :func:`answer_key`."""
    if not majority_applies(records, config):
        return None
    keys = [answer_key(r.extracted_answer) if r.extracted_answer else None for r in records]
    label, reason = vote(collections.Counter(k for k in keys if k is not None), len(records), config)
    if label is not None:
        shown = next(r.extracted_answer for r, k in zip(records, keys) if k == label)
        reason = f"{reason} on {shown!r}"
    return [r._replace(verdict=voted_verdict(k, label), verifier="majority-vote",
                       verifier_version=MAJORITY_VERSION, verdict_reason=reason)
            for r, k in zip(records, keys)]


def pass_rate(records: Sequence) -> float:
    """The share of ``correct`` verdicts (0 for no records)."""
    return sum(r.verdict == "correct" for r in records) / len(records) if records else 0.0


def band_rejection(rate: float, records: Sequence, config: VerifyConfig) -> Optional[Tuple[str, str]]:
    """(reason, detail) when a problem's pass rate is outside the band, else None.

    Problems without a single decided verdict (all unverifiable, unavailable …) are
    never rejected for their rate: it says nothing about them."""
    if not any(r.verdict in ("correct", "incorrect", "no_answer") for r in records):
        return None
    band = f"[{config.min_pass_rate:g}, {config.max_pass_rate:g}]"
    if rate > config.max_pass_rate:
        return "pass_rate_too_high", f"pass rate {rate:.3f} above the band {band}"
    if rate < config.min_pass_rate:
        return "pass_rate_too_low", f"pass rate {rate:.3f} below the band {band}"
    return None


def finish_problem(records: Iterable, config: VerifyConfig = VerifyConfig()) -> Tuple[List, Optional[Tuple]]:
    """(records with majority vote and ``pass_rate`` applied, sorted by sample index;
    the band rejection (reason, detail) of the whole problem, or None)."""
    records = sorted(records, key=lambda r: (r.sample_index if r.sample_index is not None else 0,
                                             r.rollout_id or ""))
    records = majority_vote(records, config) or records
    rate = pass_rate(records)
    records = [r._replace(pass_rate=rate) for r in records]
    return records, band_rejection(rate, records, config)


def assign_pass_rates(group: Tuple[str, Iterable]) -> Iterator:
    """Set ``pass_rate`` = correct / n on every VerifiedRollout of one problem."""
    _, rollouts = group
    yield from finish_problem(rollouts)[0]
