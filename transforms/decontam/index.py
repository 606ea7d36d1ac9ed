"""The benchmark n-gram index: 64-bit fingerprints of every benchmark item's word
n-grams (``transforms.text.shingles``), looked up from texts in batches."""
from __future__ import annotations

import typing
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from transforms.decontam.benchmarks import read_benchmark
from transforms.decontam.config import DecontamConfig
from transforms.text.shingles import Shingler, word_tokens


class Match(typing.NamedTuple):
    benchmark: str
    item: str  # the item's id field, or its line (row) number
    shared: int  # n-grams of the item found in the text
    total: int  # n-grams of the item


class BenchmarkIndex:
    """64-bit fingerprints of every benchmark item's n-grams, looked up from texts.

    ``add`` the benchmarks in config order, then ``match_many`` texts (in batches: one
    sorted-array lookup serves all benchmarks and texts of a batch)."""

    def __init__(self, ngram: int, min_overlap: float = 0.0):
        self.ngram, self.min_overlap = ngram, min_overlap
        self._shinglers: Dict[int, Shingler] = {ngram: Shingler("word", ngram)}
        self._names: List[str] = []
        self._ids: List[List[str]] = []  # per benchmark: item ids
        self._totals: List[np.ndarray] = []  # per benchmark: distinct n-grams per item
        self._parts: List[np.ndarray] = []  # per benchmark: unique (fingerprint, item) rows
        self._keys = self._benches = self._items = None  # all benchmarks, sorted by fingerprint

    def add(self, name: str, items: Sequence[Tuple[str, str]]) -> None:
        texts = [text for _, text in items]
        fingerprints, offsets = self._shinglers[self.ngram].shingle_fingerprints(texts)
        item_of = np.repeat(np.arange(len(items), dtype=np.uint64), np.diff(offsets))
        rows = np.unique(np.stack([fingerprints, item_of], axis=1), axis=0)
        self._parts.append(rows)
        self._totals.append(np.bincount(rows[:, 1].astype(np.int64), minlength=len(items)))
        self._ids.append([item_id for item_id, _ in items])
        self._names.append(name)
        for text in texts:
            tokens = len(word_tokens(text))
            if 0 < tokens < self.ngram and tokens not in self._shinglers:
                self._shinglers[tokens] = Shingler("word", tokens)
        self._keys = None

    def match(self, text: str) -> Optional[Match]:
        return self.match_many([text])[0]

    def match_many(self, texts: Sequence[str]) -> List[Optional[Match]]:
        """For each text, the first benchmark (in ``add`` order) with an item it contaminates."""
        keys, benches, items = self._lookup_arrays()
        fingerprints, text_of = self._fingerprints(texts)
        lo = np.searchsorted(keys, fingerprints, "left")
        hit = keys[np.minimum(lo, len(keys) - 1)] == fingerprints if len(keys) else lo < 0
        hi = np.searchsorted(keys, fingerprints[hit], "right")
        results: List[Optional[Match]] = [None] * len(texts)
        hit_texts = text_of[hit]
        for text in np.unique(hit_texts).tolist():
            mine = hit_texts == text
            rows = np.unique(np.concatenate([np.arange(a, b) for a, b in zip(lo[hit][mine], hi[mine])]))
            results[text] = self._first_match(benches[rows], items[rows])
        return results

    def _lookup_arrays(self):
        if self._keys is None:
            rows = [np.column_stack([p[:, 0], np.full(len(p), b, np.uint64), p[:, 1]])
                    for b, p in enumerate(self._parts)]
            table = np.concatenate(rows) if rows else np.zeros((0, 3), np.uint64)
            table = table[np.argsort(table[:, 0], kind="stable")]
            self._keys = np.ascontiguousarray(table[:, 0])
            self._benches, self._items = table[:, 1].astype(np.int64), table[:, 2].astype(np.int64)
        return self._keys, self._benches, self._items

    def _fingerprints(self, texts: Sequence[str]) -> Tuple[np.ndarray, np.ndarray]:
        """(fingerprint, text index) of every n-gram of the texts, and of every run as long
        as a short item."""
        parts, owners = [], []
        for length in sorted(self._shinglers):
            fingerprints, offsets = self._shinglers[length].shingle_fingerprints(texts)
            parts.append(fingerprints)
            owners.append(np.repeat(np.arange(len(texts)), np.diff(offsets)))
        return np.concatenate(parts), np.concatenate(owners)

    def _first_match(self, benches: np.ndarray, items: np.ndarray) -> Optional[Match]:
        """Of the shared (benchmark, item) n-gram rows, the first benchmark with an item
        whose shared share reaches ``min_overlap`` (its best-covered item)."""
        for bench in np.unique(benches).tolist():
            found, shared = np.unique(items[benches == bench], return_counts=True)
            totals = self._totals[bench][found]
            coverage = shared / totals
            best = int(np.argmax(coverage))
            if coverage[best] >= self.min_overlap:
                return Match(self._names[bench], self._ids[bench][found[best]], int(shared[best]),
                             int(totals[best]))
        return None


def build_index(config: DecontamConfig) -> BenchmarkIndex:
    """Read every configured benchmark into one index (config order kept)."""
    index = BenchmarkIndex(config.ngram, config.min_overlap)
    for benchmark in config.benchmarks:
        index.add(benchmark.name, read_benchmark(benchmark))
    return index
