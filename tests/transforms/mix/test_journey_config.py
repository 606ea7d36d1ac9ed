"""The journey config and its checks."""
import pytest

from transforms.mix.journey_config import JourneyConfig


@pytest.mark.parametrize("kwargs, message", [
    ({"modes": ("splice", "rewrite")}, "modes"), ({"modes": ()}, "modes"), ({"share": 1.5}, "share"),
    ({"wrong_verdicts": ("correct",)}, "wrong_verdicts"), ({"wrong_verdicts": ("wrong",)}, "unknown verdict"), ({"continuations": 0}, "continuations"),
    ({"transitions": ("",)}, "transitions"),
])
def test_bad_journey_configs_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        JourneyConfig(**kwargs)
