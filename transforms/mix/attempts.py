"""Wrong attempts: the curate stage's verified-wrong rollouts that journeys start from.

A wrong attempt is a reasoning VerifiedRollout the curate stage rejected, whose
verdict is one of ``JourneyConfig.wrong_verdicts`` and which was not cut off (finish
reason ``stop``).

The hand-off is typed: while journeys are on, the curate pipeline writes its wrong
attempts as an output of their own, :data:`WRONG_ATTEMPTS` (VerifiedRollout rows),
reading each rejection's payload once, in the pipeline. They are a copy of some of its
rejected rows for the mix stage, not a fate of their own (the curate accounting counts
them as rejected). The mix stage reads them as records; no launcher re-reads rejection
payloads.
"""
from __future__ import annotations

import functools
import json
from typing import List, Optional

from schemas.records import VerifiedRollout, from_dict
from transforms.mix.examples import is_row_of
from transforms.mix.journey_config import JourneyConfig

#: The curate stage's output of wrong attempts (and the curate accounting line's key).
WRONG_ATTEMPTS = "wrong_attempts"


def rejected_rollout(rejection) -> Optional[VerifiedRollout]:
    """The VerifiedRollout a Rejection carries, or None when it carries another record.

    The payload is recognised by its fields (``record_type`` may name a runner-generated
    class)."""
    row = json.loads(rejection.payload)
    return from_dict(VerifiedRollout, row) if is_row_of(VerifiedRollout, row) else None


def rejected_rollouts(rejection) -> List[VerifiedRollout]:
    """``rejected_rollout`` as a list (empty or one rollout), for ``beam.FlatMap``."""
    found = rejected_rollout(rejection)
    return [found] if found is not None else []


def is_wrong_attempt(rollout, config: JourneyConfig) -> bool:
    """True for a rejected rollout journeys take: reasoning, a wrong verdict, not cut off."""
    return rollout.verdict in config.wrong_verdicts and rollout.finish_reason == "stop" \
        and rollout.kind == "reasoning"


def wrong_attempt(rejection, config: JourneyConfig) -> Optional[VerifiedRollout]:
    """The wrong attempt a curate Rejection carries, or None when it is not one."""
    if rejection.stage != "curate":
        return None
    rollout = rejected_rollout(rejection)
    return rollout if rollout is not None and is_wrong_attempt(rollout, config) else None


def selection(config) -> Optional[dict]:
    """What decides the wrong attempts under a journey config (None: journeys off, none
    written). ``config``: a JourneyConfig, or one as a dict (from a manifest's config).

    The mix stage compares its own with the curate run's, so it never takes wrong
    attempts selected under another config."""
    get = config.get if isinstance(config, dict) else functools.partial(getattr, config)
    return {"wrong_verdicts": list(get("wrong_verdicts"))} if get("share") > 0 else None
