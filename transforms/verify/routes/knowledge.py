"""Knowledge (short) answers: the stated final answer, or a short uncued one, against
the reference's aliases (:func:`transforms.verify.matching.prose.knowledge_verdict`);
what the rules can't decide is left to the judge (a ``needs_judge`` reason)."""
from __future__ import annotations

from transforms.text.extract import THINK_CLOSE, clean_answer, extract_answer
from transforms.verify.config import VerifyConfig
from transforms.verify.matching.prose import knowledge_verdict
from transforms.verify.verdicts import NEEDS_JUDGE, verdict_fields

KNOWLEDGE_VERSION = "knowledge-rules==1"


def final_answer_text(text: str) -> str:
    """The part of a response that answers: after ``</think>``, else all of it."""
    return text.rpartition(THINK_CLOSE)[2].strip() if THINK_CLOSE in text else text.strip()


def verify_knowledge(text: str, gold: str, config: VerifyConfig) -> dict:
    """The verdict fields of a knowledge response against the reference ``gold``."""
    extracted = extract_answer(text, last_number_fallback=False)
    if extracted is None:
        final = final_answer_text(text)
        if not final:
            return verdict_fields(None, "no_answer", "knowledge-rules", KNOWLEDGE_VERSION, "no_answer_found")
        if len(final.split()) > config.knowledge_max_answer_words:
            return verdict_fields(None, "unverifiable", "knowledge-rules", KNOWLEDGE_VERSION,
                                  f"{NEEDS_JUDGE}: long answer without a stated final answer")
        extracted = clean_answer(final, keep_expression=True)
    decided = knowledge_verdict(
        gold, extracted, rel_tol=config.knowledge_rel_tol, f1_correct=config.knowledge_f1_correct,
        f1_incorrect=config.knowledge_f1_incorrect, max_gold_words=config.knowledge_max_gold_words)
    if decided is None:
        return verdict_fields(extracted, "unverifiable", "knowledge-rules", KNOWLEDGE_VERSION,
                              f"{NEEDS_JUDGE}: the rules can't decide")
    return verdict_fields(extracted, decided[0], "knowledge-rules", KNOWLEDGE_VERSION, decided[1])
