"""FilterConfig: errors name the field; loading from a YAML mapping."""
import re

import pytest

from pipelines.config import ConfigError, build_dataclass
from transforms.filters.config import FilterConfig


@pytest.mark.parametrize("kwargs, message", [
    ({"min_target_share": 1.5}, "min_target_share: must be between 0 and 1"),
    ({"max_paragraph_words": -1}, "max_paragraph_words: must be >= 0"),
    ({"min_reasoning_tokens": 10, "max_reasoning_tokens": 5}, "min_reasoning_tokens: 10 is above"),
    ({"max_top_ngram_fractions": (0.2, 0.1)}, "max_top_ngram_fractions: expected 3 fractions"),
    ({"keep_verdicts": ("correct", "corect")}, "keep_verdicts: unknown verdict(s) 'corect'; expected some of correct"),
    ({"target_language": " "}, "target_language: expected a language code"),
    ({"keep_verdicts": ()}, "keep_verdicts"),
])
def test_config_errors_name_the_field(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        FilterConfig(**kwargs)


def test_config_loads_from_yaml_mapping():
    config = build_dataclass(FilterConfig, {"max_top_ngram_fractions": [0.3, 0.25, 0.2], "target_language": "zh",
                                            "min_target_share": 0.9})
    assert config.max_top_ngram_fractions == (0.3, 0.25, 0.2) and config.target_language == "zh"
    with pytest.raises(ConfigError, match="max_foreign_run_words"):
        build_dataclass(FilterConfig, {"max_foreign_run_words": -3})
