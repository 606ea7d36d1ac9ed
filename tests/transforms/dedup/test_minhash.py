"""MinHash signatures: equal to datasketch, round-trip through LeanMinHash, as accurate
as datasketch's own; LSH parameters and band keys."""
from __future__ import annotations

import random

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHashLSH

from tests.transforms.text.samples import read_field
from tests.transforms.text.samples import real_texts as sample_texts
from transforms.dedup import minhash
from transforms.dedup.config import DedupConfig
from transforms.text.shingles import shingles


@pytest.fixture(scope="module")
def real_texts():
    return sample_texts()


@pytest.mark.parametrize("shingle,ngram", [("word", 5), ("word", 1), ("word", 13), ("char", 5), ("char", 1)])
def test_signatures_equal_datasketch(real_texts, shingle, ngram):
    hasher = minhash.MinHasher(num_perm=64, seed=3, shingle=shingle, ngram=ngram)
    ours = hasher.signatures(real_texts)
    for text, signature in zip(real_texts, ours):
        reference = minhash.datasketch_minhash(text, 64, 3, shingle, ngram)
        assert np.array_equal(reference.hashvalues, signature), (shingle, ngram, text[:40])


def test_signature_round_trips_through_lean_minhash(real_texts):
    hasher = minhash.MinHasher(num_perm=128, seed=1)
    a, b = hasher.signatures([real_texts[10], real_texts[10] + " and one more sentence here."])
    assert np.array_equal(hasher.signature(real_texts[10]), a)
    lean = minhash.to_lean_minhash(a, seed=1)
    buf = bytearray(lean.bytesize())
    lean.serialize(buf)
    restored = LeanMinHash.deserialize(buf)
    assert np.array_equal(restored.hashvalues, a)
    reference = minhash.datasketch_minhash(real_texts[10] + " and one more sentence here.")
    assert restored.jaccard(reference) == pytest.approx(minhash.jaccard(a, b))
    assert minhash.from_bytes(minhash.to_bytes(b)).tolist() == b.tolist()


def test_estimates_are_as_accurate_as_datasketch():
    """Mean absolute Jaccard error over near-duplicate pairs of real solutions ≤ 0.03, and
    no worse than datasketch's own MinHash (SHA-1 shingle hash) on the same pairs."""
    from datasketch import MinHash

    rng = random.Random(5)
    pairs = []
    for text in read_field("math500/test.jsonl", "solution", 120):
        words = text.split()
        for i in rng.sample(range(len(words)), max(1, len(words) // 60)):
            words[i] = "edited"
        pairs.append((text, " ".join(words)))
    truth = np.array([minhash.true_jaccard(a, b) for a, b in pairs])
    sigs = minhash.MinHasher(num_perm=128, seed=1).signatures([t for pair in pairs for t in pair])
    ours = np.array([minhash.jaccard(sigs[2 * i], sigs[2 * i + 1]) for i in range(len(pairs))])

    def sha1_minhash(text):
        m = MinHash(num_perm=128, seed=1)
        m.update_batch([s.encode("utf-8") for s in shingles(text)])
        return m

    theirs = np.array([sha1_minhash(a).jaccard(sha1_minhash(b)) for a, b in pairs])
    near = truth >= 0.75
    assert near.sum() > 80
    ours_error, theirs_error = np.abs(ours - truth)[near].mean(), np.abs(theirs - truth)[near].mean()
    assert ours_error <= 0.03
    assert ours_error <= theirs_error + 0.005


def test_lsh_params_come_from_datasketch():
    lsh = MinHashLSH(threshold=0.8, num_perm=128, weights=(0.1, 0.9))
    assert DedupConfig().lsh_params() == (lsh.b, lsh.r)
    assert minhash.lsh_params(0.5, 64) == (MinHashLSH(0.5, 64).b, MinHashLSH(0.5, 64).r)


def test_band_keys_collide_exactly_when_the_band_is_equal():
    a = np.arange(12, dtype=np.uint32)
    b = a.copy()
    b[5] = 99  # band 1 of 3 bands × 4 rows differs
    keys_a, keys_b = minhash.band_keys(a, 3, 4), minhash.band_keys(b, 3, 4)
    assert [x == y for x, y in zip(keys_a, keys_b)] == [True, False, True]
    assert len(set(keys_a)) == 3  # the band index keeps bands apart
