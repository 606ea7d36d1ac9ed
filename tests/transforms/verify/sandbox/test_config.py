"""SandboxConfig: the checks of its limits; output tails."""
import pytest

from transforms.verify.sandbox.config import SandboxConfig, output_tail


@pytest.mark.parametrize("values", [
    {"timeout_s": 0}, {"rollout_timeout_s": -1}, {"memory_mb": 0}, {"max_tests": 0}, {"nice": 20},
    {"float_tolerance": -1.0},
])
def test_bad_limits_are_refused(values):
    with pytest.raises(ValueError):
        SandboxConfig(**values)


def test_output_tail():
    assert output_tail(b"  abc\xff\n", limit=2) == "c\ufffd"
