"""What each stage shows while it runs (:mod:`pipelines.progress`), with the totals the
launcher knows before the pipeline starts. The keys are those the stages' progress
taps report (:func:`transforms.core.progress.tap`):

* sample: ``prompts`` and ``rollouts`` (``Sample/Progress``, per model batch), of the
  records the sources hold (the ingest plan) and that × ``sample.n`` (an imported SFT row
  is one rollout); with tokens/s and the cost so far;
* curate: ``verified`` (rollouts into ``Verify``) and ``filtered`` (rollouts out of
  ``Verify`` into ``Filter``, or rejected or dead-lettered before it), of the rows of
  the sample manifest's rollouts;
* mix: ``examples`` (curated rollouts into ``Mix``), of the curate manifest's curated
  rows; with journeys, ``journeys`` (wrong attempts decided: built, rejected or
  dead-lettered, reported by the step that decided), of the wrong attempts
  ``mix.journey.wrong_verdicts`` takes (read from the curate stage's columns); with a
  teacher, its ``requests`` (journey probes and reflections, no total), tokens/s and
  the cost so far.
"""
from __future__ import annotations

import types
from typing import List

from pipelines.config import RunConfig
from pipelines.progress import Meter
from transforms.core import io as rio
from transforms.ingest.config import SFT_PRESETS
from transforms.ingest.planning import planned_records
from transforms.mix.attempts import takes_attempt


def sample(config: RunConfig) -> List[Meter]:
    problems = planned_records(config.sources)
    # an imported SFT row is one rollout (its own answer), whatever n is
    imported = planned_records(tuple(s for s in config.sources if s.preset in SFT_PRESETS))
    rollouts = None if problems is None or imported is None else (problems - imported) * config.sample.n + imported
    return [Meter("prompts", "prompts", problems), Meter("rollouts", "rollouts", rollouts)]


def curate(rollouts: int) -> List[Meter]:
    return [Meter("verified", "verified", rollouts), Meter("filtered", "filtered", rollouts)]


def taken_attempts(config: RunConfig, wrong_files: List[str]) -> int:
    """How many of the curate stage's wrong attempts journeys will take (read from columns)."""
    rows = rio.read_columns(wrong_files, ["verdict", "finish_reason", "kind"]) if wrong_files else []
    return sum(takes_attempt(types.SimpleNamespace(**row), config.mix.journey) for row in rows)


def mix(config: RunConfig, curated: int, wrong_files: List[str]) -> List[Meter]:
    meters = [Meter("examples", "examples", curated)]
    if wrong_files:
        meters.append(Meter("journeys", "journeys", taken_attempts(config, wrong_files)))
        if config.mix.journey.needs_teacher:
            meters.append(Meter("requests", "teacher requests"))
    return meters
