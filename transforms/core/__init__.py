"""The shared base of every stage: stable ids, the kept/rejected/dead contract, I/O.

``ids`` and ``records`` are Beam-free; ``stage`` holds the Beam side of the contract."""
from transforms.core.ids import derive_seed, hash_score, stable_hash
from transforms.core.records import (
    MAX_PAYLOAD_CHARS,
    error_text,
    is_row_of,
    make_dead_letter,
    make_rejection,
    record_id_of,
    record_json,
    record_type_name,
    truncate,
)
from transforms.core.stage import DEAD, REJECTED, Dead, Drop, RuleStep, StageOutputs, dropped_counter, merge

__all__ = [
    "DEAD",
    "Dead",
    "Drop",
    "MAX_PAYLOAD_CHARS",
    "REJECTED",
    "RuleStep",
    "StageOutputs",
    "derive_seed",
    "dropped_counter",
    "error_text",
    "hash_score",
    "is_row_of",
    "make_dead_letter",
    "make_rejection",
    "merge",
    "record_id_of",
    "record_json",
    "record_type_name",
    "stable_hash",
    "truncate",
]
