"""Where a chain of thought first reaches its answer, and the re-checks cut after it:
a rule table over the pure functions, then real Sky-T1 traces."""
import json
import os

import pytest

from transforms.text.reflections import (
    answer_key,
    concludes,
    key_numbers,
    paragraphs,
    prune_reasoning,
    statements,
    states_answer,
)

SKY_T1 = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "shared", "data", "sky_t1_long_cot")


@pytest.mark.parametrize("paragraph, answer, expected", [
    ("So x = 9.", "9", True),
    ("So x = 196.", "9", False),            # inside a longer number
    ("x is 9.8 here", "9", False),          # a decimal that starts with it
    ("the total is 15,625 cubes", "15625", True),  # thousands separators
    ("We get $\\frac{3}{4}$.", "\\frac{3}{4}", True),
    ("We get $\\dfrac{3}{4}$.", "\\frac{3}{4}", True),  # \\dfrac is \\frac
    ("so the ratio is 0.75", "\\frac{3}{4}", True),  # numbers compare by value
    ("so the ratio is 0.7", "\\frac{3}{4}", False),
    ("it is 1.5 \\times 10^{-7} m", "1.5e-7", True),   # scientific notation
    ("the roots are -2 and 1", "-2, 1", True),         # a list: all its numbers
    ("one root is -2", "-2, 1", False),
    ("The answer is $(3, \\frac{\\pi}{2})$.", "(3, \\frac{\\pi}{2})", True),
    ("It ends with 9 apples, then 12 more.", "9", False),  # a later number in the sentence
    ("First 12, so the answer is 9 apples.", "9", True),    # a unit may follow
])
def test_which_paragraph_concludes_on_the_answer(paragraph, answer, expected):
    assert concludes(paragraph, answer_key(answer), key_numbers(answer)) is expected


@pytest.mark.parametrize("answer, numbers", [
    ("9", {9}), ("-2, 1", {-2, 1}), ("\\frac{3}{4}", {0.75}), ("15,625", {15625}),
    ("x + 1", None), ("", None),
])
def test_key_numbers(answer, numbers):
    found = key_numbers(answer)
    assert (found is None) if numbers is None else {float(n) for n in found} == {float(n) for n in numbers}


def test_a_key_is_a_whole_token():
    assert states_answer("x=9", "9") and not states_answer("x=19", "9") and not states_answer("abc", "")


def _trace(*parts):
    return "\n\n".join(parts)


FOUND = "Adding 4 and 5 gives 9."
CHECK = "Wait, let me double-check: 5 + 4 = 9."
AGAIN = "Let me verify once more. 9 - 5 = 4, so the sum is 9."
WORK = "First, we read the problem carefully and write down what is asked of us in full."


@pytest.mark.parametrize("max_reflections, kept", [(0, [WORK, FOUND]), (1, [WORK, FOUND, WORK, CHECK])])
def test_keeps_the_first_statement_and_max_reflections_more(max_reflections, kept):
    thinking = _trace(WORK, FOUND, WORK, CHECK, WORK, AGAIN, WORK, CHECK)
    cut = prune_reasoning(thinking, "9", max_reflections=max_reflections, gap=0, min_saving=0.0)
    assert cut.reason == "pruned" and cut.text == _trace(*kept)
    assert cut.statements == 4 and cut.kept_statements == max_reflections + 1
    assert cut.tokens_after < cut.tokens_before and cut.last_statement == kept[-1]


def test_close_statements_are_one_pass():
    thinking = _trace(WORK, FOUND, CHECK, WORK, WORK, AGAIN)
    assert len(statements(paragraphs(thinking), answer_key("9"), gap=1, answer="9")) == 2
    assert len(statements(paragraphs(thinking), answer_key("9"), gap=0, answer="9")) == 2
    assert len(statements(paragraphs(thinking), answer_key("9"), gap=2, answer="9")) == 1


@pytest.mark.parametrize("thinking, answer, reason", [
    (_trace(WORK, FOUND, WORK, CHECK), "", "no_answer"),
    (_trace(WORK, WORK), "9", "no_statement"),
    (_trace(WORK, FOUND, WORK, CHECK), "9", "few_statements"),  # 2 passes: nothing past the reflection
    (_trace(WORK * 20, FOUND, WORK, CHECK, WORK, CHECK.replace("double-", "")), "9", "small_saving"),
])
def test_nothing_is_cut_and_the_reason_says_why(thinking, answer, reason):
    cut = prune_reasoning(thinking, answer, max_reflections=1, gap=0, min_saving=0.1)
    assert cut.reason == reason and cut.text == thinking and cut.tokens_after == cut.tokens_before


def test_the_cut_is_a_prefix_of_the_thinking():
    thinking = _trace(WORK, FOUND, WORK, CHECK, WORK, AGAIN, WORK, CHECK)
    cut = prune_reasoning(thinking, "9", max_reflections=1, gap=0, min_saving=0.0)
    assert thinking.startswith(cut.text)


def test_real_sky_t1_traces_are_cut_at_a_statement_of_their_answer():
    """Real long chains of thought as stored: traces with many re-checks are cut, each cut
    a prefix that ends on a paragraph stating the graded answer."""
    path = os.path.join(SKY_T1, "math500.jsonl")
    assert os.path.exists(path), f"{path} is missing (see ../shared/data/README.md)"
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()][:60]
    pruned = 0
    for row in rows:
        generation = row["code"][0] if isinstance(row["code"], list) else row["code"]
        if "<|end_of_thought|>" not in generation:
            continue
        thinking = generation.split("<|begin_of_thought|>", 1)[-1].split("<|end_of_thought|>", 1)[0].strip()
        cut = prune_reasoning(thinking, str(row["gt"]), max_reflections=1, gap=1)
        if cut.pruned:
            pruned += 1
            assert thinking.startswith(cut.text) and cut.text.endswith(cut.last_statement)
            assert cut.tokens_after < 0.9 * cut.tokens_before
    assert pruned >= 10
