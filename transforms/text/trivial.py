"""Trivial prompts: small talk that needs no chain of thought ("Hello!", "谢谢！").

R1: "for simpler queries, such as 'hello', we do not provide a CoT in response". A
prompt is trivial when it is short and is, or opens with, a small-talk phrase:

* English (and other space-separated text): lower-case words (punctuation dropped),
  the prompt at most ``max_words`` words and its words starting with a phrase of
  :data:`SMALL_TALK` on whole words ("hi there" yes, "hierarchy" no);
* Chinese: the prompt's CJK characters with punctuation and spaces dropped, at most
  ``max_cjk_chars`` of them, starting with a phrase of :data:`SMALL_TALK_ZH`
  ("你好！", "谢谢你的帮助", "你是谁？").

Any other prompt (a question after the greeting that makes it long, a task) is not
trivial. Plain functions, no Beam: the sample stage's import of SFT data and the mix
stage's knowledge examples both ask :func:`is_trivial`.
"""
from __future__ import annotations

import re
from typing import Sequence

#: English openings of prompts that need no reasoning at all (matched on whole words).
SMALL_TALK = (
    "hello", "hi", "hey", "good morning", "good afternoon", "good evening", "good night",
    "thanks", "thank you", "bye", "goodbye", "how are you", "who are you", "what's up",
    "nice to meet you",
)

#: Chinese openings (simplified and traditional), matched on the prompt's CJK characters.
SMALL_TALK_ZH = (
    "你好", "您好", "妳好", "嗨", "哈喽", "哈囉", "早上好", "早安", "下午好", "晚上好", "晚安",
    "谢谢", "謝謝", "多谢", "多謝", "感谢", "感謝", "再见", "再見", "拜拜", "你是谁", "你是誰",
    "在吗", "在嗎", "最近好吗", "最近好嗎", "很高兴认识你", "很高興認識你",
)

_WORD = re.compile(r"[\w']+")
#: CJK unified ideographs (the basic block and extension A) and compatibility ideographs.
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[^\W\d_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|\d+")


def words(text: str) -> list:
    """Lower-case words of ``text`` (punctuation dropped; a run of CJK characters is one word)."""
    return _WORD.findall((text or "").lower())


def _english(text: str, max_words: int, phrases: Sequence[str]) -> bool:
    tokens = words(text)
    if not tokens or len(tokens) > max_words:
        return False
    joined = " ".join(tokens)
    return any(joined == phrase or joined.startswith(phrase + " ") for phrase in phrases)


def _chinese(text: str, max_chars: int, phrases: Sequence[str]) -> bool:
    chars = "".join(_CJK.findall(text))
    if not chars or len(chars) > max_chars:
        return False
    if _LATIN_WORD.search(_CJK.sub(" ", text)):  # "你好, please prove…": not Chinese small talk alone
        return False
    return any(chars.startswith(phrase) for phrase in phrases)


def is_trivial(prompt: str, max_words: int = 6, max_cjk_chars: int = 10,
               small_talk: Sequence[str] = SMALL_TALK, small_talk_zh: Sequence[str] = SMALL_TALK_ZH) -> bool:
    """True for small talk in English or Chinese (see the module doc)."""
    text = (prompt or "").strip()
    if not text:
        return False
    if _CJK.search(text):
        return _chinese(text, max_cjk_chars, small_talk_zh)
    return _english(text, max_words, small_talk)
