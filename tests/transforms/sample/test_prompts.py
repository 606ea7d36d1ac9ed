"""Prompt rendering: the chat turns sent for a problem, and splitting the answer."""
from __future__ import annotations

import pytest

from transforms.sample.config import R1_USER_TEMPLATE, FewShot, SampleConfig
from transforms.sample.prompts import build_messages, split_completion

R1_SUFFIX = "\nPlease reason step by step, and put your final answer within \\boxed{}."


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({}, [("user", "What is 2 + 3?" + R1_SUFFIX)]),
        ({"system_prompt": "Be brief."}, [("system", "Be brief."), ("user", "What is 2 + 3?" + R1_SUFFIX)]),
        (
            {"few_shot": (FewShot("Q1", "A1"), FewShot("Q2", "A2"))},
            [("user", "Q1"), ("assistant", "A1"), ("user", "Q2"), ("assistant", "A2"),
             ("user", "What is 2 + 3?" + R1_SUFFIX)],
        ),
        (
            {"system_prompt": "S", "few_shot": (FewShot("Q", "A"),), "user_template": "Q: {prompt}\nA:"},
            [("system", "S"), ("user", "Q"), ("assistant", "A"), ("user", "Q: What is 2 + 3?\nA:")],
        ),
        ({"user_template": "{prompt} {{braces}}"}, [("user", "What is 2 + 3? {braces}")]),
    ],
)
def test_build_messages(changes, expected):
    messages = build_messages("What is 2 + 3?", SampleConfig(**changes))
    assert [(m["role"], m["content"]) for m in messages] == expected


def test_default_template_is_r1():
    assert R1_USER_TEMPLATE.format(prompt="P") == "P" + R1_SUFFIX


@pytest.mark.parametrize("text, kind, expected", [
    ("<think>\nhm\n</think>\nParis.", "knowledge", ("hm", "Paris.")),
    ("  Paris.  ", "knowledge", ("", "Paris.")),
])
def test_split_completion_of_knowledge_answers(text, kind, expected):
    assert split_completion(text, kind) == expected


# -- templates by domain and by source ------------------------------------------------


def test_each_domain_gets_its_own_template():
    from transforms.sample.config import SampleConfig
    from transforms.sample.prompts import build_messages
    config = SampleConfig()
    code = build_messages("Write f.", config, "reasoning", "code")[-1]["content"]
    assert "```python" in code and "boxed" not in code
    choice = build_messages("Q?\n\nA. x\nB. y", config, "reasoning", "math", ["x", "y"])[-1]["content"]
    assert "letter" in choice
    math = build_messages("1 + 1?", config, "reasoning", "math")[-1]["content"]
    assert math == config.user_template.format(prompt="1 + 1?")
    assert build_messages("Hello!", config, "knowledge", "general")[-1]["content"] == "Hello!"


def test_a_source_template_names_a_domain_or_is_its_own(tmp_path):
    from pipelines.config import ConfigError, load_config
    from transforms.sample.prompts import build_messages
    path = tmp_path / "c.yaml"
    path.write_text("sources:\n"
                    "  - {name: a, path: x.jsonl, template: general}\n"
                    "  - {name: b, path: y.jsonl, template: 'Solve in Rust: {prompt}'}\n"
                    "sample: {templates: {general: 'Q: {prompt}'}}\n")
    config = load_config(str(path))
    templates = {s.name: config.sample.template_for(s.template) for s in config.sources}
    assert templates == {"a": "Q: {prompt}", "b": "Solve in Rust: {prompt}"}
    assert build_messages("1?", config.sample, template=templates["b"])[-1]["content"] == "Solve in Rust: 1?"
    path.write_text("sources:\n  - {name: a, path: x.jsonl, template: 'no placeholder'}\n")
    with pytest.raises(ConfigError, match="template: must contain"):
        load_config(str(path))
