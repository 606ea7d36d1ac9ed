"""Fixtures shared by the journey tests."""
import pytest

from transforms.mix.journey import make_checker
from transforms.verify.mathcheck import MathVerifierProcess


@pytest.fixture(scope="module")
def check():
    """A Checker backed by a math-verify child process (one per test module)."""
    verifier = MathVerifierProcess()
    yield make_checker(verifier)
    verifier.close()
