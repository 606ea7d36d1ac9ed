"""Multiple-choice answers: the letter a response names (or the text of a choice)
against the reference's letter (or a 0-based index, MMLU style)."""
from __future__ import annotations

import re
from typing import Iterable, Optional

from transforms.text.extract import clean_answer, extract_answer
from transforms.verify.matching.prose import normalize_text
from transforms.verify.verdicts import EXACT_VERSION, verdict_fields


def choice_letter(answer: str, choices: Iterable[str], allow_index: bool = False) -> Optional[str]:
    """The letter an answer names: "B", "(b)", the text of a choice (normalized), or (with
    ``allow_index``, for gold answers such as MMLU's) a 0-based index."""
    choices = list(choices)
    text = clean_answer(answer.strip())
    letters = [chr(ord("A") + i) for i in range(len(choices))]
    letter = re.fullmatch(r"\(?([A-Za-z])\)?", text)
    if letter and letter.group(1).upper() in letters:
        return letter.group(1).upper()
    for name, choice in zip(letters, choices):
        if normalize_text(text) and normalize_text(text) == normalize_text(choice):
            return name
    if allow_index and text.isdigit() and int(text) < len(choices):
        return letters[int(text)]
    return None


def verify_choice(text: str, gold: str, choices, fallback: bool) -> dict:
    """The verdict fields of a multiple-choice response against the reference ``gold``."""
    extracted = extract_answer(text, last_number_fallback=fallback)
    if extracted is None:
        return verdict_fields(None, "no_answer", "exact", EXACT_VERSION, "no_answer_found")
    gold_letter = choice_letter(gold, choices, allow_index=True)
    if gold_letter is None:
        return verdict_fields(extracted, "unverifiable", "exact", EXACT_VERSION, "gold_not_a_choice")
    pred_letter = choice_letter(extracted, choices)
    if pred_letter == gold_letter:
        return verdict_fields(extracted, "correct", "exact", EXACT_VERSION, "choice_match")
    return verdict_fields(extracted, "incorrect", "exact", EXACT_VERSION, "choice_mismatch")
