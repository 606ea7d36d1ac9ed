"""Knowledge (non-reasoning) examples: how a verified teacher answer becomes the assistant turn.

R1 added ~200K non-reasoning examples (factual QA, multiple choice, writing) so the
model still answers plain questions without overthinking, and "for simpler queries,
such as 'hello', we do not provide a CoT". The teacher's verified answer (the part
after ``</think>``, or the final paragraph) is the assistant turn; its reasoning is
kept only as configured:

* ``cot: none`` — the answer alone (non-thinking mode, the default);
* ``cot: short`` — the reasoning when it has at most ``max_cot_words`` words, else
  none (a long CoT is dropped, never cut mid-way);
* ``cot: full`` — the reasoning as sampled.

Trivial prompts (greetings, thanks, small talk of at most ``trivial_max_words``
words, in English or Chinese: :mod:`transforms.text.trivial`) never get a CoT. An
example without reasoning is the answer alone, or (``no_think: empty``, R1's format
for answers without thinking) the answer after an empty ``<think>`` block. The
sample stage asks the teacher about knowledge problems in non-thinking mode
(``sample.knowledge_template``, no reasoning few-shots: see
``transforms.sample.transform.build_messages``).
"""
from __future__ import annotations

import dataclasses
from typing import Tuple

from transforms.text import trivial
from transforms.text.trivial import SMALL_TALK, SMALL_TALK_ZH, words

COT_MODES = ("none", "short", "full")
#: How a knowledge example without reasoning is written: the answer alone, or after an empty <think>.
NO_THINK_FORMATS = ("", "empty")
__all__ = ["COT_MODES", "NO_THINK_FORMATS", "KnowledgeConfig", "SMALL_TALK", "SMALL_TALK_ZH", "is_trivial",
           "knowledge_reasoning", "words"]


@dataclasses.dataclass(frozen=True)
class KnowledgeConfig:
    """How knowledge examples are written (``mix.knowledge_format`` in the run config)."""

    cot: str = "none"  # none | short | full (see the module docstring)
    max_cot_words: int = 64  # "short": the longest reasoning kept
    trivial_max_words: int = 6  # small talk up to this many words is trivial
    small_talk: Tuple[str, ...] = SMALL_TALK
    #: an example with no reasoning: "" the answer alone, "empty" an empty <think> block first (R1's format)
    no_think: str = ""

    def __post_init__(self):
        if self.cot not in COT_MODES:
            raise ValueError(f"cot: must be one of {', '.join(COT_MODES)}, got {self.cot!r}")
        if self.max_cot_words < 0:
            raise ValueError("max_cot_words: must be >= 0")
        if self.trivial_max_words < 0:
            raise ValueError("trivial_max_words: must be >= 0")
        if self.no_think not in NO_THINK_FORMATS:
            raise ValueError(f"no_think: must be '' (the answer alone) or 'empty' (an empty <think> block), "
                             f"got {self.no_think!r}")


def is_trivial(prompt: str, config: KnowledgeConfig = KnowledgeConfig()) -> bool:
    """True for small talk in English or Chinese ("Hello!", "你好！"): see
    :mod:`transforms.text.trivial`."""
    return trivial.is_trivial(prompt, max_words=config.trivial_max_words, small_talk=config.small_talk)


def knowledge_reasoning(prompt: str, reasoning: str, config: KnowledgeConfig = KnowledgeConfig()) -> str:
    """The reasoning a knowledge example keeps ("" for none)."""
    reasoning = (reasoning or "").strip()
    if config.cot == "none" or is_trivial(prompt, config):
        return ""
    if config.cot == "short" and len(words(reasoning)) > config.max_cot_words:
        return ""
    return reasoning
