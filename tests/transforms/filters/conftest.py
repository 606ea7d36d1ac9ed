"""Fixtures of the filter tests: the language identifier, loaded once per module, and the default rule list."""
import pytest

from transforms.filters.config import FilterConfig
from transforms.filters.registry import rules_for
from transforms.text.language import LanguageIdentifier


@pytest.fixture(scope="module")
def identifier():
    return LanguageIdentifier().load()


@pytest.fixture(scope="module")
def rules(identifier):
    return rules_for(FilterConfig(), identifier)
