"""Pruning redundant re-checks from correct traces (``mix.prune``): the cut is kept only
when the real curate verifier and filters still pass it; anything else keeps the original
with the reason."""
import pickle

import pytest

from tests.factories import verified
from transforms.filters.config import FilterConfig
from transforms.filters.transform import ApplyFilters
from transforms.mix.examples import to_example
from transforms.mix.prune import PruneConfig, Pruner, with_thinking
from transforms.text.extract import THINK_CLOSE, THINK_OPEN

PARAGRAPHS = [
    "We need the number of apples Tom has after buying some more at the market today.",
    "He starts with four apples and buys five more, so we add four and five to get 9.",
    "Hmm, is that right? Let me count on from four, one apple at a time, to be sure.",
    "Five, six, seven, eight, nine: that is five steps on from four, so the count is 9.",
    "Wait, maybe the problem means something else by buying, like trading apples away.",
    "No, it plainly says he buys them, which only adds to his pile, so the total is 9.",
    "Let me also check it the other way round, by taking away what he bought at the end.",
    "Nine minus five leaves four, which is what he started with, so the answer is 9.",
    "Alternatively, picture two baskets, one holding four apples and the other holding five.",
    "Tipping both baskets into one, the single basket now holds all of them together: 9.",
]
THINKING = "\n\n".join(PARAGRAPHS)
ANSWER = "Tom has \\boxed{9} apples."


def apples(**kw):
    values = dict(prompt="Tom has 4 apples and buys 5 more. How many apples does he have?",
                  reference_answer="9", reasoning=THINKING, answer=ANSWER,
                  completion=f"{THINK_OPEN}\n{THINKING}\n{THINK_CLOSE}\n\n{ANSWER}", extracted_answer="9",
                  completion_tokens=240)
    values.update(kw)
    return verified(**values)


ON = PruneConfig(enabled=True, max_reflections=1, gap=0, min_saving=0.1)


@pytest.fixture(scope="module")
def filters():
    rule = ApplyFilters(FilterConfig())
    rule.setup()
    return rule


def test_a_correct_trace_loses_its_redundant_re_checks(check, filters):
    record = apples()
    assert filters(record) is record and check(record, record.completion)["verdict"] == "correct"
    pruned = Pruner(ON, check, filters)(record)
    assert pruned.reason == "pruned"
    assert pruned.record.reasoning == "\n\n".join(PARAGRAPHS[:4])  # the answer, then one re-check
    assert pruned.record.completion == f"{THINK_OPEN}\n{pruned.record.reasoning}\n{THINK_CLOSE}\n\n{ANSWER}"
    assert pruned.record.answer == ANSWER and pruned.tokens_after < 0.5 * pruned.tokens_before
    assert pruned.record.completion_tokens < 0.6 * record.completion_tokens  # what the length filter reads
    example = to_example(record, pruner=Pruner(ON, check, filters))
    assert (example.reasoning_tokens_before, example.reasoning_tokens_after) == (pruned.tokens_before,
                                                                                 pruned.tokens_after)
    assert PARAGRAPHS[-1] not in example.messages[-1].content and PARAGRAPHS[1] in example.messages[-1].content


@pytest.mark.parametrize("config, record", [
    (PruneConfig(), apples()),                                   # off (the default)
    (ON, apples(verdict="majority", extracted_answer="9")),       # not a verified-correct trace
    (ON, apples(kind="knowledge")),                              # a kind not in prune.kinds
])
def test_nothing_is_touched_unless_on_for_a_correct_trace_of_its_kinds(config, record, check):
    pruned = Pruner(config, check)(record)
    assert pruned.record is record and pruned.reason == "" and pruned.tokens_after == pruned.tokens_before
    example = to_example(record, pruner=Pruner(config, check))
    assert example.reasoning_tokens_after == example.reasoning_tokens_before


def test_a_cut_the_filters_drop_keeps_the_original(check):
    strict = ApplyFilters(FilterConfig(min_reasoning_tokens=150))  # the cut is shorter, the original not
    record = apples()
    assert strict(record) is record
    pruned = Pruner(ON, check, strict)(record)
    assert pruned.record is record and pruned.reason.startswith("filtered_")


def test_a_cut_that_no_longer_verifies_keeps_the_original(check):
    """The answer lives only in the thinking (no answer section): the cut keeps the first
    statement, so it verifies; told the gold is 10, nothing does and the original stays."""
    record = apples(reference_answer="10")
    pruned = Pruner(ON, check)(record)
    assert pruned.record is record and pruned.reason == "unverified"


def test_a_checker_that_fails_keeps_the_original_with_the_error(check):
    def broken(record, text):
        raise RuntimeError("verifier down")
    record = apples()
    pruned = Pruner(ON, broken)(record)
    assert pruned.record is record and pruned.reason == "error: RuntimeError: verifier down"


def test_reasons_for_traces_with_nothing_to_cut(check):
    short = apples(reasoning="4 + 5 = 9.", completion=f"{THINK_OPEN}\n4 + 5 = 9.\n{THINK_CLOSE}\n\n{ANSWER}")
    assert Pruner(ON, check)(short).reason == "few_statements"
    assert Pruner(ON, check)(apples(reasoning="no number here")).reason == "no_statement"
    assert Pruner(ON, check)(apples(extracted_answer="")).reason == "no_answer"


def test_the_pruner_travels_before_setup(check, filters):
    pruner = pickle.loads(pickle.dumps(Pruner(ON, type(check)(), ApplyFilters(FilterConfig()))))
    pruner.setup()
    try:
        assert pruner(apples()).reason == "pruned"
    finally:
        pruner.teardown()


def test_with_thinking_rebuilds_the_completion():
    record = with_thinking(apples(), "short")
    assert record.reasoning == "short" and record.completion.startswith(f"{THINK_OPEN}\nshort\n{THINK_CLOSE}")


@pytest.mark.parametrize("bad", [dict(max_reflections=-1), dict(gap=-1), dict(min_saving=1.0),
                                 dict(kinds=("reasoning", "poetry"))])
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValueError):
        PruneConfig(**bad)
