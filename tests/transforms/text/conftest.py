"""Fixtures of the text tests: the language identifier, loaded once per module."""
import pytest

from transforms.text.language import LanguageIdentifier


@pytest.fixture(scope="module")
def identifier():
    return LanguageIdentifier().load()
