"""Problem curation before sampling (config section ``problems``): filters with reasons,
benchmark decontamination against a shipped default list, and exact + MinHash prompt
dedup, all in the sample stage before its model step, so nothing is sampled for a
rejected problem.

The steps reuse the curate stage's rules on ``Problem`` records (stage ``sample``):
``CurateProblems/Filter`` (:mod:`transforms.sample.screen`, step ``problem_filter``),
``CurateProblems/Decontaminate`` (:mod:`transforms.decontam`, step ``decontaminate``,
the shipped list in :mod:`transforms.decontam.defaults`) and ``CurateProblems/Dedup``
(:mod:`transforms.dedup.prompts`, step ``dedup_prompts``, reasons ``duplicate`` and
``near_duplicate``). Every rejected problem is one ``Rejection`` of the sample stage, so
the stage's accounting line (problems = sampled + rejected + dead) still adds up.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Dict, List, Optional, Tuple

import apache_beam as beam

from transforms.core import StageOutputs
from transforms.decontam.config import BenchmarkConfig, DecontamConfig
from transforms.decontam.defaults import default_benchmarks
from transforms.decontam.transform import DecontaminateBenchmarks
from transforms.dedup.config import DedupConfig
from transforms.dedup.prompts import DedupPrompts
from transforms.sample.screen import FilterProblems, ProblemFilterConfig

LOG = logging.getLogger(__name__)
STAGE = "sample"


@dataclasses.dataclass(frozen=True)
class ProblemDecontamConfig:
    """Which benchmarks problems are checked against: the shipped list found under
    ``benchmarks_dir``, single files in ``paths`` (name → file), minus ``skip``, plus
    ``benchmarks`` of your own (as ``curate.decontam.benchmarks``)."""

    benchmarks_dir: Optional[str] = None
    paths: Dict[str, str] = dataclasses.field(default_factory=dict)
    skip: Tuple[str, ...] = ()
    benchmarks: Tuple[BenchmarkConfig, ...] = ()
    ngram: int = 13
    min_overlap: float = 0.1

    def __post_init__(self):
        # the config loader gives a mapping as sorted (key, value) pairs: hashable, frozen
        if isinstance(self.paths, dict):
            object.__setattr__(self, "paths", tuple(sorted(self.paths.items())))
        DecontamConfig(self.benchmarks, self.ngram, self.min_overlap)  # its checks

    def resolved(self) -> DecontamConfig:
        """The DecontamConfig of the benchmarks found (ValueError for a required one
        missing under ``benchmarks_dir``)."""
        found = default_benchmarks(self.benchmarks_dir or "", dict(self.paths), self.skip, "problems.decontam")
        return DecontamConfig(tuple(found) + self.benchmarks, self.ngram, self.min_overlap)


@dataclasses.dataclass(frozen=True)
class ProblemDedupConfig:
    """Exact (the same normalized prompt: reason ``duplicate``) and MinHash near-duplicate
    (``near_duplicate``) prompts across all sources; one problem of each cluster survives
    (the most readable, then the shortest, then the smallest id)."""

    enabled: bool = True
    threshold: float = 0.8
    num_perm: int = 128
    shingle: str = "word"
    ngram: int = 5
    index_paths: Tuple[str, ...] = ()  # prompt signature indexes of published corpora

    def __post_init__(self):
        self.dedup_config()  # its checks

    def dedup_config(self) -> DedupConfig:
        return DedupConfig(exact=False, prompts=True, responses=False, threshold=self.threshold,
                           num_perm=self.num_perm, shingle=self.shingle, ngram=self.ngram,
                           survivor_policy=("readable", "shortest"), index_paths=self.index_paths)


@dataclasses.dataclass(frozen=True)
class ProblemsConfig:
    """``problems:`` — curate problems before they are sampled (off by default)."""

    enabled: bool = False
    filters: ProblemFilterConfig = ProblemFilterConfig()
    decontam: ProblemDecontamConfig = ProblemDecontamConfig()
    dedup: ProblemDedupConfig = ProblemDedupConfig()


class CurateProblems(beam.PTransform):
    """Problems → StageOutputs: filtered, decontaminated, deduplicated (each part on
    when configured), the rejections of all three in one collection."""

    def __init__(self, config: ProblemsConfig):
        super().__init__()
        self.config = config
        self.decontam = config.decontam.resolved()
        if not self.decontam.benchmarks:
            LOG.warning("problems.decontam: no benchmark found (set problems.decontam.benchmarks_dir to the "
                        "folder holding %s): problems are not decontaminated", ", ".join(
                            n for n in ("aime24", "amc23", "math500", "gsm8k_test", "olympiadbench", "minerva")))

    def expand(self, problems):
        parts: List[StageOutputs] = []
        kept = problems
        if self.config.filters.enabled:
            parts.append(kept | "Filter" >> FilterProblems(self.config.filters, STAGE))
            kept = parts[-1].kept
        if self.decontam.benchmarks:
            parts.append(kept | "Decontaminate" >> DecontaminateBenchmarks(self.decontam, STAGE))
            kept = parts[-1].kept
        if self.config.dedup.enabled:
            parts.append(kept | "Dedup" >> DedupPrompts(self.config.dedup.dedup_config(), STAGE))
            kept = parts[-1].kept
        pipeline = problems.pipeline
        rejected = ([p.rejected for p in parts] or [pipeline | "NoRejections" >> beam.Create([])]) \
            | "Rejected" >> beam.Flatten()
        dead = ([p.dead for p in parts] or [pipeline | "NoDead" >> beam.Create([])]) | "Dead" >> beam.Flatten()
        return StageOutputs(kept, rejected, dead)


def benchmark_names(config: ProblemsConfig) -> List[str]:
    """The benchmarks a run checks its problems against (for the manifest)."""
    if not config.enabled:
        return []
    return [b.name for b in config.decontam.resolved().benchmarks]
