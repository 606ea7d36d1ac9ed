"""Knowledge examples: no CoT for small talk, the configured CoT otherwise."""
import pytest

from tests.factories import verified
from transforms.mix.examples import to_example
from transforms.mix.knowledge import KnowledgeConfig, is_trivial, knowledge_reasoning
from transforms.sample.config import FewShot, SampleConfig
from transforms.sample.prompts import build_messages, split_completion


@pytest.mark.parametrize("prompt, trivial", [
    ("Hello!", True), ("hi there", True), ("Thank you so much!", True), ("How are you?", True),
    ("Hello, can you explain how vaccines train the immune system in detail?", False),
    ("What is the capital of France?", False), ("Hierarchy of needs?", False), ("", False),
])
def test_trivial_prompts(prompt, trivial):
    assert is_trivial(prompt) is trivial


@pytest.mark.parametrize("cot, prompt, reasoning, kept", [
    ("none", "What is the capital of France?", "France's capital is Paris.", ""),
    ("full", "What is the capital of France?", "France's capital is Paris.", "France's capital is Paris."),
    ("short", "What is the capital of France?", "France's capital is Paris.", "France's capital is Paris."),
    ("short", "What is the capital of France?", "word " * 30, ""),  # too long: dropped, not cut
    ("full", "Hello!", "The user greets me.", ""),  # trivial: never a CoT
])
def test_knowledge_reasoning(cot, prompt, reasoning, kept):
    assert knowledge_reasoning(prompt, reasoning, KnowledgeConfig(cot=cot, max_cot_words=20)) == kept.strip()


def test_knowledge_examples_answer_without_thinking():
    record = verified(kind="knowledge", domain="knowledge", prompt="What is the capital of France?",
                      reasoning="The capital of France is Paris.", answer="Paris.")
    assert to_example(record).messages[1].content == "Paris."
    full = to_example(record, KnowledgeConfig(cot="full"))
    assert full.messages[1].content == "<think>\nThe capital of France is Paris.\n</think>\n\nParis."
    # the teacher is asked in non-thinking mode: the knowledge template, no reasoning few-shots
    config = SampleConfig(few_shot=(FewShot("What is 1 + 1?", "\\boxed{2}"),))
    assert build_messages("What is the capital of France?", config, "knowledge") == [
        {"role": "user", "content": "What is the capital of France?"}]
    assert len(build_messages("What is 2 + 2?", config, "reasoning")) == 3
    assert split_completion("Paris.", "knowledge") == ("", "Paris.")
    assert split_completion("Paris.", "reasoning") == ("Paris.", "")
