"""Text parsing shared by sampling, verification and filters: the thinking/answer
split and final-answer extraction. Plain functions only."""
from __future__ import annotations

import re
from typing import List, Optional, Tuple

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"


def boxed_contents(text: str) -> List[str]:
    """Contents of every ``\\boxed{...}`` / ``\\fbox{...}`` in order, nested braces balanced."""
    out = []
    for match in re.finditer(r"\\(?:boxed|fbox)\s*\{", text):
        depth, start = 1, match.end()
        i = start
        while i < len(text) and depth:
            ch = text[i]
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            i += 1
        if depth == 0:
            out.append(text[start : i - 1].strip())
    return out


def split_reasoning(completion: str) -> Tuple[str, str]:
    """Split a completion into (reasoning, answer).

    R1-style output: the reasoning is inside ``<think>…</think>`` and the answer
    follows it. Untagged output: the last paragraph that states the final answer
    (a ``\\boxed{}`` or "the answer is") is the answer and what comes before it is
    the reasoning; a single paragraph stays the reasoning and its boxed value
    becomes the answer.
    """
    text = completion.strip()
    if THINK_CLOSE in text:
        head, _, tail = text.partition(THINK_CLOSE)
        head = head.replace(THINK_OPEN, "", 1) if THINK_OPEN in head else head
        return head.strip(), tail.strip()
    if THINK_OPEN in text:  # opened, never closed: all reasoning, no answer
        return text.replace(THINK_OPEN, "", 1).strip(), ""
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    for i in range(len(paragraphs) - 1, -1, -1):
        para = paragraphs[i]
        if boxed_contents(para) or re.search(r"(?i)\banswer is\b", para):
            if i == 0:
                boxed = boxed_contents(para)
                answer = f"\\boxed{{{boxed[-1]}}}" if boxed else para.strip()
                return text, answer
            return "\n\n".join(paragraphs[:i]).strip(), "\n\n".join(paragraphs[i:]).strip()
    return text, ""


def extract_answer(text: str) -> Optional[str]:
    """The final answer stated in ``text`` (minimal: last ``\\boxed{}``, else None)."""
    boxed = boxed_contents(text)
    return boxed[-1] if boxed else None
