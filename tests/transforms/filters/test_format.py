"""Format rules: answer section, think tags, empty reasoning, conflicting boxed answers."""
import time

import pytest

from tests.traces import EN_ANSWER, EN_REASONING, en_trace, zh_trace
from transforms.filters.config import FilterConfig
from transforms.filters.format import check_conflicting_answers, check_think_tags
from transforms.filters.registry import first_failure


def failing(record, rules):
    failure = first_failure(record, rules)
    return failure[1] if failure else None


@pytest.mark.parametrize("record, expected", [
    (en_trace(), None),
    (zh_trace(), None),
    (en_trace(finish_reason="length"), "truncated"),
    (en_trace(verdict="incorrect"), "incorrect"),
    (en_trace(answer=""), "missing_answer"),
    (en_trace(answer="  \n"), "missing_answer"),
    (en_trace(reasoning=""), "empty_reasoning"),
], ids=["en-clean", "zh-clean", "truncated", "incorrect", "no-answer", "blank-answer", "empty-reasoning"])
def test_truncation_and_format(record, expected, rules):
    assert failing(record, rules) == expected


@pytest.mark.parametrize("completion, expected", [
    (f"<think>\n{EN_REASONING}\n</think>\n\n{EN_ANSWER}", None),
    (f"{EN_REASONING}\n</think>\n\n{EN_ANSWER}", None),  # the chat template opened <think>
    (f"{EN_REASONING}\n\n{EN_ANSWER}", None),  # untagged output is allowed unless require_think
    (f"<think>\n{EN_REASONING}\n\n{EN_ANSWER}", "unbalanced_think"),  # never closed
    (f"<think>\n{EN_REASONING}\n</think>\n<think>more</think>\n{EN_ANSWER}", "unbalanced_think"),
    (f"</think>\n{EN_REASONING}\n<think>\n{EN_ANSWER}", "unbalanced_think"),
])
def test_think_tags(completion, expected):
    measured = check_think_tags(en_trace(completion=completion))
    assert measured.reason == expected


def test_require_think_drops_untagged_output():
    config = FilterConfig(require_think=True)
    assert check_think_tags(en_trace(completion=EN_REASONING), config).reason == "missing_think"
    assert check_think_tags(en_trace(), config).reason is None


@pytest.mark.parametrize("answer, expected", [
    ("So the answer is $\\boxed{18}$.", None),
    ("$\\boxed{18}$, that is, $\\boxed{ 18 }$ dollars.", None),  # the same answer twice
    ("$\\boxed{\\dfrac{1}{2}}$ or equivalently $\\boxed{\\frac{1}{2}}$", None),
    ("It is $\\boxed{18}$... no wait, $\\boxed{16}$.", "conflicting_answers"),
    ("(a) $\\boxed{3}$ (b) $\\boxed{5}$", "conflicting_answers"),
])
def test_conflicting_boxed_answers(answer, expected):
    measured = check_conflicting_answers(en_trace(answer=answer))
    assert measured.reason == expected
    if expected:
        assert "2 different boxed answers > 1" in measured.detail


def test_multi_part_answers_can_be_allowed():
    record = en_trace(answer="(a) $\\boxed{3}$ (b) $\\boxed{5}$")
    assert check_conflicting_answers(record, FilterConfig(max_distinct_boxed=2)).reason is None


def test_nested_boxes_are_one_answer_and_linear():
    """A box inside a box is part of its answer. Before, every nested box was copied out
    whole: 20,000 nested boxes were 1.6 GB of contents (issue #17, class 6)."""
    assert check_conflicting_answers(en_trace(answer="$\\boxed{\\boxed{3}}$")).reason is None
    started = time.process_time()
    measured = check_conflicting_answers(en_trace(answer="\\boxed{" * 20_000 + "1" + "}" * 20_000 + " \\boxed{2}"))
    assert measured.reason == "conflicting_answers" and time.process_time() - started < 2.0
