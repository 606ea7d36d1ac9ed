"""Which wrong attempts journeys take: mix's own choice among those curate hands on.

The curate stage writes every wrong attempt it rejected (a reasoning VerifiedRollout
with any verdict but ``correct``, not cut off: its ``wrong_attempts`` output), whatever
a mix config will take. The mix pipeline reads them and keeps those :func:`takes_attempt`
takes under its own ``JourneyConfig.wrong_verdicts``, counting them itself: that count
is the journey balance's ``in``. The rest are no input of the mix stage (curate
rejected them already), so they are neither rejected nor counted here.
"""
from __future__ import annotations

from transforms.mix.journey_config import JourneyConfig


def takes_attempt(rollout, config: JourneyConfig) -> bool:
    """True for a wrong attempt journeys take: reasoning, one of ``wrong_verdicts``, not cut off."""
    return rollout.verdict in config.wrong_verdicts and rollout.finish_reason == "stop" \
        and rollout.kind == "reasoning"
