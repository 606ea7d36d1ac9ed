"""The SFT example format: two chat turns, ``<think>`` reasoning then the answer."""
from tests.factories import verified
from transforms.mix.examples import assistant_content, to_example


def test_example_format():
    ex = to_example(verified())
    assert [m.role for m in ex.messages] == ["user", "assistant"]
    assert ex.messages[1].content.startswith("<think>\n2 + 3 = 5.\n</think>\n\n")
    assert ex.rollout_ids == [verified().rollout_id]
    assert ex.journey is None
    assert assistant_content("", "Paris.") == "Paris."
