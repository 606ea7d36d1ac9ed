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
words) never get a CoT. The sample stage asks the teacher about knowledge problems in
non-thinking mode (``sample.knowledge_template``, no reasoning few-shots: see
``transforms.sample.transform.build_messages``).
"""
from __future__ import annotations

import dataclasses
import re
from typing import Tuple

COT_MODES = ("none", "short", "full")

#: Openings of prompts that need no reasoning at all (matched on whole words).
SMALL_TALK = (
    "hello", "hi", "hey", "good morning", "good afternoon", "good evening", "good night",
    "thanks", "thank you", "bye", "goodbye", "how are you", "who are you", "what's up",
    "nice to meet you",
)

#: How the teacher is asked a knowledge question: the question itself, no "reason step by step".


@dataclasses.dataclass(frozen=True)
class KnowledgeConfig:
    """How knowledge examples are written (``mix.knowledge_format`` in the run config)."""

    cot: str = "none"  # none | short | full (see the module docstring)
    max_cot_words: int = 64  # "short": the longest reasoning kept
    trivial_max_words: int = 6  # small talk up to this many words is trivial
    small_talk: Tuple[str, ...] = SMALL_TALK

    def __post_init__(self):
        if self.cot not in COT_MODES:
            raise ValueError(f"cot: must be one of {', '.join(COT_MODES)}, got {self.cot!r}")
        if self.max_cot_words < 0:
            raise ValueError("max_cot_words: must be >= 0")
        if self.trivial_max_words < 0:
            raise ValueError("trivial_max_words: must be >= 0")


_WORD = re.compile(r"[\w']+")


def words(text: str) -> list:
    """Lower-case words of ``text`` (punctuation dropped)."""
    return _WORD.findall((text or "").lower())


def is_trivial(prompt: str, config: KnowledgeConfig = KnowledgeConfig()) -> bool:
    """True for small talk: a short prompt that opens with a small-talk phrase ("Hello!")."""
    tokens = words(prompt)
    if not tokens or len(tokens) > config.trivial_max_words:
        return False
    text = " ".join(tokens)
    return any(text == phrase or text.startswith(phrase + " ") for phrase in config.small_talk)


def knowledge_reasoning(prompt: str, reasoning: str, config: KnowledgeConfig = KnowledgeConfig()) -> str:
    """The reasoning a knowledge example keeps ("" for none)."""
    reasoning = (reasoning or "").strip()
    if config.cot == "none" or is_trivial(prompt, config):
        return ""
    if config.cot == "short" and len(words(reasoning)) > config.max_cot_words:
        return ""
    return reasoning
