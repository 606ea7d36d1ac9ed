"""What verifies a problem: the methods a source may name (``sources[].verify``),
shared by ingest (which fields a method needs, stamped on each problem) and curate
(which route gives the verdict).

A source's method is its ``verify:`` setting, else its preset's default (code
presets: ``tests``; the others: ``gold``). Every method but ``gold`` is written into
the problem's metadata under :data:`METADATA_KEY`; a problem without it is verified
as before the setting existed (its reference answer, or its tests when it has some).

To add a method: add a :class:`VerifyMethod` to :data:`METHODS` here, and give it a
route in ``transforms/verify/dispatch.py`` (``ROUTES``); a test checks every method
has one."""
from __future__ import annotations

import dataclasses
import types
from typing import Mapping

#: The metadata key a problem's method is stamped under.
METADATA_KEY = "verify"
#: Where ingest keeps a reference answer that a method withholds (majority vote).
WITHHELD_KEY = "withheld_answer"


@dataclasses.dataclass(frozen=True)
class VerifyMethod:
    name: str
    #: the record's reference answer: ``required`` (a reasoning record without one is
    #: dead-lettered, ``missing_field``), ``optional`` (used when present), ``withheld``
    #: (never shown to the verifier; kept in the metadata as ``withheld_answer``) or
    #: ``unused`` (not read)
    reference: str
    #: the record must have tests (else dead-lettered, ``missing_field``)
    needs_tests: bool = False
    #: curate's judge must be on (``curate.verify.judge.enabled``), checked at load
    needs_judge: bool = False
    description: str = ""

    def __post_init__(self):
        if self.reference not in ("required", "optional", "withheld", "unused"):
            raise ValueError(f"verify method {self.name!r}: bad reference rule {self.reference!r}")


#: Every method, by name (read-only).
METHODS: Mapping[str, VerifyMethod] = types.MappingProxyType({m.name: m for m in (
    VerifyMethod("gold", "required", description="the reference answer (maths, multiple choice, short answers)"),
    VerifyMethod("tests", "optional", needs_tests=True, description="the code's tests, run in the sandbox"),
    VerifyMethod("majority", "withheld", description="a majority vote over the problem's samples"),
    VerifyMethod("judge", "optional", needs_judge=True,
                 description="the LLM judge (with the reference when the record has one)"),
    VerifyMethod("none", "optional", description="nothing: every answer is kept unverifiable"),
)})


def verify_method(name: str) -> VerifyMethod:
    """The method named ``name``; ValueError naming the known ones otherwise."""
    if name not in METHODS:
        raise ValueError(f"verify: must be one of {', '.join(sorted(METHODS))}, got {name!r}")
    return METHODS[name]
