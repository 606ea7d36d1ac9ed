"""Fixtures of the verify tests: one math-verify child per test module."""
import os

import pytest

from transforms.verify.mathcheck import MathVerifierProcess

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def verifier():
    with MathVerifierProcess() as process:
        process.start()
        yield process
