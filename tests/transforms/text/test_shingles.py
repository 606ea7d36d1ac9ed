"""Word tokens and shingles, and their vectorized hashes: equal to the plain-Python
reference, tricky characters included."""
from __future__ import annotations

import random

import pytest

from tests.transforms.text import samples
from transforms.text import shingles as sh


@pytest.fixture(scope="module")
def real_texts():
    return samples.real_texts()


def test_vectorized_shingle_hashes_equal_the_reference(real_texts):
    hasher = sh.Shingler("word", 5)
    hashes, offsets = hasher.shingle_hashes(real_texts)
    for i, text in enumerate(real_texts):
        expected = [sh.shingle_hash32(s) for s in sh.shingles(text, "word", 5)]
        assert hashes[offsets[i] : offsets[i + 1]].tolist() == expected


@pytest.mark.parametrize("shingle,ngram", [("word", 2), ("word", 3), ("char", 2)])
def test_tricky_characters_hash_like_the_reference(shingle, ngram):
    """Random strings over characters whose lower case is context-dependent (Σ), longer
    (İ), astral or compatibility-mapped: each text alone and all in one batch."""
    rng = random.Random(1)
    alphabet = "aAbBÉéΣσςİiI ,.-_'’–×ǅǄΐẞß𝒳ﬁＡ\n\t"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(200)]
    hasher = sh.Shingler(shingle, ngram)
    hashes, offsets = hasher.shingle_hashes(texts)
    for i, text in enumerate(texts):
        expected = [sh.shingle_hash32(s) for s in sh.shingles(text, shingle, ngram)]
        assert hashes[offsets[i] : offsets[i + 1]].tolist() == expected
        assert hasher.shingle_hashes([text])[0].tolist() == expected


@pytest.mark.parametrize("text,expected", [
    ("", []),
    ("  !! ", []),
    ("A b", ["a b"]),
    ("The  QUICK, brown fox!", ["the quick brown", "quick brown fox"]),
    ("x_1 + y_2", ["x_1 y_2"]),
])
def test_word_shingles(text, expected):
    assert sh.shingles(text, "word", 3) == expected
