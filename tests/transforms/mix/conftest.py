"""Fixtures shared by the journey tests."""
import pytest

from transforms.verify.checker import AnswerChecker


@pytest.fixture(scope="module")
def check():
    """The checker the mix launcher injects (a math-verify child process, one per test module)."""
    checker = AnswerChecker()
    checker.setup()
    yield checker
    checker.teardown()
