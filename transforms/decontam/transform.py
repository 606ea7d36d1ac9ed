"""Decontamination: drop rollouts whose prompt (optionally response) shares word
n-grams with a benchmark, so no benchmark problem leaks into training data.

Benchmarks come from config (``DecontamConfig.benchmarks``): a JSONL or Parquet file
or glob, a ``save_to_disk`` directory or an ``hf:ORG/NAME[:SPLIT]`` id (read with
``transforms.ingest.transform``'s readers), the item text taken from the first of ``fields``
a row has. Texts are tokenized like MinHash word shingles (NFKC, lower case, ``\\w+``
tokens), so case, whitespace and punctuation edits don't hide a copy. A text is
contaminated by an item when they share at least one ``ngram``-token sequence (an
item shorter than ``ngram`` tokens counts as one sequence, all of it) and the shared
sequences cover at least ``min_overlap`` of the item's. The default share (0.1) keeps a
lone boilerplate 13-gram ("... can be expressed as m/n where m and n are relatively
prime positive integers find m+n") from flagging unrelated competition problems, while
a copied problem, even edited, shares most of its n-grams.

Rejections: stage as given, step ``decontaminate``, reason ``contaminated``, detail
``contaminated:<benchmark> item=<id> shared=<k>/<n> ngram=<n> field=<prompt|response>``
— the benchmark name is the detail's first word after ``contaminated:``; use
``benchmark_of`` / ``count_by_benchmark`` to count rejections per benchmark (the first
benchmark in config order that matches is the one named). A Beam counter
``contaminated_<benchmark>`` is incremented too.
"""
from __future__ import annotations

import dataclasses
import re
import typing
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import apache_beam as beam
import numpy as np

from transforms.core import DEAD, REJECTED, StageOutputs, error_text, make_dead_letter, make_rejection
from transforms.core import readers
from transforms.dedup.minhash import Shingler, word_tokens

STEP = "decontaminate"
REASON = "contaminated"
DETAIL_PREFIX = "contaminated:"
_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")
_ID_FIELDS = ("id", "unique_id", "idx")
#: Prompts remembered per worker (rollouts of one problem share their prompt).
_CACHE_SIZE = 4096


@dataclasses.dataclass(frozen=True)
class BenchmarkConfig:
    name: str  # named in rejections and counts: letters, digits, "_", "-", "."
    path: str  # JSONL/Parquet file or glob, a save_to_disk directory, or hf:ORG/NAME[:SPLIT]
    fields: Tuple[str, ...] = ("problem", "question", "prompt", "Question", "input")  # first present = item text

    def __post_init__(self):
        if not _NAME.match(self.name or ""):
            raise ValueError(f"benchmark name {self.name!r}: use letters, digits, '_', '-', '.'")
        if not self.path:
            raise ValueError(f"benchmark {self.name!r}: path is required")
        if not self.fields:
            raise ValueError(f"benchmark {self.name!r}: fields must name at least one field")


@dataclasses.dataclass(frozen=True)
class DecontamConfig:
    benchmarks: Tuple[BenchmarkConfig, ...] = ()
    ngram: int = 13  # tokens per shared sequence (8-13 typical)
    min_overlap: float = 0.1  # share of an item's n-grams the text must contain (0: any one)
    check_responses: bool = False  # also check the completions
    batch_size: int = 64  # records matched per batch

    def __post_init__(self):
        if self.ngram < 1:
            raise ValueError(f"ngram: expected at least 1, got {self.ngram}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size: expected at least 1, got {self.batch_size}")
        if not 0.0 <= self.min_overlap <= 1.0:
            raise ValueError(f"min_overlap: expected a share in [0, 1], got {self.min_overlap}")
        names = [b.name for b in self.benchmarks]
        if len(set(names)) != len(names):
            raise ValueError(f"benchmarks: names must be unique, got {names}")


class Match(typing.NamedTuple):
    benchmark: str
    item: str  # the item's id field, or its line (row) number
    shared: int  # n-grams of the item found in the text
    total: int  # n-grams of the item


# -- reading benchmarks ------------------------------------------------------------------


def benchmark_inputs(benchmark: BenchmarkConfig) -> List[Tuple[str, str]]:
    """(format, path) of each input of a benchmark; ValueError when there is none."""
    from transforms.ingest.config import SourceConfig
    from transforms.ingest.planning import source_inputs

    try:
        return source_inputs(SourceConfig(name=benchmark.name, path=benchmark.path))
    except ValueError as exc:
        raise ValueError(f"decontaminate: {exc}".replace("source ", "benchmark ", 1)) from None


def _item_text(row: dict, fields: Sequence[str]) -> str:
    for field in fields:
        value = row.get(field)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _item_id(row: dict, line: int) -> str:
    for field in _ID_FIELDS:
        value = row.get(field)
        if value is not None and str(value).strip():
            return str(value)
    return str(line)


def read_benchmark(benchmark: BenchmarkConfig) -> List[Tuple[str, str]]:
    """(item id, text) of every row of a benchmark that has one of its fields."""
    items = []
    for fmt, path in benchmark_inputs(benchmark):
        if fmt == "jsonl":
            rows = readers.read_jsonl(path, 1 << 24)
        elif fmt == "parquet":
            rows = readers.read_parquet(path)
        elif fmt == "datasets":
            rows = readers.read_datasets_dir(path)
        else:
            rows = readers.read_hf(path)
        for _, line, row in rows:
            if isinstance(row, dict):
                text = _item_text(row, benchmark.fields)
                if text:
                    items.append((_item_id(row, line), text))
    if not items:
        raise ValueError(f"benchmark {benchmark.name!r}: no row of {benchmark.path!r} has any of "
                         f"the fields {benchmark.fields}")
    return items


# -- the n-gram index ----------------------------------------------------------------------


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


def contamination_detail(match: Match, ngram: int, field: str) -> str:
    return (f"{DETAIL_PREFIX}{match.benchmark} item={match.item} shared={match.shared}/{match.total} "
            f"ngram={ngram} field={field}")


def benchmark_of(rejection) -> Optional[str]:
    """The benchmark a ``contaminated`` rejection names (None for other rejections)."""
    if rejection.reason != REASON or not rejection.detail.startswith(DETAIL_PREFIX):
        return None
    return rejection.detail[len(DETAIL_PREFIX):].split(" ", 1)[0]


def count_by_benchmark(rejections: Iterable) -> Dict[str, int]:
    """{benchmark: rejected rows} over rejections (records or dicts with reason/detail)."""
    counts: Dict[str, int] = {}
    for rejection in rejections:
        if isinstance(rejection, dict):
            rejection = _ReasonDetail(rejection.get("reason", ""), rejection.get("detail", ""))
        name = benchmark_of(rejection)
        if name is not None:
            counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))


class _ReasonDetail(typing.NamedTuple):
    reason: str
    detail: str


# -- the transform ------------------------------------------------------------------------


class _Decontaminate(beam.DoFn):
    """Batches of records → kept records, rejections (contaminated), dead letters."""

    def __init__(self, config: DecontamConfig, stage: str):
        self.config, self.stage = config, stage

    def setup(self):
        self.index = build_index(self.config)
        self.cache: Dict[str, Optional[Match]] = {}

    def _prompt_matches(self, prompts: List[str]) -> List[Optional[Match]]:
        """Matches of the prompts, remembered (a problem's rollouts share their prompt)."""
        new = sorted(set(prompts) - set(self.cache))
        if len(self.cache) + len(new) > _CACHE_SIZE:
            self.cache.clear()
        self.cache.update(zip(new, self.index.match_many(new)))
        return [self.cache[p] for p in prompts]

    def _matches(self, records) -> List[Tuple[str, Optional[Match]]]:
        found = [("prompt", m) for m in self._prompt_matches([r.prompt or "" for r in records])]
        if self.config.check_responses:
            todo = [i for i, (_, m) in enumerate(found) if m is None]
            responses = self.index.match_many([records[i].completion or "" for i in todo])
            for i, match in zip(todo, responses):
                found[i] = ("response", match)
        return found

    def process(self, batch):
        try:
            found = self._matches(batch)
        except Exception as exc:  # noqa: BLE001 - a bad batch is dead-lettered, never a crash
            for record in batch:
                yield beam.pvalue.TaggedOutput(DEAD, make_dead_letter(self.stage, STEP, error_text(exc), record=record))
            return
        for record, (field, match) in zip(batch, found):
            if match is None:
                yield record
                continue
            beam.metrics.Metrics.counter(self.stage, f"contaminated_{match.benchmark}").inc()
            detail = contamination_detail(match, self.config.ngram, field)
            yield beam.pvalue.TaggedOutput(REJECTED, make_rejection(record, self.stage, STEP, REASON, detail))


class DecontaminateBenchmarks(beam.PTransform):
    """Records with ``prompt`` (and ``completion``) → StageOutputs: the ones sharing
    n-grams with a configured benchmark rejected (reason ``contaminated``)."""

    def __init__(self, config: DecontamConfig, stage: str = "curate"):
        super().__init__()
        self.config = config
        self.stage = stage
        for benchmark in config.benchmarks:
            benchmark_inputs(benchmark)

    def expand(self, records):
        if not self.config.benchmarks:
            empty = records.pipeline | "Empty" >> beam.Create([])
            return StageOutputs(records, empty, records.pipeline | "NoDead" >> beam.Create([]))
        out = (
            records
            | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=self.config.batch_size)
            | "Match" >> beam.ParDo(_Decontaminate(self.config, self.stage)).with_outputs(REJECTED, DEAD, main="kept")
        )
        return StageOutputs(out.kept, out[REJECTED], out[DEAD])
