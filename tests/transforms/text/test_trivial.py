"""The trivial-prompt rule: English and Chinese small talk needs no chain of thought;
a real request after a greeting, or any task, does."""
import pytest

from transforms.text.trivial import is_trivial


@pytest.mark.parametrize("prompt", [
    "Hello!", "hi there", "Thank you so much!", "How are you?", "Good morning :)", "Who are you?",
    "你好！", "您好", "谢谢你的帮助！", "你是谁？", "早上好", "謝謝", "再见啦", "  你好呀 ",
])
def test_small_talk_is_trivial(prompt):
    assert is_trivial(prompt)


@pytest.mark.parametrize("prompt", [
    "", "   ", "Hello, can you explain how vaccines train the immune system in detail?",
    "What is the capital of France?", "Hierarchy of needs?", "Highlight the verbs in this sentence.",
    "你好，请详细解释一下量子纠缠的原理和应用场景。",  # a greeting, then a real request
    "请解释光合作用。", "法国的首都是哪里？", "你好, please prove that sqrt(2) is irrational",
    "谢谢你的帮助，现在请帮我写一篇关于气候变化的文章",
])
def test_requests_are_not_trivial(prompt):
    assert not is_trivial(prompt)


def test_the_length_bounds_are_settings():
    assert is_trivial("hello my dear old friend how are you", max_words=8)
    assert not is_trivial("hello my dear old friend how are you", max_words=6)
    assert not is_trivial("谢谢你的帮助", max_cjk_chars=4)
