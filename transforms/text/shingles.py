"""Word tokens and shingles of text, and their hashes for many texts at once (numpy).

Text is canonicalized first: NFKC, lower case. ``word`` shingles are n-grams of
``\\w+`` tokens joined by one space, ``char`` shingles are n-character windows of the
text with whitespace runs collapsed to one space. A text shorter than one shingle is
one shingle; a text with no tokens has none. MinHash dedup signs texts by these
shingles, decontamination looks up their n-grams in benchmarks.

The shingle hash (``shingle_fingerprint``) is a polynomial hash over Unicode code
points modulo 2**64, finished with the MurmurHash3 64-bit finalizer; its high 32 bits
are ``shingle_hash32``. Because a polynomial hash of any substring follows from prefix
sums, :class:`Shingler` hashes every shingle of a whole batch of documents at once;
tokens are found, lower-cased and classified with lookup tables over the code points
of a whole batch (byte-wide for ASCII), never with a per-token Python loop. The plain
Python functions (``shingles``, ``shingle_fingerprint``) are the reference it equals.
Beam-free.
"""
from __future__ import annotations

import re
import unicodedata
from typing import List, Optional, Sequence, Tuple

import numpy as np

SHINGLES = ("word", "char")
#: Names the shingle hash; stored with saved signatures so a changed hash is caught.
HASH_NAME = "poly64-fmix64-hi32"
#: Base of the polynomial shingle hash: odd, hence invertible modulo 2**64.
POLY_BASE = 0x9E3779B97F4A7C15

_MASK64 = (1 << 64) - 1
_POLY_BASE_INV = pow(POLY_BASE, -1, 1 << 64)
_WORD = re.compile(r"\w+")
_SPACE = 32
_BMP = 0x10000
#: Characters whose lower case depends on context (capital sigma) or is two characters.
_LOWER_EXCEPTIONS = ("\u03a3", "\u0130")
_FMIX64 = (np.uint64(33), np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53))


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


# -- the vectorized path -----------------------------------------------------------


def _fmix64(values: np.ndarray) -> np.ndarray:
    shift, m1, m2 = _FMIX64
    values = values ^ (values >> shift)
    values *= m1
    values ^= values >> shift
    values *= m2
    return values ^ (values >> shift)


class Shingler:
    """Hashes of every shingle of many texts at once, equal to ``shingle_fingerprint``
    of each of ``shingles(text)``. Holds lookup tables: build one per DoFn (``setup``)."""

    def __init__(self, shingle: str = "word", ngram: int = 5):
        if shingle not in SHINGLES:
            raise ValueError(f"shingle must be one of {SHINGLES}, got {shingle!r}")
        if ngram < 1:
            raise ValueError(f"ngram must be at least 1, got {ngram}")
        self.shingle, self.ngram = shingle, ngram
        # lookup tables of word shingles (None for character shingles)
        self._separators: Optional[np.ndarray] = None
        self._lower: Optional[np.ndarray] = None
        self._lower_separators: Optional[np.ndarray] = None
        if shingle == "word":
            self._separators = _separator_table()
            self._lower = _lower_table()
            self._lower_separators = self._separators[self._lower]
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
        separators, lower, lower_separators = self._word_tables()
        joined = " ".join(texts)
        if joined.isascii():
            codes = np.frombuffer(joined.lower().encode("ascii"), dtype=np.uint8)
            return codes, separators[codes], _starts(texts)
        codes = _code_points(joined)
        if any(char in joined for char in _LOWER_EXCEPTIONS) or codes.max() >= _BMP:
            lowered = [t.lower() for t in texts]
            codes = _code_points(" ".join(lowered))
            return codes, self._is_separator(codes), _starts(lowered)
        index = codes.astype(np.intp)
        return lower[index], lower_separators[index], _starts(texts)

    def _word_tables(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(separators, lower, lower_separators): the tables ``__init__`` builds for word shingles."""
        separators, lower, lower_separators = self._separators, self._lower, self._lower_separators
        assert separators is not None and lower is not None and lower_separators is not None, self.shingle
        return separators, lower, lower_separators

    def _is_separator(self, codes: np.ndarray) -> np.ndarray:
        """Non-word code points, for any code point."""
        flags = np.take(self._word_tables()[0], codes, mode="clip")
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

