"""Ingest: sources (JSONL, Parquet, a `datasets` directory, `hf:` ids, generators) → Problems.

Three layers, each usable on its own:

* readers (``read_jsonl``, ``read_parquet``, ``read_datasets_dir``, ``read_hf``,
  ``read_generator``) yield ``(file, line, record_or_ReadError)`` with 1-based line
  numbers (row index + 1 for tables); a line that can't become a record comes back
  as a ``ReadError`` instead of raising;
* ``to_problem`` maps one record to a ``Problem`` through the source's preset and
  explicit ``fields:``, raising ``BadRecord(field, reason)`` for records it can't use;
* ``ReadProblems`` runs both in Beam: the launcher expands the sources into work
  items (``plan_work``), one DoFn call reads one file streaming and maps its records,
  and every input line ends as a Problem or a DeadLetter.

``limit`` keeps the first ``limit`` problems of a source in file-then-line order and
stops reading there. A limited source is read as one work item (its files in sorted
order, one after another), so the cut is the same on every runner and worker count
and the lines past it are never read; unlimited sources get one work item per file.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import posixpath
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Tuple

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from schemas.records import SCHEMA_VERSION, DeadLetter, Problem, Rejection
from transforms.core import (
    DEAD,
    MAX_PAYLOAD_CHARS,
    StageOutputs,
    derive_seed,
    make_dead_letter,
    stable_hash,
    truncate,
)
from transforms.core.readers import (  # noqa: F401 - re-exported: ingest's readers
    HF_PREFIX,
    ReadError,
    ReadItem,
    RecordOrError,
    detect_format,
    is_datasets_dir,
    parse_hf,
    parse_json_line,
    read_datasets_dir,
    read_hf,
    read_jsonl,
    read_parquet,
)
from transforms.text.extract import boxed_contents

SOURCE_FORMATS = ("auto", "jsonl", "parquet", "datasets", "hf", "generator")
PRESETS = ("gsm8k", "math", "answer", "mcq")

STAGE = "ingest"
#: Longest string value copied into a Problem's metadata.
MAX_METADATA_VALUE_CHARS = 1000
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclasses.dataclass(frozen=True)
class FieldMapping:
    """Which input fields make a Problem (a preset fills these in)."""

    prompt: Optional[str] = None  # field holding the question
    answer: Optional[str] = None  # field holding the gold answer
    solution: Optional[str] = None  # field holding a worked solution with \\boxed{} or "#### N"
    id: Optional[str] = None  # field holding the source's own id (else file:line)
    choices: Optional[str] = None  # field holding multiple-choice options
    tests: Optional[str] = None  # field holding code tests
    difficulty: Optional[str] = None
    domain: Optional[str] = None  # field holding the domain, overriding the source's


@dataclasses.dataclass(frozen=True)
class SourceConfig:
    name: str = ""
    path: Optional[str] = None  # file, directory, glob, or "hf:ORG/NAME[:SPLIT]"
    format: str = "auto"
    preset: Optional[str] = None
    fields: FieldMapping = FieldMapping()
    generator: Optional[str] = None  # arithmetic | linear_equation | countdown | unit_rate
    count: int = 0  # problems to generate
    difficulty: Tuple[int, ...] = (1, 2, 3)
    domain: str = "math"
    kind: str = "reasoning"
    language: Optional[str] = None
    limit: Optional[int] = None  # at most this many problems from the source

    def __post_init__(self):
        if not self.name:
            raise ValueError("name: every source needs a name")
        if self.format not in SOURCE_FORMATS:
            raise ValueError(f"format: must be one of {', '.join(SOURCE_FORMATS)}, got {self.format!r}")
        if self.preset is not None and self.preset not in PRESETS:
            raise ValueError(f"preset: must be one of {', '.join(PRESETS)}, got {self.preset!r}")
        if self.format == "generator" or self.generator:
            if not self.generator:
                raise ValueError("generator: a generator source needs a generator name")
            if self.count <= 0:
                raise ValueError("count: a generator source needs count > 0")
            from transforms.ingest.generators import check_generator

            check_generator(self.generator, self.difficulty)
        elif not self.path:
            raise ValueError(f"path: source {self.name!r} needs a path (or a generator)")
        if self.kind not in ("reasoning", "knowledge"):
            raise ValueError(f"kind: must be reasoning or knowledge, got {self.kind!r}")
        if self.limit is not None and self.limit < 0:
            raise ValueError("limit: must be >= 0")

    @property
    def is_generator(self) -> bool:
        return self.format == "generator" or bool(self.generator)


@dataclasses.dataclass(frozen=True)
class IngestConfig:
    max_line_bytes: int = 1_000_000  # longer input lines are dead-lettered (line_too_long)

    def __post_init__(self):
        if self.max_line_bytes <= 0:
            raise ValueError("max_line_bytes: must be > 0")


# -- errors --------------------------------------------------------------------


class BadRecord(ValueError):
    """A record that can't become a Problem: which input field, and why.

    ``reason`` is ``missing_field``, ``wrong_type`` or ``bad_value``."""

    def __init__(self, field: str, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.field = field
        self.reason = reason


# -- planning (launcher side) --------------------------------------------------

#: One unit of reading: (index into the sources, ((format, path), ...)).
WorkItem = Tuple[int, Tuple[Tuple[str, str], ...]]


def _matching_paths(source: SourceConfig) -> List[str]:
    """The files a source's path or glob names, sorted; a ValueError when there are none."""
    try:
        result = FileSystems.match([source.path])[0]
        paths = sorted(meta.path for meta in result.metadata_list)
    except Exception as exc:  # the filesystem's own error, e.g. a bad bucket
        raise ValueError(f"source {source.name!r}: can't list path {source.path!r}: {exc}") from None
    if not paths:
        raise ValueError(f"source {source.name!r}: path {source.path!r} matches no file")
    return paths


def source_inputs(source: SourceConfig) -> List[Tuple[str, str]]:
    """The (format, path) inputs of one source, in reading order (globs expanded, sorted)."""
    if source.is_generator:
        return [("generator", f"generator:{source.generator}")]
    if source.format == "hf" or (source.format == "auto" and source.path.startswith(HF_PREFIX)):
        return [("hf", source.path)]
    if source.format == "datasets":
        if "://" not in source.path and not os.path.isdir(source.path):
            raise ValueError(f"source {source.name!r}: path {source.path!r} is not a directory")
        return [("datasets", source.path)]
    inputs = []
    for path in _matching_paths(source):
        fmt = source.format if source.format != "auto" else detect_format(path)
        if fmt is None:
            raise ValueError(
                f"source {source.name!r}: can't tell the format of {path!r} "
                "(expected .jsonl, .json, .parquet or a save_to_disk directory); set format:"
            )
        inputs.append((fmt, path))
    return inputs


def plan_work(sources: Tuple[SourceConfig, ...]) -> List[WorkItem]:
    """Work items for ``ReadProblems``: one per file, or one per source with a ``limit``."""
    items: List[WorkItem] = []
    for index, source in enumerate(sources):
        inputs = source_inputs(source)
        if source.limit == 0:
            continue
        if source.limit is not None:
            items.append((index, tuple(inputs)))
        else:
            items.extend((index, (one,)) for one in inputs)
    return items


def check_sources(sources: Tuple[SourceConfig, ...]) -> List[WorkItem]:
    """Check every source's path before the pipeline starts; return the work plan.

    Raises ValueError naming the source and the path when a path matches no file, a
    ``datasets`` path is no directory, or a file's format can't be told. Source names
    must be unique (they seed the problem ids)."""
    seen = set()
    for source in sources:
        if source.name in seen:
            raise ValueError(f"source {source.name!r}: two sources have this name")
        seen.add(source.name)
    return plan_work(sources)


# -- readers -------------------------------------------------------------------

def read_generator(source: SourceConfig, seed: int) -> Iterator[ReadItem]:
    """Problems from ``transforms.ingest.generators``, seeded per source; the line is the index + 1.

    The generator's seed is ``derive_seed(seed, "generator", source.name)``, so two
    sources using the same generator don't produce the same problems."""
    from transforms.ingest.generators import generate_problems

    file = f"generator:{source.generator}"
    gen_seed = derive_seed(seed, "generator", source.name)
    records = generate_problems(source.generator, source.count, gen_seed, tuple(source.difficulty))
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


# -- mapping: record → Problem --------------------------------------------------

#: Candidate input fields per preset, tried in order; explicit ``fields:`` replace them.
_COMMON = {"id": ("id", "unique_id"), "difficulty": ("difficulty", "level")}
_PRESET_FIELDS: Dict[str, Dict[str, Tuple[str, ...]]] = {
    "gsm8k": {"prompt": ("question",), "solution": ("answer",), "id": ("id",)},
    "math": {**_COMMON, "prompt": ("problem",), "answer": ("answer",), "solution": ("solution",)},
    "answer": {**_COMMON, "prompt": ("question", "problem", "prompt"), "answer": ("answer",)},
    "mcq": {**_COMMON, "prompt": ("question",), "choices": ("choices",), "answer": ("answer", "label")},
}
_GENERATOR_FIELDS = {
    "prompt": ("prompt",), "answer": ("answer",), "id": ("id",), "difficulty": ("difficulty",)
}
_MAPPED = tuple(f.name for f in dataclasses.fields(FieldMapping))


def field_candidates(source: SourceConfig) -> Dict[str, Tuple[str, ...]]:
    """For each FieldMapping slot, the input fields to try (no preset means ``answer``)."""
    base = _GENERATOR_FIELDS if source.is_generator else _PRESET_FIELDS[source.preset or "answer"]
    out = {slot: base.get(slot, ()) for slot in _MAPPED}
    for slot in _MAPPED:
        explicit = getattr(source.fields, slot)
        if explicit:
            out[slot] = (explicit,)
    return out


def _lookup(record: dict, candidates: Tuple[str, ...]) -> Tuple[str, Any]:
    """(field name, value) of the first candidate present with a non-blank value, else (names, None)."""
    for name in candidates:
        value = record.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        return name, value
    return "|".join(candidates), None


def _scalar_text(field: str, value: Any) -> str:
    """A string or a number as text (integral floats without ".0"); a one-item list is unwrapped."""
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRecord(field, "wrong_type", f"expected a string or a number, got {type(value).__name__}")
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)


def gold_from_solution(text: str) -> Optional[str]:
    """The final answer of a worked solution.

    The text after the last ``#### `` (GSM8K style, commas removed), else the last ``\\boxed{}``."""
    if "####" in text:
        return text.rpartition("####")[2].strip().replace(",", "") or None
    boxed = boxed_contents(text)
    return boxed[-1] if boxed else None


def _gold_answer(record: dict, fields: Dict[str, Tuple[str, ...]], source: SourceConfig) -> Optional[str]:
    """The gold answer: the answer field, else the solution's final answer.

    Missing from a record is an error for reasoning sources (nothing to verify
    against) and None for knowledge sources."""
    name, value = _lookup(record, fields["answer"])
    if value is not None:
        return _scalar_text(name, value)
    sol_name, solution = _lookup(record, fields["solution"])
    if solution is not None:
        if not isinstance(solution, str):
            raise BadRecord(sol_name, "wrong_type", f"expected a string, got {type(solution).__name__}")
        gold = gold_from_solution(solution)
        if gold is None:
            raise BadRecord(sol_name, "bad_value", "no '#### ' final answer or \\boxed{} in it")
        return gold
    if source.kind == "knowledge":
        return None
    wanted = "|".join(fields["answer"] + fields["solution"])
    raise BadRecord(wanted, "missing_field", "no gold answer")


def _choice_letter(field: str, value: Any, count: int) -> str:
    """An option index (int) or letter ("A".."Z") → the option's letter."""
    if isinstance(value, bool):
        raise BadRecord(field, "wrong_type", "expected an option index or letter, got bool")
    if isinstance(value, int):
        if not 0 <= value < count:
            raise BadRecord(field, "bad_value", f"option index {value} out of range for {count} choices")
        return _LETTERS[value]
    if isinstance(value, str):
        letter = value.strip().upper()
        if len(letter) == 1 and letter in _LETTERS[:count]:
            return letter
        raise BadRecord(field, "bad_value", f"{value!r} is not an option letter A-{_LETTERS[count - 1]}")
    raise BadRecord(field, "wrong_type", f"expected an option index or letter, got {type(value).__name__}")


def _multiple_choice(record: dict, fields: Dict[str, Tuple[str, ...]], source: SourceConfig, question: str):
    """(prompt listing the options, choices, gold letter or None) of a multiple-choice record."""
    name, choices = _lookup(record, fields["choices"])
    if choices is None:
        raise BadRecord(name, "missing_field", "no choices")
    if not isinstance(choices, (list, tuple)):
        raise BadRecord(name, "wrong_type", f"expected a list, got {type(choices).__name__}")
    if not 2 <= len(choices) <= len(_LETTERS):
        raise BadRecord(name, "bad_value", f"expected 2 to {len(_LETTERS)} choices, got {len(choices)}")
    options = [_scalar_text(name, choice) for choice in choices]
    prompt = question + "\n\n" + "\n".join(f"{_LETTERS[i]}. {text}" for i, text in enumerate(options))
    answer_name, answer = _lookup(record, fields["answer"])
    if answer is not None:
        gold = _choice_letter(answer_name, answer, len(options))
    elif source.kind == "knowledge":
        gold = None
    else:
        raise BadRecord(answer_name, "missing_field", "no gold answer")
    return prompt, options, gold


def _question(record: dict, fields: Dict[str, Tuple[str, ...]]) -> str:
    name, value = _lookup(record, fields["prompt"])
    if value is None:
        raise BadRecord(name, "missing_field", "no prompt")
    if not isinstance(value, str):
        raise BadRecord(name, "wrong_type", f"expected a string, got {type(value).__name__}")
    return value.strip()


def _optional_text(record: dict, candidates: Tuple[str, ...]) -> Optional[str]:
    name, value = _lookup(record, candidates)
    return None if value is None else _scalar_text(name, value)


def _tests_text(record: dict, candidates: Tuple[str, ...]) -> Optional[str]:
    _, value = _lookup(record, candidates)
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _metadata(record: dict, fields: Dict[str, Tuple[str, ...]]) -> Optional[str]:
    """JSON of the input fields no mapping slot names; a ``metadata`` dict is merged in.

    Long strings are truncated so the metadata stays small."""
    mapped = {name for names in fields.values() for name in names}
    extra = {k: v for k, v in record.items() if k not in mapped and v is not None}
    nested = extra.pop("metadata", None)
    if isinstance(nested, dict):
        extra.update(nested)
    elif nested is not None:
        extra["metadata"] = nested
    if not extra:
        return None
    small = {k: truncate(v, MAX_METADATA_VALUE_CHARS) if isinstance(v, str) else v for k, v in extra.items()}
    return json.dumps(small, ensure_ascii=False, sort_keys=True, default=str)


def _file_label(file: str) -> str:
    return posixpath.basename(file.rstrip("/"))


def to_problem(
    record: dict, source: SourceConfig, file: str, line: int, seed: int, config_hash: str
) -> Problem:
    """Map one input record to a Problem (raises BadRecord when the record can't be used).

    ``source_id`` is the record's id field when mapped and present, else
    ``"<basename(file)>:<line>"``; ``problem_id = stable_hash(source.name, source_id)``."""
    fields = field_candidates(source)
    question = _question(record, fields)
    if fields["choices"]:
        prompt, choices, gold = _multiple_choice(record, fields, source, question)
    else:
        prompt, choices, gold = question, [], _gold_answer(record, fields, source)
    source_id = _optional_text(record, fields["id"]) or f"{_file_label(file)}:{line}"
    return Problem(
        problem_id=stable_hash(source.name, source_id),
        source=source.name,
        source_id=source_id,
        domain=_optional_text(record, fields["domain"]) or source.domain,
        kind=source.kind,
        prompt=prompt,
        reference_answer=gold,
        choices=choices,
        tests=_tests_text(record, fields["tests"]),
        difficulty=_optional_text(record, fields["difficulty"]),
        language=source.language,
        metadata=_metadata(record, fields),
        seed=seed,
        config_hash=config_hash,
        schema_version=SCHEMA_VERSION,
    )


def _record_payload(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True, default=str)


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
        for file, line, raw in read_input(fmt, path, source, config, seed):
            if isinstance(raw, ReadError):
                yield make_dead_letter(
                    STAGE, "read", raw.error, file=file, line=line, payload=raw.payload,
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


class _ReadWorkItem(beam.DoFn):
    """One work item → Problems (main output) and DeadLetters (``dead``), counted."""

    def __init__(self, sources, config, seed, config_hash):
        self.sources = sources
        self.config = config
        self.seed = seed
        self.config_hash = config_hash

    def setup(self):
        self.lines = beam.metrics.Metrics.counter(STAGE, "ingest_lines")
        self.problems = beam.metrics.Metrics.counter(STAGE, "ingest_problems")
        self.dead_letters = beam.metrics.Metrics.counter(STAGE, "ingest_dead_letters")

    def process(self, item):
        for out in ingest_work_item(item, self.sources, self.config, self.seed, self.config_hash):
            self.lines.inc()
            if isinstance(out, DeadLetter):
                self.dead_letters.inc()
                yield beam.pvalue.TaggedOutput(DEAD, out)
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
            | "ReadAndMap"
            >> beam.ParDo(_ReadWorkItem(self.sources, self.config, self.seed, self.config_hash))
            .with_output_types(Problem, **{DEAD: DeadLetter})
            .with_outputs(DEAD, main="kept")
        )
        kept = read.kept | "Reshuffle" >> beam.Reshuffle()
        rejected = pbegin | "NoRejections" >> beam.Create([]).with_output_types(Rejection)
        return StageOutputs(kept=kept, rejected=rejected, dead=read[DEAD])
