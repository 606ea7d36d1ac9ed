"""Wrong attempts: the rejected VerifiedRollouts the curate stage hands on for journeys.

A wrong attempt is a reasoning VerifiedRollout the curate stage rejected (at any of its
steps) whose verdict is not ``correct`` (:data:`WRONG_VERDICTS`) and which was not cut
off (finish reason ``stop``).

The hand-off is typed and owned by curate: its pipeline writes every wrong attempt as
an output of its own, :data:`WRONG_ATTEMPTS` (VerifiedRollout rows), reading each
rejection's payload once, in the pipeline, whatever a mix config will take from them.
They are a copy of some of its rejected rows, not a fate of their own (the curate
accounting counts them as rejected). The mix stage reads them as records and takes
those its own journey config names (``mix.journey.wrong_verdicts``); no launcher
re-reads rejection payloads.
"""
from __future__ import annotations

import json
from typing import Any, List, Optional

from schemas.records import VERDICTS, VerifiedRollout, from_dict
from transforms.core import is_row_of

#: The curate stage's output of wrong attempts (and the curate accounting line's key).
WRONG_ATTEMPTS = "wrong_attempts"
#: The verdicts of a wrong attempt: every verdict but ``correct``, the most any journey
#: config may take (``JourneyConfig.wrong_verdicts`` allows exactly these).
WRONG_VERDICTS = tuple(v for v in VERDICTS if v != "correct")


def rejected_rollout(rejection) -> Optional[Any]:  # a VerifiedRollout (a class built at run time)
    """The VerifiedRollout a Rejection carries, or None when it carries another record.

    The payload is recognised by its fields (``record_type`` may name a runner-generated
    class)."""
    row = json.loads(rejection.payload)
    return from_dict(VerifiedRollout, row) if is_row_of(VerifiedRollout, row) else None


def rejected_rollouts(rejection) -> List[Any]:
    """``rejected_rollout`` as a list (empty or one rollout), for ``beam.FlatMap``."""
    found = rejected_rollout(rejection)
    return [found] if found is not None else []


def is_wrong_attempt(rollout) -> bool:
    """True for a rejected rollout curate hands on: reasoning, a wrong verdict, not cut off."""
    return rollout.verdict in WRONG_VERDICTS and rollout.finish_reason == "stop" and rollout.kind == "reasoning"


def wrong_attempt(rejection) -> Optional[Any]:
    """The wrong attempt a curate Rejection carries, or None when it is not one."""
    if rejection.stage != "curate":
        return None
    rollout = rejected_rollout(rejection)
    return rollout if rollout is not None and is_wrong_attempt(rollout) else None
