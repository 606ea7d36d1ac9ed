"""What the teacher is asked for a problem, and how its answer is split.

:func:`build_messages` renders a problem into chat turns: an optional system turn,
the few-shot pairs, then the problem through the user template (knowledge problems:
non-thinking mode, the knowledge template and no few-shot turns).
:func:`split_completion` splits a completion into reasoning and answer.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

from transforms.sample.config import SampleConfig
from transforms.text.extract import THINK_CLOSE, split_reasoning


def user_template(config: SampleConfig, kind: str = "reasoning", domain: str = "math",
                  choices: Sequence[str] = (), template: Optional[str] = None) -> str:
    """The user template of a problem: its source's ``template`` (already resolved to
    its text) if given, else by kind and domain: knowledge ``knowledge_template``,
    code ``templates.code``, multiple choice ``templates.choice``, else ``user_template``."""
    if template is not None:
        return template
    if kind == "knowledge":
        return config.knowledge_template
    if domain == "code":
        return config.templates.code
    if choices:
        return config.templates.choice
    return config.user_template


def build_messages(problem_prompt: str, config: SampleConfig, kind: str = "reasoning", domain: str = "math",
                   choices: Sequence[str] = (), template: Optional[str] = None) -> List[dict]:
    """The chat turns sent for one problem.

    An optional system turn, then each few-shot pair verbatim (user, assistant),
    then the problem through its template (:func:`user_template`). Knowledge problems
    are asked in non-thinking mode: no few-shot turns."""
    messages = []
    if config.system_prompt:
        messages.append({"role": "system", "content": config.system_prompt})
    text = user_template(config, kind, domain, choices, template).format(prompt=problem_prompt)
    if kind != "knowledge":
        for shot in config.few_shot:
            messages.append({"role": "user", "content": shot.user})
            messages.append({"role": "assistant", "content": shot.assistant})
    messages.append({"role": "user", "content": text})
    return messages


def split_completion(text: str, kind: str) -> Tuple[str, str]:
    """(reasoning, answer): a knowledge answer given without ``<think>`` is all answer."""
    if kind == "knowledge" and THINK_CLOSE not in text:
        return "", text.strip()
    return split_reasoning(text)
