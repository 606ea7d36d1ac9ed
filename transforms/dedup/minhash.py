"""MinHash signatures computed in bulk with numpy, equal to datasketch's ``MinHash``.

datasketch (2.x, scheme ``affine32``) hashes every shingle to 32 bits with its
``hashfunc``, pre-mixes that value with the MurmurHash3 32-bit finalizer, applies
``num_perm`` affine permutations ``a * h + b mod 2**32`` drawn from
``numpy.random.RandomState(seed)`` and keeps the minimum per permutation. Its
per-shingle Python loop (SHA-1 per shingle) is far too slow for a corpus, so:

* the permutations are taken from datasketch itself (same seed, same scheme);
* the shingle hash is a polynomial hash over Unicode code points modulo 2**64,
  finished with the MurmurHash3 64-bit finalizer and cut to its high 32 bits
  (``shingle_hash32``). Because a polynomial hash of any substring follows from
  prefix sums, numpy hashes every shingle of a whole batch of documents at once;
* tokens are found, lower-cased and classified with lookup tables over the code
  points of a whole batch (byte-wide for ASCII), never with a per-token Python loop;
* the permutation step runs one permutation at a time over all the batch's shingles
  and ``np.minimum.reduceat`` takes the per-document minima.

``datasketch.MinHash(num_perm, seed, hashfunc=shingle_hash32)`` fed with
``shingles(text)`` gives exactly the same hash values (tests check this), so the
signatures round-trip through ``LeanMinHash`` and compare with datasketch's
Jaccard estimate. Text is canonicalized first: NFKC, lower case; ``word``
shingles are n-grams of ``\\w+`` tokens joined by one space, ``char`` shingles
are n-character windows of the text with whitespace runs collapsed to one space.
A text shorter than one shingle is one shingle; a text with no tokens has none
(its signature is datasketch's empty one).
"""
from __future__ import annotations

import re
import unicodedata
from typing import List, Sequence, Tuple

import numpy as np

#: datasketch's permutation scheme the signatures use.
SCHEME = "affine32"
SHINGLES = ("word", "char")
#: Names the shingle hash; stored with saved signatures so a changed hash is caught.
HASH_NAME = "poly64-fmix64-hi32"
#: Base of the polynomial shingle hash: odd, hence invertible modulo 2**64.
POLY_BASE = 0x9E3779B97F4A7C15
MAX_HASH = np.uint32(0xFFFFFFFF)

_MASK64 = (1 << 64) - 1
_POLY_BASE_INV = pow(POLY_BASE, -1, 1 << 64)
_WORD = re.compile(r"\w+")
_SPACE = 32
_BMP = 0x10000
#: Characters whose lower case depends on context (capital sigma) or is two characters.
_LOWER_EXCEPTIONS = ("\u03a3", "\u0130")
_FMIX64 = (np.uint64(33), np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53))
_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35))


# -- reference definitions (plain Python, one text at a time) ------------------


def canonical_text(text: str) -> str:
    """NFKC and lower case: the text shingles are cut from (ASCII is already NFKC)."""
    return _nfkc(text).lower()


def word_tokens(text: str) -> List[str]:
    """The ``\\w+`` tokens of the canonical text (what word shingles and n-gram overlap use)."""
    return _WORD.findall(canonical_text(text))


def shingles(text: str, shingle: str = "word", ngram: int = 5) -> List[str]:
    """The shingles of ``text``, as strings (the reference for the vectorized path)."""
    if shingle == "word":
        units = word_tokens(text)
        if not units:
            return []
        if len(units) < ngram:
            return [" ".join(units)]
        return [" ".join(units[i : i + ngram]) for i in range(len(units) - ngram + 1)]
    collapsed = " ".join(canonical_text(text).split())
    if len(collapsed) < ngram:
        return [collapsed] if collapsed else []
    return [collapsed[i : i + ngram] for i in range(len(collapsed) - ngram + 1)]


def _fmix64_int(value: int) -> int:
    value ^= value >> 33
    value = (value * 0xFF51AFD7ED558CCD) & _MASK64
    value ^= value >> 33
    value = (value * 0xC4CEB9FE1A85EC53) & _MASK64
    return value ^ (value >> 33)


def shingle_fingerprint(shingle: str) -> int:
    """64-bit hash of one shingle: polynomial ``sum(ord(c) * POLY_BASE**(len-1-i)) mod 2**64``,
    MurmurHash3-finalized."""
    value = 0
    for char in shingle:
        value = (value * POLY_BASE + ord(char)) & _MASK64
    return _fmix64_int(value)


def shingle_hash32(shingle: str) -> int:
    """32-bit hash of one shingle (the fingerprint's high half): the ``hashfunc`` that
    makes datasketch's MinHash agree with ours."""
    return shingle_fingerprint(shingle) >> 32


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


def _fmix64(values: np.ndarray) -> np.ndarray:
    shift, m1, m2 = _FMIX64
    values = values ^ (values >> shift)
    values *= m1
    values ^= values >> shift
    values *= m2
    return values ^ (values >> shift)


def _fmix32(values: np.ndarray) -> np.ndarray:
    s1, m1, s2, m2 = _FMIX32
    values = values ^ (values >> s1)
    values *= m1
    values ^= values >> s2
    values *= m2
    return values ^ (values >> s1)


class Shingler:
    """Hashes of every shingle of many texts at once, equal to ``shingle_fingerprint``
    of each of ``shingles(text)``. Holds lookup tables: build one per DoFn (``setup``)."""

    def __init__(self, shingle: str = "word", ngram: int = 5):
        if shingle not in SHINGLES:
            raise ValueError(f"shingle must be one of {SHINGLES}, got {shingle!r}")
        if ngram < 1:
            raise ValueError(f"ngram must be at least 1, got {ngram}")
        self.shingle, self.ngram = shingle, ngram
        self._separators = _separator_table() if shingle == "word" else None
        self._lower = _lower_table() if shingle == "word" else None
        self._lower_separators = self._separators[self._lower] if shingle == "word" else None
        self._powers = np.ones(1, dtype=np.uint64)
        self._inverse_powers = np.ones(1, dtype=np.uint64)

    def shingle_hashes(self, texts: Sequence[str]) -> Tuple[np.ndarray, np.ndarray]:
        """(hashes, offsets): ``shingle_hash32`` of every shingle, text ``i``'s at
        ``hashes[offsets[i]:offsets[i + 1]]`` (duplicates included, in text order)."""
        fingerprints, offsets = self.shingle_fingerprints(texts)
        return (fingerprints >> np.uint64(32)).astype(np.uint32), offsets

    def shingle_fingerprints(self, texts: Sequence[str]) -> Tuple[np.ndarray, np.ndarray]:
        """Like ``shingle_hashes`` with all 64 bits (for exact n-gram lookups)."""
        if self.shingle == "word":
            values, offsets = self._word_shingle_values(texts)
        else:
            values, offsets = self._char_shingle_values(texts)
        return _fmix64(values), offsets

    def _word_shingle_values(self, texts: Sequence[str]) -> Tuple[np.ndarray, np.ndarray]:
        """Polynomial hashes of the word shingles, without building the shingles.

        The texts are joined by a space, so no token crosses two texts. A shingle is
        its tokens joined by one space: in that "compact" text, a token's hash is its
        hash in the raw text (a difference of prefix sums over code points) shifted by
        a power of the base, so every shingle's hash is again a difference of prefix
        sums, over tokens."""
        codes, separators, text_starts = self._lowered_codes([_nfkc(t) for t in texts])
        # Token bounds: where "is a word character" flips (starts and ends alternate).
        flips = np.flatnonzero(np.diff(separators, prepend=True, append=True))
        tok_starts, tok_ends = flips[0::2], flips[1::2]
        compact_ends = np.cumsum(tok_ends - tok_starts + 1) - 1
        powers, inverse = self._power_tables(len(codes) + 1)
        raw = self._prefix_sums(codes)
        # Each token, and the space after it, as terms of the compact text's prefix sum.
        terms = (raw[tok_ends] - raw[tok_starts]) * powers[tok_ends - compact_ends]
        terms += np.uint64(_SPACE) * inverse[compact_ends]
        prefix = np.zeros(len(terms) + 1, dtype=np.uint64)
        np.cumsum(terms, out=prefix[1:])
        first, last, offsets = _windows(np.searchsorted(tok_starts, text_starts), self.ngram)
        values = (prefix[last + 1] - prefix[first]) * powers[compact_ends[last] - 1]
        values -= np.uint64(_SPACE * _POLY_BASE_INV & _MASK64)
        return values, offsets

    def _char_shingle_values(self, texts: Sequence[str]) -> Tuple[np.ndarray, np.ndarray]:
        """Polynomial hashes of every n-character window of the whitespace-collapsed texts."""
        collapsed = [" ".join(canonical_text(t).split()) for t in texts]
        codes = _code_points("".join(collapsed))
        bounds = np.zeros(len(collapsed) + 1, dtype=np.int64)
        np.cumsum([len(t) for t in collapsed], out=bounds[1:])
        first, last, offsets = _windows(bounds, self.ngram)
        powers, _ = self._power_tables(len(codes) + 1)
        prefix = self._prefix_sums(codes)
        return (prefix[last + 1] - prefix[first]) * powers[last], offsets

    def _prefix_sums(self, codes: np.ndarray) -> np.ndarray:
        """``out[i] = sum(codes[j] * POLY_BASE**-j for j < i)``: the hash of ``codes[s:e]``
        is ``(out[e] - out[s]) * POLY_BASE**(e - 1)`` (mod 2**64)."""
        _, inverse = self._power_tables(len(codes) + 1)
        prefix = np.zeros(len(codes) + 1, dtype=np.uint64)
        np.multiply(codes, inverse[: len(codes)], out=prefix[1:])
        np.cumsum(prefix[1:], out=prefix[1:])
        return prefix

    def _lowered_codes(self, texts: Sequence[str]) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Code points of the lower-cased texts joined by a space, whether each is a
        non-word character (a token separator), and where each text starts.

        ASCII takes a byte-wide path; other text is lowered by table unless it holds a
        character the table can't lower (context-dependent, longer, or astral)."""
        joined = " ".join(texts)
        if joined.isascii():
            codes = np.frombuffer(joined.lower().encode("ascii"), dtype=np.uint8)
            return codes, self._separators[codes], _starts(texts)
        codes = _code_points(joined)
        if any(char in joined for char in _LOWER_EXCEPTIONS) or codes.max() >= _BMP:
            lowered = [t.lower() for t in texts]
            codes = _code_points(" ".join(lowered))
            return codes, self._is_separator(codes), _starts(lowered)
        index = codes.astype(np.intp)
        return self._lower[index], self._lower_separators[index], _starts(texts)

    def _is_separator(self, codes: np.ndarray) -> np.ndarray:
        """Non-word code points, for any code point."""
        flags = np.take(self._separators, codes, mode="clip")
        astral = np.flatnonzero(codes >= _BMP)
        for index in astral:
            ch = chr(int(codes[index]))
            flags[index] = not (ch.isalnum() or ch == "_")
        return flags

    def _power_tables(self, size: int) -> Tuple[np.ndarray, np.ndarray]:
        """POLY_BASE**i and its inverse for i < size (mod 2**64), grown on demand."""
        if len(self._powers) < size:
            grown = 1 << max(size - 1, 1).bit_length()
            self._powers = _geometric(POLY_BASE, grown)
            self._inverse_powers = _geometric(_POLY_BASE_INV, grown)
        return self._powers, self._inverse_powers


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


def _separator_table() -> np.ndarray:
    """For every BMP code point: is it a non-word character (not ``\\w``)?"""
    return np.array([not (chr(c).isalnum() or c == 95) for c in range(_BMP)], dtype=bool)


def _lower_table() -> np.ndarray:
    """For every BMP code point: the code point of its lower case (itself when that is
    not one character)."""
    lowered = [chr(c).lower() for c in range(_BMP)]
    return np.array([ord(low) if len(low) == 1 else c for c, low in enumerate(lowered)], dtype=np.uint32)


def _starts(texts: Sequence[str]) -> np.ndarray:
    """Where each text starts in the texts joined by one space (and the end)."""
    starts = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum([len(t) + 1 for t in texts], out=starts[1:])
    return starts


def _nfkc(text: str) -> str:
    text = text or ""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def _code_points(text: str) -> np.ndarray:
    """The text's code points (lone surrogates kept)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _windows(unit_bounds: np.ndarray, ngram: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first, last, offsets): first and last unit of every shingle, text ``i``'s at
    ``[offsets[i], offsets[i + 1])``; text ``i`` has units ``[bounds[i], bounds[i + 1])``,
    its shingles are its runs of ``ngram`` units (all of them if it has fewer)."""
    counts = np.diff(unit_bounds)
    per_text = np.where(counts >= ngram, counts - ngram + 1, counts > 0)
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(per_text, out=offsets[1:])
    first = np.arange(offsets[-1]) + np.repeat(unit_bounds[:-1] - offsets[:-1], per_text)
    last = first + np.repeat(np.minimum(counts, ngram) - 1, per_text)
    return first, last, offsets


def _geometric(base: int, size: int) -> np.ndarray:
    """[1, base, base**2, ...] modulo 2**64."""
    values = np.full(size, base, dtype=np.uint64)
    values[0] = 1
    return np.multiply.accumulate(values)

