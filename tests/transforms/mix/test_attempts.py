"""Which of the curate stage's wrong attempts journeys take: mix's own ``wrong_verdicts``."""
import pytest

from tests.transforms.mix.test_journey_build import correct, wrong
from transforms.mix.attempts import takes_attempt
from transforms.mix.journey_config import JourneyConfig
from transforms.verify.attempts import is_wrong_attempt


@pytest.mark.parametrize("record, config, taken", [
    (wrong(), JourneyConfig(), True),
    (wrong(verdict="no_answer"), JourneyConfig(), False),  # not in wrong_verdicts by default
    (wrong(verdict="no_answer"), JourneyConfig(wrong_verdicts=("incorrect", "no_answer")), True),
    (wrong(), JourneyConfig(wrong_verdicts=("no_answer",)), False),
    (wrong(finish_reason="length"), JourneyConfig(), False),  # cut off: not an attempt
    (wrong(kind="knowledge"), JourneyConfig(), False),
    (correct(), JourneyConfig(), False),
])
def test_journeys_take_their_own_wrong_verdicts(record, config, taken):
    assert takes_attempt(record, config) is taken


def test_what_journeys_take_is_among_what_curate_hands_on():
    records = [wrong(verdict=v) for v in ("incorrect", "no_answer", "timeout", "unverifiable")]
    records += [wrong(finish_reason="length"), wrong(kind="knowledge"), correct()]
    for verdicts in (("incorrect",), ("incorrect", "no_answer"), ("timeout", "unverifiable", "error")):
        config = JourneyConfig(wrong_verdicts=verdicts)
        taken = [r for r in records if takes_attempt(r, config)]
        assert taken and all(is_wrong_attempt(r) for r in taken)
