"""Sandboxes that really run here (bubblewrap), recording every run."""
import os
import shutil

import pytest

from transforms.verify.sandbox.config import SandboxConfig
from transforms.verify.sandbox.runner import Sandbox


class RecordingSandbox(Sandbox):
    """A Sandbox that keeps every RunResult, so the test can look at the outputs."""

    def __init__(self, config):
        super().__init__(config)
        self.runs = []

    def run(self, *args, **kwargs):
        result = super().run(*args, **kwargs)
        self.runs.append(result)
        return result


def _working_sandbox(config) -> "RecordingSandbox":
    """A sandbox that runs here: skipped without bubblewrap (the Makefile installs it)
    or where bubblewrap itself may not create namespaces (its own "bwrap: …" error,
    e.g. an unprivileged container), failed for anything else."""
    if shutil.which(config.bwrap) is None:
        pytest.skip("bubblewrap is not installed (make sandbox)")
    box = RecordingSandbox(config)
    problem = box.unavailable()
    if problem and "bwrap:" in problem and not os.environ.get("REQUIRE_SANDBOX"):
        pytest.skip(problem)
    assert problem is None
    return box


@pytest.fixture(scope="session")
def working_sandbox():
    """:func:`_working_sandbox`, for tests that need their own limits."""
    return _working_sandbox


@pytest.fixture(scope="module")
def roomy():
    return _working_sandbox(SandboxConfig(timeout_s=10.0))
