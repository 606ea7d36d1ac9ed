"""Decontamination: drop rollouts whose prompt (optionally response) shares word
n-grams with a benchmark, so no benchmark problem leaks into training data.

Benchmarks come from config (``DecontamConfig.benchmarks``): a JSONL or Parquet file
or glob, a ``save_to_disk`` directory or an ``hf:ORG/NAME[:SPLIT]`` id (read with
``transforms.core.readers``; ``benchmarks``), the item text taken from the first of
``fields`` a row has. Texts are tokenized like MinHash word shingles
(``transforms.text.shingles``: NFKC, lower case, ``\\w+`` tokens), so case, whitespace
and punctuation edits don't hide a copy. A text is contaminated by an item when they
share at least one ``ngram``-token sequence (an item shorter than ``ngram`` tokens
counts as one sequence, all of it) and the shared sequences cover at least
``min_overlap`` of the item's (``index``). The default share (0.1) keeps a lone
boilerplate 13-gram ("... can be expressed as m/n where m and n are relatively prime
positive integers find m+n") from flagging unrelated competition problems, while a
copied problem, even edited, shares most of its n-grams.

Rejections (``matching``): stage as given, step ``decontaminate``, reason
``contaminated`` (counter ``<stage>.decontaminate.dropped_contaminated``), detail
``contaminated:<benchmark> item=<id> shared=<k>/<n> ngram=<n> field=<prompt|response>``
— the benchmark name is the detail's first word after ``contaminated:``; use
``benchmark_of`` / ``count_by_benchmark`` to count rejections per benchmark (the first
benchmark in config order that matches is the one named). A Beam counter
``contaminated_<benchmark>`` is incremented too.
"""
from __future__ import annotations

import apache_beam as beam

from transforms.core import RuleStep, StageOutputs
from transforms.decontam.benchmarks import benchmark_inputs
from transforms.decontam.config import DecontamConfig
from transforms.decontam.matching import STEP, MatchBenchmarks


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
        return (
            records
            | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=self.config.batch_size)
            | "Match" >> RuleStep(self.stage, STEP, MatchBenchmarks(self.config, self.stage))
        )
