"""The survivor policy: which member of a duplicate cluster is kept, and what the
rejections of the others say.

Published first, then ``survivor_policy`` in order — ``correct`` (verified correct; a
problem counts as correct when any of its rollouts is), ``readable`` (share of
ordinary characters, two decimals), ``shortest`` — then the smallest id. Rejections
name the cluster and the survivor in their detail:
``cluster=<id> survivor=<id> jaccard=<estimate> scope=<prompt|response>``.
"""
from __future__ import annotations

import re
import typing
from typing import List, Sequence, Tuple

from transforms.core import stable_hash
from transforms.dedup import minhash

#: Characters that make text unreadable: control characters (not tab/newline/return),
#: the replacement character, private use, zero-width and bidi controls.
_UNREADABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\ue000-\uf8ff"
                         "\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


class Node(typing.NamedTuple):
    """One prompt in the dedup graph."""

    key: str  # graph node: the problem id, or PUBLISHED_PREFIX + id for an index entry
    record_id: str  # the problem id
    source: str
    exact: str  # text_key of the prompt
    signature: bytes  # minhash.to_bytes
    rank: tuple  # survivor_rank: the smallest survives
    published: bool


class Decision(typing.NamedTuple):
    """Why a problem (or a rollout) is dropped."""

    reason: str
    detail: str


def readability(text: str) -> float:
    """Share of ordinary characters, to two decimals (an empty text scores 0)."""
    if not text:
        return 0.0
    return round(1.0 - len(_UNREADABLE.findall(text)) / len(text), 2)


class Candidate(typing.NamedTuple):
    """What the survivor policy looks at."""

    record_id: str
    correct: bool
    readability: float
    length: int
    published: bool = False


def candidate(record_id: str, text: str, correct: bool, published: bool = False) -> Candidate:
    return Candidate(record_id, correct, readability(text), len(text or ""), published)


def survivor_rank(cand: Candidate, policy: Sequence[str]) -> tuple:
    """Sort key: the smallest survives (published, then the policy, then the smallest id)."""
    keys = {"correct": not cand.correct, "readable": -cand.readability, "shortest": cand.length}
    return (not cand.published,) + tuple(keys[name] for name in policy) + (cand.record_id,)


def pick_survivor(records, policy: Sequence[str] = ()):
    """(survivor, duplicates) of rollouts: the best by ``policy`` (default: smallest rollout id)."""
    ordered = sorted(records, key=lambda r: survivor_rank(rollout_candidate(r), policy))
    return ordered[0], ordered[1:]


def rollout_candidate(record) -> Candidate:
    return candidate(record.rollout_id, record.completion, record.verdict == "correct")


def cluster_id(scope: str, root: str) -> str:
    return stable_hash("dedup-cluster", scope, root)


def duplicate_detail(cluster: str, survivor: str, jaccard: float, scope: str, published: bool = False) -> str:
    """The rejection detail of a duplicate: cluster, survivor, estimated Jaccard, scope."""
    detail = f"cluster={cluster} survivor={survivor} jaccard={jaccard:.3f} scope={scope}"
    return detail + " survivor_published=true" if published else detail


def cluster_decisions(nodes: Sequence[Node], scope: str) -> List[Tuple[Node, Decision]]:
    """(loser, Decision) for every unpublished node of one cluster but its survivor."""
    ordered = sorted(nodes, key=lambda n: n.rank)
    survivor = ordered[0]
    cluster = cluster_id(scope, min(n.key for n in nodes))
    survivor_sig = minhash.from_bytes(survivor.signature)
    out = []
    for node in ordered[1:]:
        if node.published:
            continue
        reason = "duplicate" if node.exact == survivor.exact else "near_duplicate"
        similarity = minhash.jaccard(minhash.from_bytes(node.signature), survivor_sig)
        detail = duplicate_detail(cluster, survivor.record_id, similarity, scope, survivor.published)
        out.append((node, Decision(reason, detail)))
    return out
