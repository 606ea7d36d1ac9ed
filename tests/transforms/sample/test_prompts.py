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
