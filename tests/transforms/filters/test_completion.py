"""Completion rules: truncation, verdict and token-length bounds."""
import re

import pytest

from tests.traces import en_trace
from transforms.filters.completion import check_length, token_lengths
from transforms.filters.config import FilterConfig


@pytest.mark.parametrize("config, fields, expected", [
    (FilterConfig(), {}, None),
    (FilterConfig(max_reasoning_tokens=20), {}, "reasoning_too_long"),
    (FilterConfig(min_reasoning_tokens=10_000), {}, "reasoning_too_short"),
    (FilterConfig(max_prompt_tokens=5), {"prompt_tokens": 6}, "prompt_too_long"),
    (FilterConfig(max_prompt_tokens=5), {"prompt_tokens": 0}, "prompt_too_long"),  # estimated from the text
    (FilterConfig(min_answer_tokens=50), {}, "answer_too_short"),
    (FilterConfig(max_answer_tokens=3), {}, "answer_too_long"),
])
def test_length_bounds(config, fields, expected):
    measured = check_length(en_trace(**fields), config)
    assert measured.reason == expected
    if expected:
        assert re.search(r"\d+ tokens [<>] (min|max)_\w+_tokens \d+", measured.detail)


def test_token_lengths_use_the_records_counts():
    tokens, method = token_lengths(en_trace(prompt_tokens=40, completion_tokens=300))
    assert method == "counted"
    assert tokens["prompt"] == 40 and tokens["reasoning"] + tokens["answer"] == 300
    assert tokens["reasoning"] > 10 * tokens["answer"]
