"""The SFT example format, shared by the mix (direct examples) and journey construction.

An example is two chat turns: the user's prompt, and the assistant's
``<think>\\n{reasoning}\\n</think>\\n\\n{answer}`` (R1's format; the answer alone when
there is no reasoning). TRL's SFTTrainer and LLaMA-Factory (sharegpt, with
``role``/``content`` tags) read the ``messages`` column as is; the user turn's text is
also the ``problem`` column (never ``prompt``, ``completion`` or ``text``: TRL would read
those as another dataset format).
"""
from __future__ import annotations

from typing import Iterable

from schemas.records import Message, SftExample, project
from transforms.core import stable_hash
from transforms.mix.knowledge import KnowledgeConfig, knowledge_reasoning
from transforms.text.length import estimate_tokens


def assistant_content(reasoning: str, answer: str, empty_think: bool = False) -> str:
    """The assistant turn: ``<think>`` reasoning, then the answer (R1's format); without
    reasoning the answer alone, or after an empty ``<think>`` block (``empty_think``)."""
    reasoning = (reasoning or "").strip()
    answer = (answer or "").strip()
    if not reasoning:
        return f"<think>\n\n</think>\n\n{answer}" if empty_think else answer
    return f"<think>\n{reasoning}\n</think>\n\n{answer}"


def make_example(record, *, example_id: str, reasoning: str, answer: str, rollout_ids: Iterable[str],
                 journey=None, empty_think: bool = False, **overrides) -> SftExample:
    """An SftExample for ``record`` (a VerifiedRollout): its problem and provenance fields,
    the given reasoning and answer as the assistant turn, and ``overrides``."""
    reasoning = (reasoning or "").strip()
    answer = (answer or "").strip()
    overrides.setdefault("reasoning_tokens_before", estimate_tokens(reasoning))
    overrides.setdefault("reasoning_tokens_after", estimate_tokens(reasoning))
    return project(
        SftExample,
        record,
        example_id=example_id,
        journey=journey,
        problem=record.prompt,
        messages=[Message("user", record.prompt),
                  Message("assistant", assistant_content(reasoning, answer, empty_think))],
        reasoning=reasoning,
        answer=answer,
        rollout_ids=list(rollout_ids),
        **overrides,
    )


def example_id(kind: str, rollout_id: str) -> str:
    """The id of the direct example built from one rollout."""
    return stable_hash("sft", kind, rollout_id)


def to_example(record, knowledge: KnowledgeConfig = KnowledgeConfig(), pruner=None) -> SftExample:
    """A curated VerifiedRollout as a training example (knowledge ones per ``knowledge``),
    its thinking pruned by ``pruner`` (a :class:`~transforms.mix.prune.Pruner`) when given.
    ``reasoning_tokens_before``/``_after``: the example's thinking (estimated tokens)
    without and with the pruning."""
    original = record
    if pruner is not None:
        record = pruner(record).record
    before = estimate_tokens(_thinking(original, knowledge))
    reasoning = _thinking(record, knowledge)
    return make_example(record, example_id=example_id(record.kind, record.rollout_id),
                        reasoning=reasoning, answer=record.answer, rollout_ids=[record.rollout_id],
                        empty_think=record.kind == "knowledge" and knowledge.no_think == "empty",
                        reasoning_tokens_before=before, reasoning_tokens_after=estimate_tokens(reasoning))


def _thinking(record, knowledge: KnowledgeConfig) -> str:
    """The thinking an example of ``record`` carries (knowledge ones per ``knowledge``)."""
    reasoning = record.reasoning
    if record.kind == "knowledge":
        reasoning = knowledge_reasoning(record.prompt, reasoning, knowledge)
    return (reasoning or "").strip()
