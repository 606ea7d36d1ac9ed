"""LSH buckets: candidate pairs confirmed by Jaccard, each pair once, the bucket limit."""
from __future__ import annotations

import numpy as np

from transforms.dedup import minhash
from transforms.dedup.lsh import bucket_edges


def _sig(values):
    return minhash.to_bytes(np.array(values, dtype=np.uint32))


def test_bucket_edges_confirm_by_jaccard_and_report_each_pair_once():
    base = list(range(10))
    near = base[:9] + [50]  # Jaccard 0.9
    far = base[:2] + list(range(100, 108))  # Jaccard 0.2
    members = [("b", _sig(near)), ("a", _sig(base)), ("c", _sig(far)), ("a", _sig(base))]
    assert bucket_edges(members, band=1, rows=2, threshold=0.8, limit=10) == []  # collide in band 0 already
    assert bucket_edges(members, band=0, rows=2, threshold=0.8, limit=10) == [("a", "b")]
    assert bucket_edges(members, band=0, rows=2, threshold=0.95, limit=10) == []


def test_bucket_limit_compares_everyone_with_the_first_members():
    sigs = [("k%02d" % i, _sig([1] * 9 + [i])) for i in range(6)]  # all pairs Jaccard 0.9
    edges = bucket_edges(sigs, band=0, rows=1, threshold=0.8, limit=2)
    assert sorted(edges) == sorted([("k00", "k01")] + [(a, f"k{i:02d}") for i in range(2, 6) for a in ("k00", "k01")])
