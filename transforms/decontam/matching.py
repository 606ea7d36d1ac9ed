"""Matching records against the benchmark index, and what a rejection says.

Rejections: step ``decontaminate``, reason ``contaminated`` (counter
``decontaminate.dropped_contaminated``), detail
``contaminated:<benchmark> item=<id> shared=<k>/<n> ngram=<n> field=<prompt|response>``
— the benchmark name is the detail's first word after ``contaminated:``; use
``benchmark_of`` / ``count_by_benchmark`` to count rejections per benchmark (the first
benchmark in config order that matches is the one named). A Beam counter
``contaminated_<benchmark>`` is incremented too."""
from __future__ import annotations

import typing
from typing import Dict, Iterable, List, Optional, Tuple

import apache_beam as beam

from transforms.core import Drop
from transforms.decontam.config import DecontamConfig
from transforms.decontam.index import BenchmarkIndex, Match, build_index

STEP = "decontaminate"
REASON = "contaminated"
DETAIL_PREFIX = "contaminated:"
#: Prompts remembered per worker (rollouts of one problem share their prompt).
_CACHE_SIZE = 4096


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



class MatchBenchmarks:
    """Rule: a batch of records → each kept, or dropped as ``contaminated`` by the first
    benchmark whose item its prompt (or, with ``check_responses``, its completion)
    contaminates. Holds the index (built in ``setup``) and a cache of prompt matches."""

    def __init__(self, config: DecontamConfig, stage: str):
        self.config, self.stage = config, stage
        self.index: Optional[BenchmarkIndex] = None
        self.cache: Dict[str, Optional[Match]] = {}

    def setup(self):
        self.index = build_index(self.config)
        self.cache = {}

    def _index(self) -> BenchmarkIndex:
        """The index ``setup`` built (``__call__`` builds it first if needed)."""
        assert self.index is not None, "setup() builds the index"
        return self.index

    def _prompt_matches(self, prompts: List[str]) -> List[Optional[Match]]:
        """Matches of the prompts, remembered (a problem's rollouts share their prompt)."""
        new = sorted(set(prompts) - set(self.cache))
        if len(self.cache) + len(new) > _CACHE_SIZE:
            self.cache.clear()
        self.cache.update(zip(new, self._index().match_many(new)))
        return [self.cache[p] for p in prompts]

    def _matches(self, records) -> List[Tuple[str, Optional[Match]]]:
        found = [("prompt", m) for m in self._prompt_matches([r.prompt or "" for r in records])]
        if self.config.check_responses:
            todo = [i for i, (_, m) in enumerate(found) if m is None]
            responses = self._index().match_many([records[i].completion or "" for i in todo])
            for i, match in zip(todo, responses):
                found[i] = ("response", match)
        return found

    def __call__(self, batch):
        if self.index is None:
            self.setup()
        outcomes = []
        for record, (field, match) in zip(batch, self._matches(batch)):
            if match is None:
                outcomes.append(record)
                continue
            beam.metrics.Metrics.counter(self.stage, f"contaminated_{match.benchmark}").inc()
            outcomes.append(Drop(REASON, contamination_detail(match, self.config.ngram, field), record=record))
        return outcomes
