"""Records that flow between stages.

Every record is a ``typing.NamedTuple`` registered with Beam's ``RowCoder`` so it
has a portable schema on every runner. Records are composed of field groups
(a VerifiedRollout is a Rollout's fields plus the verdict's fields); the classes
spell their groups' fields out so type checkers see them, and the import fails if
a class and its groups disagree. The pyarrow schema used for Parquet is derived
from the classes (see ``schemas.arrow``) and pinned by ``schemas/golden/*.json``.

Provenance: every record carries ``source``, ``problem_id`` and ``config_hash``;
generated records add the teacher model, sample index and seeds.
"""

import typing
from typing import List, Optional

import apache_beam as beam

#: Bump when a field is added, removed or changes type (the golden files pin it).
#: 1.1: SftExample.prompt became ``problem`` (TRL reads a "prompt" column as prompt-completion data);
#: SftExample has ``reasoning_tokens_before`` and ``reasoning_tokens_after``.
SCHEMA_VERSION = "1.1"

_Fields = List[typing.Tuple[str, typing.Any]]


class Message(typing.NamedTuple):
    """One chat turn."""

    role: str
    content: str


# -- field groups ------------------------------------------------------------

PROBLEM_FIELDS: _Fields = [
    ("problem_id", str),  # sha256(source, source_id)[:16]
    ("source", str),  # logical source name from config (e.g. "gsm8k")
    ("source_id", str),  # id inside the source: its id field, or "file:line"
    ("domain", str),  # math | code | knowledge
    ("kind", str),  # reasoning | knowledge
    ("prompt", str),  # the question, as the user asks it
    ("reference_answer", Optional[str]),  # gold answer; None when the source has none
    ("choices", List[str]),  # multiple-choice options, [] otherwise
    ("tests", Optional[str]),  # JSON test spec for code problems
    ("difficulty", Optional[str]),
    ("language", Optional[str]),  # BCP-47-ish target language ("en", "zh") if known
    ("metadata", Optional[str]),  # JSON of extra source fields kept for provenance
]

PROVENANCE_FIELDS: _Fields = [
    ("seed", int),  # the run's configured seed
    ("config_hash", str),
    ("schema_version", str),
]

GENERATION_FIELDS: _Fields = [
    ("rollout_id", str),  # sha256(problem_id, prompt text, model, sampling params, index)[:16]
    ("sample_index", int),
    ("sample_seed", int),  # seed the backend was given for this sample
    ("teacher_model", str),
    ("teacher_revision", Optional[str]),
    ("backend", str),  # transformers | vllm | openai | fake
    ("temperature", float),
    ("top_p", float),
    ("max_tokens", int),
    ("completion", str),  # raw model output
    ("reasoning", str),  # thinking part (inside <think> or before the answer)
    ("answer", str),  # final answer part shown to the user
    ("finish_reason", str),  # stop | length | error
    ("prompt_tokens", int),
    ("completion_tokens", int),
    ("latency_s", float),
]

#: Every verdict a verifier gives ("error": a row the file verifier could not read).
VERDICTS = ("correct", "incorrect", "no_answer", "timeout", "unverifiable", "infra_unavailable", "error")

VERDICT_FIELDS: _Fields = [
    ("extracted_answer", Optional[str]),
    ("verdict", str),  # correct | incorrect | no_answer | timeout | infra_unavailable | unverifiable
    ("verifier", str),  # e.g. "math-verify", "countdown", "exact"
    ("verifier_version", str),
    ("verdict_reason", str),
    ("pass_rate", float),  # correct / n over the problem's samples
]


# -- records --------------------------------------------------------------------
# Class syntax (not ``typing.NamedTuple(name, fields)``) so type checkers see the
# fields; each class spells out its field groups in order, and ``_check_groups``
# below fails the import if a class and its groups ever disagree.


class Problem(typing.NamedTuple):
    """A prompt with its gold answer, as ingested from a source."""

    # PROBLEM_FIELDS
    problem_id: str
    source: str
    source_id: str
    domain: str
    kind: str
    prompt: str
    reference_answer: Optional[str]
    choices: List[str]
    tests: Optional[str]
    difficulty: Optional[str]
    language: Optional[str]
    metadata: Optional[str]
    # PROVENANCE_FIELDS
    seed: int
    config_hash: str
    schema_version: str


class Rollout(typing.NamedTuple):
    """One sampled completion of a Problem (one per sample index)."""

    # PROBLEM_FIELDS
    problem_id: str
    source: str
    source_id: str
    domain: str
    kind: str
    prompt: str
    reference_answer: Optional[str]
    choices: List[str]
    tests: Optional[str]
    difficulty: Optional[str]
    language: Optional[str]
    metadata: Optional[str]
    # GENERATION_FIELDS
    rollout_id: str
    sample_index: int
    sample_seed: int
    teacher_model: str
    teacher_revision: Optional[str]
    backend: str
    temperature: float
    top_p: float
    max_tokens: int
    completion: str
    reasoning: str
    answer: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    # PROVENANCE_FIELDS
    seed: int
    config_hash: str
    schema_version: str


class VerifiedRollout(typing.NamedTuple):
    """A Rollout with its verification verdict."""

    # PROBLEM_FIELDS
    problem_id: str
    source: str
    source_id: str
    domain: str
    kind: str
    prompt: str
    reference_answer: Optional[str]
    choices: List[str]
    tests: Optional[str]
    difficulty: Optional[str]
    language: Optional[str]
    metadata: Optional[str]
    # GENERATION_FIELDS
    rollout_id: str
    sample_index: int
    sample_seed: int
    teacher_model: str
    teacher_revision: Optional[str]
    backend: str
    temperature: float
    top_p: float
    max_tokens: int
    completion: str
    reasoning: str
    answer: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    # VERDICT_FIELDS
    extracted_answer: Optional[str]
    verdict: str
    verifier: str
    verifier_version: str
    verdict_reason: str
    pass_rate: float
    # PROVENANCE_FIELDS
    seed: int
    config_hash: str
    schema_version: str


class SftExample(typing.NamedTuple):
    """A training example in the final corpus."""

    example_id: str
    kind: str  # reasoning | knowledge
    journey: Optional[str]  # None, or the journey-learning construction
    messages: List[Message]  # user turn, assistant turn "<think>…</think>answer"
    problem: str  # the user turn's text; not "prompt", which TRL reads as prompt-completion data
    reasoning: str
    answer: str
    reference_answer: Optional[str]
    extracted_answer: Optional[str]
    verdict: str
    verifier: str
    source: str
    source_id: str
    domain: str
    difficulty: Optional[str]
    language: Optional[str]
    problem_id: str
    rollout_ids: List[str]  # the rollouts the example was built from
    teacher_model: str
    sample_index: int
    sample_seed: int
    prompt_tokens: int
    completion_tokens: int
    pass_rate: float
    reasoning_tokens_before: int  # estimated thinking tokens as sampled
    reasoning_tokens_after: int  # … in the example (fewer when mix.prune cut re-checks)
    # PROVENANCE_FIELDS
    seed: int
    config_hash: str
    schema_version: str


class Rejection(typing.NamedTuple):
    """A record dropped on purpose, with the stage and the reason."""

    record_id: str  # id of the rejected record (problem, rollout or example id)
    record_type: str  # Problem | Rollout | VerifiedRollout | SftExample
    problem_id: str
    source: str
    stage: str  # ingest | sample | curate | mix
    step: str  # transform inside the stage (e.g. "filter_truncation")
    reason: str  # snake_case reason (e.g. "truncated", "incorrect")
    detail: str  # human-readable numbers behind the decision
    payload: str  # the record as JSON, so nothing is lost
    config_hash: str
    schema_version: str


class DeadLetter(typing.NamedTuple):
    """A record that failed with an error, kept with the error instead of being lost."""

    record_id: str  # id of the failed record, or "file:line" for input lines
    stage: str
    step: str
    file: Optional[str]
    line: Optional[int]  # 1-based line (JSONL) or row index + 1 (Parquet, datasets)
    field: Optional[str]
    error: str  # the reason, e.g. "invalid_json: Expecting value (col 3)"
    payload: str  # the raw input, truncated to a few KB
    config_hash: str
    schema_version: str


def _check_groups() -> None:
    """Each record is its field groups in order (the groups are the documented composition)."""
    composed = {
        Problem: PROBLEM_FIELDS + PROVENANCE_FIELDS,
        Rollout: PROBLEM_FIELDS + GENERATION_FIELDS + PROVENANCE_FIELDS,
        VerifiedRollout: PROBLEM_FIELDS + GENERATION_FIELDS + VERDICT_FIELDS + PROVENANCE_FIELDS,
    }
    for cls, fields in composed.items():
        if list(cls.__annotations__.items()) != fields:
            raise TypeError(f"{cls.__name__}'s fields differ from its field groups")
    for cls in (SftExample, Rejection, DeadLetter):
        if list(cls.__annotations__.items())[-2:] != PROVENANCE_FIELDS[-2:]:
            raise TypeError(f"{cls.__name__} does not end with config_hash, schema_version")


_check_groups()

RECORD_TYPES = {
    cls.__name__: cls
    for cls in (Problem, Rollout, VerifiedRollout, SftExample, Rejection, DeadLetter)
}
for _cls in RECORD_TYPES.values():
    beam.coders.registry.register_coder(_cls, beam.coders.RowCoder)
del _cls


def to_dict(record) -> dict:
    """A record as plain Python (nested Messages become dicts), for Parquet and JSON."""
    out = record._asdict()
    for key, value in out.items():
        if isinstance(value, list) and value and hasattr(value[0], "_asdict"):
            out[key] = [v._asdict() for v in value]
    return out


def from_dict(cls, row: dict):
    """Build ``cls`` from a Parquet/JSON row (missing optional fields become None)."""
    values = {}
    for name, typ in cls.__annotations__.items():
        value = row.get(name)
        if name == "messages" and value is not None:
            value = [m if isinstance(m, Message) else Message(**m) for m in value]
        elif value is None and typing.get_origin(typ) is list:
            value = []
        values[name] = value
    return cls(**values)


def project(cls, record, **overrides):
    """Copy the fields ``cls`` shares with ``record`` and set ``overrides``."""
    src = record._asdict()
    src.update(overrides)
    return cls(**{name: src[name] for name in cls._fields})
