"""VerifyConfig: defaults and the checks of its values."""
import pytest

from transforms.verify.config import VerifyConfig
from transforms.verify.judge import JudgeConfig
from transforms.verify.sandbox.config import SandboxConfig


def test_defaults():
    config = VerifyConfig()
    assert (config.min_pass_rate, config.max_pass_rate, config.majority_vote) == (0.0, 1.0, False)
    assert config.code == SandboxConfig() and config.judge == JudgeConfig()


@pytest.mark.parametrize("values", [
    {"timeout_s": 0}, {"start_timeout_s": -1}, {"memory_limit_mb": -1}, {"majority_min_share": 1.5},
    {"knowledge_f1_correct": 0.3, "knowledge_f1_incorrect": 0.3}, {"min_pass_rate": 0.6, "max_pass_rate": 0.5},
    {"majority_min_samples": 1}, {"knowledge_rel_tol": -0.1},
])
def test_bad_values_are_refused(values):
    with pytest.raises(ValueError):
        VerifyConfig(**values)
