"""The ordered filter list: which filters a config enables, first failures, plain rules."""
import pytest

from tests.factories import verified
from tests.traces import EN_PARAGRAPH, ZH_REASONING, en_trace, insert_paragraph, zh_trace
from transforms.filters.config import FilterConfig
from transforms.filters.registry import (
    filters_for,
    first_failure,
    missing_answer,
    rules_for,
    truncated,
    verdict_not_kept,
)


def test_switched_off_filters_are_not_run():
    names = [f.name for f in filters_for(FilterConfig(check_language=False, max_paragraph_words=0,
                                                        tail_loop_min_repeats=0, code_free_domains=()))]
    assert "language" not in names and "paragraphs" not in names and "tail_loop" not in names
    assert "code" not in names and names[:3] == ["truncation", "verdict", "answer"]


def test_rule_objects_are_plain_functions_of_a_record(rules):
    step, rule = rules[-1]
    assert step == "filter_language"
    assert rule(en_trace()) is None
    assert rule(zh_trace(reasoning=insert_paragraph(ZH_REASONING, EN_PARAGRAPH)))[0] == "language_mixing"


@pytest.mark.parametrize("fields, expected", [
    ({}, None),
    ({"finish_reason": "length"}, ("filter_truncation", "truncated")),
    ({"finish_reason": "length", "verdict": "incorrect"}, ("filter_truncation", "truncated")),
    ({"verdict": "incorrect"}, ("filter_verdict", "incorrect")),
    ({"verdict": "no_answer", "answer": ""}, ("filter_verdict", "no_answer")),
    ({"verdict": "timeout"}, ("filter_verdict", "timeout")),
    ({"answer": "  "}, ("filter_format", "missing_answer")),
])
def test_filter_rules(fields, expected):
    failure = first_failure(verified(**fields), rules_for(FilterConfig()))
    assert (failure[:2] if failure else None) == expected


def test_filters_can_be_switched_off():
    rules = rules_for(FilterConfig(drop_truncated=False, require_answer=False,
                                   keep_verdicts=("correct", "incorrect")))
    assert first_failure(verified(finish_reason="length", verdict="incorrect", answer=""), rules) is None


def test_plain_rules_of_the_first_version():
    assert truncated(verified(finish_reason="length"))[0] == "truncated"
    assert truncated(verified()) is None
    assert missing_answer(verified(answer=" "))[0] == "missing_answer"
    assert verdict_not_kept(("correct", "incorrect"))(verified(verdict="incorrect")) is None
    assert verdict_not_kept(("correct",))(verified(verdict="incorrect"))[0] == "incorrect"
