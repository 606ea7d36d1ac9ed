"""Wrong attempts: which curate rejections journeys take, recognised by their fields."""
import json

import pytest

from schemas.records import SftExample, VerifiedRollout
from tests.factories import verified
from tests.transforms.mix.test_journey_build import correct, wrong
from transforms.core import make_rejection
from transforms.mix.attempts import (
    is_wrong_attempt,
    rejected_rollout,
    rejected_rollouts,
    selection,
    wrong_attempt,
)
from transforms.mix.examples import is_row_of, to_example
from transforms.mix.journey_config import JourneyConfig


def _rejection(record, stage="curate"):
    return make_rejection(record, stage, "filter_verdict", record.verdict)


@pytest.mark.parametrize("record, stage, taken", [
    (wrong(), "curate", True),
    (wrong(verdict="no_answer"), "curate", False),  # not in wrong_verdicts by default
    (wrong(finish_reason="length"), "curate", False),  # cut off: not an attempt
    (wrong(kind="knowledge"), "curate", False),
    (correct(), "curate", False),  # dropped for another reason, but correct
    (wrong(), "mix", False),
])
def test_wrong_attempts_come_from_curate_rejections(record, stage, taken):
    assert (wrong_attempt(_rejection(record, stage), JourneyConfig()) is not None) is taken
    if stage == "curate":  # the curate pipeline's filter over its rejected rollouts says the same
        assert is_wrong_attempt(rejected_rollout(_rejection(record)), JourneyConfig()) is taken


def test_wrong_attempt_ignores_the_record_type_name():
    rejection = _rejection(wrong())._replace(record_type="BeamSchema_0f3a")
    assert wrong_attempt(rejection, JourneyConfig()) == wrong()


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


def test_selection_is_compared_across_stages():
    on = JourneyConfig(share=0.2, wrong_verdicts=("incorrect", "no_answer"))
    assert selection(on) == {"wrong_verdicts": ["incorrect", "no_answer"]}
    assert selection(JourneyConfig()) is None  # journeys off: none written
    as_dict = {"share": 0.5, "wrong_verdicts": ["incorrect", "no_answer"], "modes": ["reflect"]}
    assert selection(as_dict) == selection(on)  # other journey settings don't change the selection
    assert selection(dict(as_dict, wrong_verdicts=["incorrect"])) != selection(on)
