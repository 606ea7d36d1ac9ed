"""LSH banding of prompt signatures and the confirmation of candidate pairs.

Every signature emits one ``(band, band values)`` key per band; a bucket's members are
candidates, and a candidate pair becomes an edge when its estimated Jaccard reaches
the threshold (equal signatures, e.g. the same normalized prompt, join directly).
Prompts with no word token are never near-duplicates."""
from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import apache_beam as beam
import numpy as np

from transforms.dedup import minhash
from transforms.dedup.survivor import Node


def band_items(node: Node, bands: int, rows: int):
    """``(band key, (graph key, signature))`` for every band of a node (none when its
    signature is empty: a prompt with no word token)."""
    signature = minhash.from_bytes(node.signature)
    if minhash.is_empty(signature):
        return
    for key in minhash.band_keys(signature, bands, rows):
        yield key, (node.key, node.signature)


def bucket_edges(members: Sequence[Tuple[str, bytes]], band: int, rows: int, threshold: float,
                 limit: int) -> List[Tuple[str, str]]:
    """Confirmed edges among one LSH bucket's (key, signature) members, each pair once.

    Members with the same signature are joined to the smallest of them (in band 0 only:
    equal signatures collide in every band). The distinct signatures are compared with
    the first ``limit`` of them (all of them in a bucket up to that size): a pair is an
    edge when its estimated Jaccard reaches ``threshold`` and it does not collide in an
    earlier band (that band's bucket reports it)."""
    same: Dict[bytes, List[str]] = {}
    for key, sig in sorted(set(members)):
        same.setdefault(sig, []).append(key)
    edges = [(keys[0], other) for keys in same.values() for other in keys[1:]] if band == 0 else []
    distinct = sorted((keys[0], sig) for sig, keys in same.items())
    if len(distinct) < 2:
        return edges
    keys = [key for key, _ in distinct]
    sigs = np.stack([minhash.from_bytes(sig) for _, sig in distinct])
    anchors = sigs[:limit]
    similar = minhash.jaccard_matrix(sigs, anchors) >= threshold
    rows_i, cols_j = np.nonzero(similar & (np.arange(len(sigs))[:, None] > np.arange(len(anchors))[None, :]))
    if band and len(rows_i):
        width = band * rows
        earlier = (sigs[rows_i, :width] == anchors[cols_j, :width]).reshape(len(rows_i), band, rows)
        fresh = ~earlier.all(axis=2).any(axis=1)
        rows_i, cols_j = rows_i[fresh], cols_j[fresh]
    return edges + [(keys[j], keys[i]) for i, j in zip(rows_i.tolist(), cols_j.tolist())]


class BucketEdges(beam.DoFn):
    def __init__(self, rows: int, threshold: float, limit: int):
        self.rows, self.threshold, self.limit = rows, threshold, limit

    def process(self, element):
        key, members = element
        band = int.from_bytes(key[:2], "big")
        yield from bucket_edges(list(members), band, self.rows, self.threshold, self.limit)
