"""Building one journey in plain functions: a wrong attempt planned (mode, correct
rollout, transition), cut at its first wrong step, a transition, and a verified recovery
(splice: a correct rollout; reflect: the teacher's continuation).

No model and no verifier here: the teacher's samples come in as arguments (what the
journey's model steps answered to the requests of :mod:`transforms.mix.journey_teacher`)
and the checker (:data:`Checker`) is passed in, so tests drive both with fakes. Each
function returns what a :class:`~transforms.core.RuleStep` rule returns: a journey
:class:`~schemas.records.SftExample`, a :class:`~transforms.core.Drop` of the attempt
(under the step that decided: ``journey_select``, ``journey_splice``,
``journey_reflect``) or the :class:`Plan` on its way. Every choice and every seed is
derived from the run seed and ids.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Iterator, List, NamedTuple, Optional, Sequence, Union

from transforms.core import Dead, Drop, derive_seed, error_text, hash_score, stable_hash
from transforms.mix.examples import assistant_content, make_example
from transforms.mix.journey_config import MODES, JourneyConfig
from transforms.text.extract import split_reasoning
from transforms.text.length import estimate_tokens

#: (record, text) → the verdict fields of ``text`` as an answer to the record's problem.
Checker = Callable[[Any, str], dict]
#: Records (VerifiedRollout, SftExample) are classes built at run time: no static type.
Record = Any

SELECT_STEP, SPLICE_STEP, REFLECT_STEP = "journey_select", "journey_splice", "journey_reflect"

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


def pick_correct(seed: int, wrong_id: str, correct: Sequence) -> Optional[Record]:
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


# -- the plan of one journey ------------------------------------------------------------


class Plan(NamedTuple):
    """A wrong attempt on its way to a journey: its mode, the correct rollout spliced in
    (splice), its text and transition, and its first wrong step once located (None: not
    located, the whole attempt is the wrong prefix)."""

    attempt: Record  # the wrong VerifiedRollout
    mode: str
    correct: Optional[Record]  # the correct VerifiedRollout spliced in
    text: str
    transition: str
    step: Optional[int] = None


def plan_journey(wrong, correct: Sequence, config: JourneyConfig, seed: int) -> Union[Plan, Drop]:
    """The plan of one wrong attempt, or a Drop when no journey can be built from it."""
    mode = pick_mode(config, seed, wrong.rollout_id, bool(correct))
    if mode is None:
        return Drop("no_correct_rollout", "splice needs a correct rollout", record=wrong, step=SELECT_STEP)
    text = attempt_text(wrong)
    if not text:
        return Drop("empty_attempt", "the wrong rollout has no text", record=wrong, step=SELECT_STEP)
    spliced = pick_correct(seed, wrong.rollout_id, correct) if mode == "splice" else None
    return Plan(wrong, mode, spliced, text, pick_transition(config, seed, wrong.rollout_id))


def plan_problem(correct: Sequence, wrong: Sequence, config: JourneyConfig, seed: int) -> Iterator:
    """An outcome for every wrong attempt of one problem: its Plan, a Drop (past
    ``max_per_problem``, the lowest hashed scores first, or no journey possible) or a
    :class:`~transforms.core.Dead` (planning it failed; the others go on)."""
    ordered = sorted(wrong, key=lambda w: (hash_score(seed, f"journey:{w.rollout_id}"), w.rollout_id))
    for i, attempt in enumerate(ordered):
        if i >= config.max_per_problem:
            yield Drop("journey_per_problem_cap", f"{len(ordered)} wrong attempts, cap {config.max_per_problem}",
                       record=attempt, step=SELECT_STEP)
            continue
        try:
            yield plan_journey(attempt, correct, config, seed)
        except Exception as exc:  # noqa: BLE001 - one failed attempt must not fail the bundle
            yield Dead(error_text(exc), attempt)


def wrong_prefix(plan: Plan) -> str:
    """The attempt up to and including its first wrong step (the whole attempt when not located)."""
    return plan.text[: step_ends(plan.text)[plan.step]] if plan.step is not None else plan.text


def lead(plan: Plan) -> str:
    """What the journey starts with: the wrong prefix, then the transition."""
    return join_parts(wrong_prefix(plan), plan.transition)


# -- the first wrong step ---------------------------------------------------------------


def probe_prefixes(text: str, config: JourneyConfig) -> List[str]:
    """The prefixes the teacher continues to locate the first wrong step: the attempt up
    to the end of each of its first ``max_steps`` steps."""
    return [text[:end].rstrip() + "\n" for end in step_ends(text)[: config.max_steps]]


def reaches_gold(wrong, prefix: str, samples: Sequence, check: Checker) -> bool:
    """Whether any continuation of ``prefix`` states an answer that verifies correct."""
    return any(check(wrong, prefix + s.text)["verdict"] == "correct" for s in samples)


# -- the journey example ----------------------------------------------------------------


def _journey_example(wrong, base, tag: str, reasoning: str, answer: str, fields: dict,
                     rollout_ids: List[str], completion_tokens: int, sample_seed: int) -> Record:
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


def _tag(plan: Plan) -> str:
    return f"{plan.mode}:{'step' if plan.step is not None else 'attempt'}"


def splice(plan: Plan, check: Checker) -> Union[Record, Drop]:
    """Wrong prefix, transition, then the correct rollout's solution (verified again)."""
    wrong, correct, start = plan.attempt, plan.correct, lead(plan)
    if correct is None:
        raise ValueError("splice: the plan has no correct rollout")
    reasoning = join_parts(start, correct.reasoning)
    fields = check(correct, assistant_content(reasoning, correct.answer))
    if fields["verdict"] != "correct":
        return Drop(f"splice_{fields['verdict']}", fields["verdict_reason"], record=wrong, step=SPLICE_STEP)
    # the reused prefix and the transition are estimated, the correct rollout was counted
    tokens = estimate_tokens(start) + correct.completion_tokens
    return _journey_example(wrong, correct, _tag(plan), reasoning, correct.answer, fields,
                            [wrong.rollout_id, correct.rollout_id], tokens, correct.sample_seed)


def reflect(plan: Plan, sample, check: Checker, teacher_model: str, sample_seed: int) -> Union[Record, Drop]:
    """The teacher's continuation (``sample``) after the wrong prefix and the transition;
    its answer must verify. ``teacher_model`` names the teacher on the example."""
    wrong, start = plan.attempt, lead(plan)
    if sample.finish_reason == "length":
        return Drop("reflect_truncated", f"continuation cut at {sample.completion_tokens} tokens",
                    record=wrong, step=REFLECT_STEP)
    fields = check(wrong, sample.text)
    if fields["verdict"] != "correct":
        return Drop(f"reflect_{fields['verdict']}", f"{fields['verdict_reason']}: answered "
                    f"{fields['extracted_answer']!r}", record=wrong, step=REFLECT_STEP)
    tail_reasoning, tail_answer = split_reasoning(sample.text)
    if not tail_answer:
        return Drop("reflect_missing_answer", "no answer section", record=wrong, step=REFLECT_STEP)
    reasoning = join_parts(start, tail_reasoning)
    tokens = estimate_tokens(start) + sample.completion_tokens
    base = wrong._replace(teacher_model=teacher_model)
    return _journey_example(wrong, base, _tag(plan), reasoning, tail_answer, fields,
                            [wrong.rollout_id], tokens, sample_seed)
