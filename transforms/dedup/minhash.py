"""MinHash signatures computed in bulk with numpy, equal to datasketch's ``MinHash``.

datasketch (2.x, scheme ``affine32``) hashes every shingle to 32 bits with its
``hashfunc``, pre-mixes that value with the MurmurHash3 32-bit finalizer, applies
``num_perm`` affine permutations ``a * h + b mod 2**32`` drawn from
``numpy.random.RandomState(seed)`` and keeps the minimum per permutation. Its
per-shingle Python loop (SHA-1 per shingle) is far too slow for a corpus, so:

* the permutations are taken from datasketch itself (same seed, same scheme);
* the shingles and their 32-bit hashes (``shingle_hash32``) come from
  :mod:`transforms.text.shingles`, which hashes every shingle of a whole batch of
  documents at once;
* the permutation step runs one permutation at a time over all the batch's shingles
  and ``np.minimum.reduceat`` takes the per-document minima.

``datasketch.MinHash(num_perm, seed, hashfunc=shingle_hash32)`` fed with
``shingles(text)`` gives exactly the same hash values (tests check this), so the
signatures round-trip through ``LeanMinHash`` and compare with datasketch's
Jaccard estimate. A text with no shingle has datasketch's empty signature.
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np

from transforms.text.shingles import Shingler, shingle_hash32, shingles

#: datasketch's permutation scheme the signatures use.
SCHEME = "affine32"
MAX_HASH = np.uint32(0xFFFFFFFF)

_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35))


def datasketch_minhash(text: str, num_perm: int = 128, seed: int = 1, shingle: str = "word", ngram: int = 5):
    """datasketch's own ``MinHash`` of ``text`` (slow; for checks and comparisons)."""
    from datasketch import MinHash

    minhash = MinHash(num_perm=num_perm, seed=seed, hashfunc=shingle_hash32, scheme=SCHEME)
    minhash.update_batch(shingles(text, shingle, ngram))
    return minhash


# -- signatures as bytes, LSH bands, Jaccard -------------------------------------


def to_bytes(signature: np.ndarray) -> bytes:
    """Portable (little-endian) bytes of a signature."""
    return np.asarray(signature, dtype="<u4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<u4").astype(np.uint32)


def to_lean_minhash(signature: np.ndarray, seed: int):
    """The signature as a datasketch ``LeanMinHash``."""
    from datasketch import LeanMinHash

    return LeanMinHash(seed=seed, hashvalues=np.asarray(signature, dtype=np.uint32), scheme=SCHEME)


def lsh_params(threshold: float, num_perm: int, false_positive_weight: float = 0.5,
               false_negative_weight: float = 0.5) -> Tuple[int, int]:
    """(bands, rows) from datasketch's own optimizer for the Jaccard threshold."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm,
                     weights=(false_positive_weight, false_negative_weight))
    return lsh.b, lsh.r


def band_keys(signature: np.ndarray, bands: int, rows: int) -> List[bytes]:
    """One key per band: the band's index and its hash values (equal keys = the band collides)."""
    data = to_bytes(signature)
    width = rows * 4
    return [band.to_bytes(2, "big") + data[band * width : (band + 1) * width] for band in range(bands)]


def is_empty(signature: np.ndarray) -> bool:
    """Whether the signature is that of an empty shingle set."""
    return bool(np.all(signature == MAX_HASH))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """datasketch's Jaccard estimate: the share of equal hash values."""
    return float(np.count_nonzero(a == b)) / float(len(a))


def jaccard_matrix(rows: np.ndarray, cols: np.ndarray, block: int = 64) -> np.ndarray:
    """Estimated Jaccard of every row signature against every column signature."""
    out = np.empty((len(rows), len(cols)), dtype=np.float64)
    for start in range(0, len(rows), block):
        part = rows[start : start + block]
        out[start : start + block] = (part[:, None, :] == cols[None, :, :]).mean(axis=2)
    return out


def true_jaccard(a: str, b: str, shingle: str = "word", ngram: int = 5) -> float:
    """Exact Jaccard of two texts' shingle sets (ground truth for tests and benchmarks)."""
    sa, sb = set(shingles(a, shingle, ngram)), set(shingles(b, shingle, ngram))
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)


# -- the vectorized path -----------------------------------------------------------

def _fmix32(values: np.ndarray) -> np.ndarray:
    s1, m1, s2, m2 = _FMIX32
    values = values ^ (values >> s1)
    values *= m1
    values ^= values >> s2
    values *= m2
    return values ^ (values >> s1)



class MinHasher(Shingler):
    """Signatures of many texts at once; equal to ``datasketch_minhash`` text by text."""

    def __init__(self, num_perm: int = 128, seed: int = 1, shingle: str = "word", ngram: int = 5):
        from datasketch import MinHash

        super().__init__(shingle, ngram)
        a, b = MinHash(num_perm=num_perm, seed=seed, scheme=SCHEME).permutations
        self.num_perm, self.seed = num_perm, seed
        self._a = np.asarray(a, dtype=np.uint32)
        self._b = np.asarray(b, dtype=np.uint32)

    def signature(self, text: str) -> np.ndarray:
        return self.signatures([text])[0]

    def signatures(self, texts: Sequence[str]) -> np.ndarray:
        """A (len(texts), num_perm) uint32 matrix of signatures.

        One permutation at a time over all the batch's shingles (contiguous, cache-sized
        vectors), the minima per text taken by ``np.minimum.reduceat``."""
        hashes, offsets = self.shingle_hashes(texts)
        out = np.full((self.num_perm, len(texts)), MAX_HASH, dtype=np.uint32)
        docs = np.flatnonzero(np.diff(offsets))
        if len(docs):
            mixed = _fmix32(hashes)
            starts = offsets[docs]
            work = np.empty_like(mixed)
            minima = np.empty(len(docs), dtype=np.uint32)
            for perm, (a, b) in enumerate(zip(self._a, self._b)):
                np.multiply(mixed, a, out=work)
                np.add(work, b, out=work)
                np.minimum.reduceat(work, starts, out=minima)
                out[perm, docs] = minima
        return np.ascontiguousarray(out.T)
