"""Wrong attempts: which curate rejections the curate stage hands on (every wrong verdict),
recognised by their fields."""
import json

import pytest

from schemas.records import VERDICTS, SftExample, VerifiedRollout
from tests.factories import verified
from tests.transforms.mix.test_journey_build import correct, wrong
from transforms.core import is_row_of, make_rejection
from transforms.mix.examples import to_example
from transforms.mix.journey_config import JourneyConfig
from transforms.verify.attempts import (
    WRONG_VERDICTS,
    is_wrong_attempt,
    rejected_rollout,
    rejected_rollouts,
    wrong_attempt,
)


def _rejection(record, stage="curate"):
    return make_rejection(record, stage, "filter_verdict", record.verdict)


@pytest.mark.parametrize("record, stage, taken", [
    (wrong(), "curate", True),
    (wrong(verdict="no_answer"), "curate", True),  # every wrong verdict, whatever mix will take
    (wrong(verdict="timeout"), "curate", True),
    (wrong(finish_reason="length"), "curate", False),  # cut off: not an attempt
    (wrong(kind="knowledge"), "curate", False),
    (correct(), "curate", False),  # dropped for another reason, but correct
    (wrong(), "mix", False),
])
def test_wrong_attempts_come_from_curate_rejections(record, stage, taken):
    assert (wrong_attempt(_rejection(record, stage)) is not None) is taken
    if stage == "curate":  # the curate pipeline's filter over its rejected rollouts says the same
        assert is_wrong_attempt(rejected_rollout(_rejection(record))) is taken


def test_curate_hands_on_every_verdict_a_journey_config_may_take():
    assert set(WRONG_VERDICTS) == set(VERDICTS) - {"correct"}
    JourneyConfig(wrong_verdicts=WRONG_VERDICTS)  # the most a journey config may take
    with pytest.raises(ValueError):
        JourneyConfig(wrong_verdicts=WRONG_VERDICTS + ("correct",))
    assert all(is_wrong_attempt(wrong(verdict=v)) for v in WRONG_VERDICTS)


def test_wrong_attempt_ignores_the_record_type_name():
    rejection = _rejection(wrong())._replace(record_type="BeamSchema_0f3a")
    assert wrong_attempt(rejection) == wrong()


def test_rejections_are_recognised_by_their_fields():
    ex = to_example(verified())
    rejection = make_rejection(ex, "mix", "select_quota", "over_quota")
    assert is_row_of(SftExample, json.loads(rejection.payload))
    assert rejected_rollout(rejection) is None and rejected_rollouts(rejection) == []  # an example
    other = make_rejection(verified(), "curate", "filter_verdict", "incorrect")
    assert rejected_rollout(other._replace(record_type="BeamSchema_1234")) == verified()
    assert rejected_rollouts(other) == [verified()]
    assert not is_row_of(SftExample, json.loads(other.payload))
    assert is_row_of(VerifiedRollout, json.loads(other.payload))
