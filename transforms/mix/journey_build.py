"""Building one journey: a wrong attempt, cut at its first wrong step, a transition, and a
verified recovery (splice: a correct rollout; reflect: the teacher's continuation).

Plain functions: the teacher (anything with ``continue_from(prompt, prefill, seeds)``,
see :class:`transforms.mix.journey.Teacher`) and the checker (:data:`Checker`) are
passed in, so tests drive them with fakes. Every choice and every teacher seed is
derived from the run seed and ids.
"""
from __future__ import annotations

import re
from typing import Callable, List, NamedTuple, Optional, Sequence

from schemas.records import SftExample, VerifiedRollout
from transforms.core import derive_seed, hash_score, stable_hash
from transforms.mix.examples import assistant_content, make_example
from transforms.mix.journey_config import MODES, JourneyConfig
from transforms.text.extract import split_reasoning
from transforms.text.length import estimate_tokens

#: (record, text) → the verdict fields of ``text`` as an answer to the record's problem.
Checker = Callable[[object, str], dict]

# -- steps and choices ------------------------------------------------------------------


def attempt_text(rollout) -> str:
    """The visible text of an attempt: its reasoning, then its answer."""
    parts = [(rollout.reasoning or "").strip(), (rollout.answer or "").strip()]
    return "\n\n".join(p for p in parts if p)


_STEP_BREAK = re.compile(r"\n+|(?<=[.!?])[ \t]+(?=[A-Z\\(])")


def step_ends(text: str) -> List[int]:
    """End offsets of the steps of ``text``: its lines, and the sentences within a line."""
    ends, start = [], 0
    for match in _STEP_BREAK.finditer(text):
        if text[start:match.start()].strip():
            ends.append(match.start())
        start = match.end()
    if text[start:].strip():
        ends.append(len(text))
    return ends


def pick(seed: int, options: Sequence, *key):
    """One of ``options``, chosen by a hash of the seed and ``key``."""
    return options[derive_seed(seed, "journey", *key) % len(options)]


def pick_transition(config: JourneyConfig, seed: int, wrong_id: str) -> str:
    return pick(seed, config.transitions, "transition", wrong_id)


def pick_correct(seed: int, wrong_id: str, correct: Sequence) -> Optional[VerifiedRollout]:
    """The correct rollout spliced after ``wrong_id``: the lowest hashed score of the pair."""
    if not correct:
        return None
    return min(correct, key=lambda c: (hash_score(seed, f"{wrong_id}:{c.rollout_id}"), c.rollout_id))


def pick_mode(config: JourneyConfig, seed: int, wrong_id: str, has_correct: bool) -> Optional[str]:
    """The construction for one wrong attempt (splice needs a correct rollout), or None."""
    feasible = [m for m in MODES if m in config.modes and (m != "splice" or has_correct)]
    return pick(seed, feasible, "mode", wrong_id) if feasible else None


def join_parts(*parts: str) -> str:
    """Non-empty parts as paragraphs."""
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


# -- the first wrong step -----------------------------------------------------------------


def locate_first_wrong_step(wrong, text: str, teacher, check: Checker, config: JourneyConfig,
                            seed: int) -> Optional[int]:
    """The index of the first step of ``text`` none of whose continuations reaches the gold answer."""
    for k, end in enumerate(step_ends(text)[: config.max_steps]):
        prefix = text[:end].rstrip() + "\n"
        seeds = [derive_seed(seed, "locate", wrong.rollout_id, k, j) for j in range(config.continuations)]
        samples = teacher.continue_from(wrong.prompt, prefix, seeds)
        if not any(check(wrong, prefix + s.text)["verdict"] == "correct" for s in samples):
            return k
    return None


# -- building one journey ---------------------------------------------------------------


class Outcome(NamedTuple):
    """A journey example, or why the attempt was rejected (step, reason, detail)."""

    example: Optional[SftExample]
    step: str = ""
    reason: str = ""
    detail: str = ""


def _journey_example(wrong, base, tag: str, reasoning: str, answer: str, fields: dict,
                     rollout_ids: List[str], completion_tokens: int, sample_seed: int) -> SftExample:
    """The SftExample of a journey: problem and provenance from ``base``, verdict from ``fields``."""
    return make_example(
        base,
        example_id=stable_hash("sft", "journey", tag, *rollout_ids, sample_seed),
        journey=tag,
        reasoning=reasoning,
        answer=answer,
        rollout_ids=rollout_ids,
        extracted_answer=fields["extracted_answer"],
        verdict=fields["verdict"],
        verifier=fields["verifier"],
        sample_index=wrong.sample_index,
        sample_seed=sample_seed,
        prompt_tokens=wrong.prompt_tokens,
        completion_tokens=completion_tokens,
        pass_rate=wrong.pass_rate,
    )


def _tag(mode: str, located: bool) -> str:
    return f"{mode}:{'step' if located else 'attempt'}"


def splice(wrong, correct, prefix: str, located: bool, transition: str, check: Checker) -> Outcome:
    """Wrong prefix, transition, then the correct rollout's solution (verified again)."""
    lead = join_parts(prefix, transition)
    reasoning = join_parts(lead, correct.reasoning)
    fields = check(correct, assistant_content(reasoning, correct.answer))
    if fields["verdict"] != "correct":
        return Outcome(None, "journey_splice", f"splice_{fields['verdict']}", fields["verdict_reason"])
    # the reused prefix and the transition are estimated, the correct rollout was counted
    tokens = estimate_tokens(lead) + correct.completion_tokens
    return Outcome(_journey_example(wrong, correct, _tag("splice", located), reasoning, correct.answer, fields,
                                    [wrong.rollout_id, correct.rollout_id], tokens, correct.sample_seed))


def reflect(wrong, prefix: str, located: bool, transition: str, teacher, check: Checker,
            seed: int) -> Outcome:
    """The teacher continues after the wrong prefix and the transition; its answer must verify."""
    lead = join_parts(prefix, transition)
    sample_seed = derive_seed(seed, "reflect", wrong.rollout_id)
    sample = teacher.continue_from(wrong.prompt, lead + "\n", [sample_seed])[0]
    if sample.finish_reason == "length":
        return Outcome(None, "journey_reflect", "reflect_truncated",
                       f"continuation cut at {sample.completion_tokens} tokens")
    fields = check(wrong, sample.text)
    if fields["verdict"] != "correct":
        return Outcome(None, "journey_reflect", f"reflect_{fields['verdict']}",
                       f"{fields['verdict_reason']}: answered {fields['extracted_answer']!r}")
    tail_reasoning, tail_answer = split_reasoning(sample.text)
    if not tail_answer:
        return Outcome(None, "journey_reflect", "reflect_missing_answer", "no answer section")
    reasoning = join_parts(lead, tail_reasoning)
    tokens = estimate_tokens(lead) + sample.completion_tokens
    base = wrong._replace(teacher_model=teacher.config.model)
    return Outcome(_journey_example(wrong, base, _tag("reflect", located), reasoning, tail_answer, fields,
                                    [wrong.rollout_id], tokens, sample_seed))


def build_journey(wrong, correct: Sequence, teacher, check: Checker,
                  config: JourneyConfig, seed: int) -> Outcome:
    """One wrong attempt → a journey example (or the reason it could not be built)."""
    mode = pick_mode(config, seed, wrong.rollout_id, bool(correct))
    if mode is None:
        return Outcome(None, "journey_select", "no_correct_rollout", "splice needs a correct rollout")
    text = attempt_text(wrong)
    if not text:
        return Outcome(None, "journey_select", "empty_attempt", "the wrong rollout has no text")
    step = locate_first_wrong_step(wrong, text, teacher, check, config, seed) if config.locate else None
    prefix = text[: step_ends(text)[step]] if step is not None else text
    transition = pick_transition(config, seed, wrong.rollout_id)
    if mode == "splice":
        return splice(wrong, pick_correct(seed, wrong.rollout_id, correct), prefix, step is not None,
                      transition, check)
    return reflect(wrong, prefix, step is not None, transition, teacher, check, seed)

