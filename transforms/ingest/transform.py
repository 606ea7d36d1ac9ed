"""Ingest: sources (JSONL, Parquet, a `datasets` directory, `hf:` ids, generators) → Problems.

Four layers, each usable on its own:

* readers (``transforms.core.readers``: ``read_jsonl``, ``read_parquet``,
  ``read_datasets_dir``, ``read_hf``; here ``read_generator``) yield
  ``(file, line, record_or_ReadError)`` with 1-based line numbers (row index + 1 for
  tables); a line that can't become a record comes back as a ``ReadError`` instead of
  raising;
* ``presets.to_problem`` maps one record to a ``Problem`` through the source's preset
  and explicit ``fields:``, raising ``BadRecord(field, reason)`` for records it can't use;
* ``planning.check_sources`` (launcher side) checks the sources and expands them into
  work items;
* ``ReadProblems`` runs them in Beam: one rule call (``RuleStep``, stage ``ingest``,
  step ``read``) reads one work item streaming and maps its records, and every input
  line ends as a Problem or a DeadLetter (step ``read`` or ``map``, with file, line and
  field). Counters in namespace ``ingest``: ``ingest_lines``, ``ingest_problems``,
  ``ingest_dead_letters`` (the launcher balances lines against the outputs with them).

``limit`` keeps the first ``limit`` problems of a source in file-then-line order and
stops reading there. A limited source is read as one work item (its files in sorted
order, one after another), so the cut is the same on every runner and worker count
and the lines past it are never read; unlimited sources get one work item per file.
"""
from __future__ import annotations

import json
from typing import Any, Iterator, Tuple

import apache_beam as beam

from schemas.records import DeadLetter, Problem
from transforms.core import RuleStep, StageOutputs, derive_seed, make_dead_letter
from transforms.core.readers import (
    ReadError,
    ReadItem,
    UnreadableInput,
    read_datasets_dir,
    read_hf,
    read_jsonl,
    read_parquet,
)
from transforms.ingest.config import IngestConfig, SourceConfig
from transforms.ingest.generators import generate_problems
from transforms.ingest.planning import WorkItem, check_sources
from transforms.ingest.presets import BadRecord, to_problem

STAGE = "ingest"


def read_generator(source: SourceConfig, seed: int) -> Iterator[ReadItem]:
    """Problems from ``transforms.ingest.generators``, seeded per source; the line is the index + 1.

    The generator's seed is ``derive_seed(seed, "generator", source.name)``, so two
    sources using the same generator don't produce the same problems."""
    assert source.generator is not None  # only generator sources come here (SourceConfig checks the name)
    file = f"generator:{source.generator}"
    gen_seed = derive_seed(seed, "generator", source.name)
    records = generate_problems(source.generator, source.count, gen_seed, tuple(source.difficulty), source.rule)
    for index, record in enumerate(records):
        yield file, index + 1, record


def read_input(
    fmt: str, path: str, source: SourceConfig, config: IngestConfig, seed: int
) -> Iterator[ReadItem]:
    """Dispatch one (format, path) input to its reader."""
    if fmt == "jsonl":
        return read_jsonl(path, config.max_line_bytes)
    if fmt == "parquet":
        return read_parquet(path)
    if fmt == "datasets":
        return read_datasets_dir(path)
    if fmt == "hf":
        return read_hf(path)
    if fmt == "generator":
        return read_generator(source, seed)
    raise ValueError(f"source {source.name!r}: unsupported format {fmt!r} for {path!r}")


def _record_payload(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True, default=str)


def guarded(items: Iterator[ReadItem], path: str) -> Iterator[ReadItem]:
    """A reader's items; should the reader itself fail (the file vanished or became
    unreadable after the launcher checked it, a reader bug), a last ``ReadError`` at the
    line after the last one read instead of an exception: one file never stops a stage."""
    line = 0
    try:
        for item in items:
            line = item[1]
            yield item
    except UnreadableInput as exc:
        yield path, line + 1, ReadError(f"unreadable_input: {exc}", "")
    except Exception as exc:  # noqa: BLE001 - said at its place, the rest of the stage goes on
        yield path, line + 1, ReadError(f"read_error: {type(exc).__name__}: {exc}; nothing after "
                                        f"line {line} of this file was read", "")


def ingest_work_item(
    item: WorkItem,
    sources: Tuple[SourceConfig, ...],
    config: IngestConfig,
    seed: int,
    config_hash: str,
) -> Iterator[Any]:
    """Read and map one work item: yields Problems and DeadLetters in input order.

    Stops reading once the source's ``limit`` problems were produced."""
    index, inputs = item
    source = sources[index]
    remaining = source.limit
    for fmt, path in inputs:
        for file, line, raw in guarded(read_input(fmt, path, source, config, seed), path):
            if isinstance(raw, ReadError):
                yield make_dead_letter(
                    STAGE, "read", raw.error, file=file, line=line, field=raw.field, payload=raw.payload,
                    config_hash=config_hash,
                )
                continue
            try:
                problem = to_problem(raw, source, file, line, seed, config_hash)
            except BadRecord as exc:
                yield make_dead_letter(
                    STAGE, "map", str(exc), file=file, line=line, field=exc.field,
                    payload=_record_payload(raw), config_hash=config_hash,
                )
                continue
            except Exception as exc:  # a record shape no rule anticipated: keep it, with the error
                yield make_dead_letter(
                    STAGE, "map", f"map_error: {type(exc).__name__}: {exc}", file=file, line=line,
                    payload=_record_payload(raw), config_hash=config_hash,
                )
                continue
            yield problem
            if remaining is not None:
                remaining -= 1
                if remaining <= 0:
                    return


# -- Beam ----------------------------------------------------------------------


class ReadWorkItem:
    """The rule of ``ReadProblems``: one work item → its Problems and DeadLetters, in
    input order, each line counted (``ingest_lines``, ``ingest_problems``,
    ``ingest_dead_letters`` in namespace ``ingest``)."""

    def __init__(self, sources: Tuple[SourceConfig, ...], config: IngestConfig, seed: int, config_hash: str):
        self.sources = sources
        self.config = config
        self.seed = seed
        self.config_hash = config_hash

    def setup(self):
        self.lines = beam.metrics.Metrics.counter(STAGE, "ingest_lines")
        self.problems = beam.metrics.Metrics.counter(STAGE, "ingest_problems")
        self.dead_letters = beam.metrics.Metrics.counter(STAGE, "ingest_dead_letters")

    def __call__(self, item: WorkItem) -> Iterator[Any]:
        for out in ingest_work_item(item, self.sources, self.config, self.seed, self.config_hash):
            self.lines.inc()
            if isinstance(out, DeadLetter):
                self.dead_letters.inc()
            else:
                self.problems.inc()
            yield out


class ReadProblems(beam.PTransform):
    """``pipeline | ReadProblems(sources, config, seed, config_hash)`` → StageOutputs.

    ``kept``: Problems; ``rejected``: empty (ingest drops nothing on purpose);
    ``dead``: DeadLetters for lines and records that couldn't be read or mapped.
    Paths are checked (``check_sources``) when the transform is applied."""

    def __init__(self, sources: Tuple[SourceConfig, ...], config: IngestConfig, seed: int, config_hash: str):
        super().__init__()
        self.sources = tuple(sources)
        self.config = config
        self.seed = seed
        self.config_hash = config_hash

    def expand(self, pbegin):
        items = check_sources(self.sources)
        read = (
            pbegin
            | "WorkItems" >> beam.Create(items).with_output_types(WorkItem)
            | "ReadAndMap" >> RuleStep(STAGE, "read", ReadWorkItem(self.sources, self.config, self.seed,
                                                                 self.config_hash),
                                       output_type=Problem, stream=True)
        )
        kept = read.kept | "Reshuffle" >> beam.Reshuffle()
        return StageOutputs(kept=kept, rejected=read.rejected, dead=read.dead)
