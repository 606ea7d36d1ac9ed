"""Journey learning: examples that go wrong, notice it, and recover (O1 Replication Journey).

Inputs are a problem's verified-wrong rollouts (the curate stage's rejections with a
wrong verdict, see :func:`wrong_attempt`) and its curated correct ones. Each wrong
attempt (at most ``max_per_problem`` per problem, the lowest hashed scores) becomes
one journey in a mode picked by hash among the configured ones:

* ``splice``: the wrong attempt up to its first wrong step, a reflection transition,
  then a correct rollout of the same problem (picked by hash);
* ``reflect``: the teacher gets the same prompt with the wrong prefix and the
  transition already written as its answer (a prefill) and continues; the
  continuation must state an answer that verifies correct.

The first wrong step is located in the spirit of Math-Shepherd: the attempt is split
into steps (lines, and sentences within a line); for each prefix, ending at step k,
the teacher samples ``continuations`` completions; the first step whose completions
never reach the gold answer is the first wrong step, and the prefix is cut right
after it. Where no step is found (or ``locate`` is off), the prefix is the whole
attempt, whose final answer is wrong. ``journey`` on the example records the mode and
the cut: ``splice:step``, ``splice:attempt``, ``reflect:step``, ``reflect:attempt``.

Transitions come from ``transitions``, picked by hash of the wrong rollout's id.
Every journey's final answer is verified with the curate verifier before it is kept;
``rollout_ids`` lists the wrong rollout first (then, for splice, the correct one).
Every wrong attempt ends as a journey example, a Rejection (stage ``mix``, step
``journey_select``/``journey_splice``/``journey_reflect``) or a DeadLetter.
Determinism: every choice and every teacher seed is derived from the run seed and ids.
"""
from __future__ import annotations

import dataclasses
import json
import re
from typing import Callable, Iterator, List, NamedTuple, Optional, Sequence, Tuple

import apache_beam as beam

from schemas.records import VERDICTS, SftExample, VerifiedRollout, from_dict
from transforms.core import (
    DEAD,
    REJECTED,
    StageOutputs,
    derive_seed,
    error_text,
    hash_score,
    make_dead_letter,
    make_rejection,
    stable_hash,
)
from transforms.mix.examples import assistant_content, is_row_of, make_example
from transforms.text.extract import split_reasoning
from transforms.models.backends.base import GenerationRequest, Sample
from transforms.sample.config import SampleConfig, make_backend
from transforms.sample.prompts import build_messages
from transforms.text.length import estimate_tokens
from transforms.verify.config import VerifyConfig
from transforms.verify.dispatch import verify_rollout_fields
from transforms.verify.mathcheck import MathVerifierProcess

MODES = ("splice", "reflect")
STAGE = "mix"

DEFAULT_TRANSITIONS = (
    "Wait, that doesn't look right. Let me go back and check this step.",
    "Hmm, I think I made a mistake here. Let me reconsider.",
    "Hold on, let me verify that again.",
    "But wait, this can't be right. Let me redo the calculation carefully.",
    "Let me double-check this; something seems off.",
    "Actually, I need to re-examine this step, the result doesn't check out.",
)


@dataclasses.dataclass(frozen=True)
class JourneyConfig:
    """Journey examples (``mix.journey`` in the run config); none are built while ``share`` is 0."""

    share: float = 0.0  # share of the reasoning target reserved for journey examples
    modes: Tuple[str, ...] = ("splice",)  # splice | reflect, picked per wrong attempt by hash
    wrong_verdicts: Tuple[str, ...] = ("incorrect",)  # curate verdicts that make a wrong attempt
    max_per_problem: int = 2  # wrong attempts used per problem (the rest are rejected)
    locate: bool = True  # find the first wrong step with the teacher (Math-Shepherd style)
    continuations: int = 2  # teacher samples per probed step
    max_steps: int = 8  # steps probed at most; past them the whole attempt is the prefix
    max_tokens: int = 256  # token limit of the teacher's continuations (probes and reflect)
    transitions: Tuple[str, ...] = DEFAULT_TRANSITIONS

    def __post_init__(self):
        if not 0.0 <= self.share <= 1.0:
            raise ValueError("share: must be in [0, 1]")
        unknown = sorted(set(self.modes) - set(MODES))
        if not self.modes or unknown:
            raise ValueError(f"modes: must be a non-empty list of {', '.join(MODES)}, got {list(self.modes)}")
        if not self.wrong_verdicts or "correct" in self.wrong_verdicts:
            raise ValueError("wrong_verdicts: a non-empty list of verdicts other than 'correct'")
        unknown = [v for v in self.wrong_verdicts if v not in VERDICTS]
        if unknown:
            raise ValueError(f"wrong_verdicts: unknown verdict(s) {', '.join(map(repr, unknown))}; "
                             f"expected some of {', '.join(v for v in VERDICTS if v != 'correct')}")
        for name in ("max_per_problem", "continuations", "max_steps", "max_tokens"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be >= 1")
        if not self.transitions or not all(t.strip() for t in self.transitions):
            raise ValueError("transitions: must be a non-empty list of non-empty strings")

    @property
    def enabled(self) -> bool:
        return self.share > 0.0

    @property
    def needs_teacher(self) -> bool:
        return self.locate or "reflect" in self.modes


# -- rules --------------------------------------------------------------------------


def wrong_attempt(rejection, config: JourneyConfig) -> Optional[VerifiedRollout]:
    """The wrong rollout a curate Rejection carries, or None when it is not one.

    A wrong attempt is a reasoning VerifiedRollout whose verdict is one of
    ``wrong_verdicts`` and which was not cut off (finish reason ``stop``). The payload
    is recognised by its fields (``record_type`` may name a runner-generated class)."""
    if rejection.stage != "curate":
        return None
    row = json.loads(rejection.payload)
    if not is_row_of(VerifiedRollout, row) or row["verdict"] not in config.wrong_verdicts \
            or row["finish_reason"] != "stop" or row["kind"] != "reasoning":
        return None
    return from_dict(VerifiedRollout, row)


def wrong_attempts(rejection, config: JourneyConfig) -> List[VerifiedRollout]:
    """``wrong_attempt`` as a list (empty or one rollout), for ``beam.FlatMap``."""
    found = wrong_attempt(rejection, config)
    return [found] if found is not None else []


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


# -- the teacher and the checker --------------------------------------------------------


class Teacher:
    """A loaded sampler backend that continues a partly written assistant turn."""

    def __init__(self, backend, config: SampleConfig):
        self.backend = backend
        self.config = config

    @classmethod
    def load(cls, config: SampleConfig) -> "Teacher":
        backend = make_backend(config)
        backend.load()
        return cls(backend, config)

    def continue_from(self, prompt: str, prefill: str, seeds: Sequence[int]) -> List[Sample]:
        """One sample per seed of the teacher's answer to ``prompt`` that starts with ``prefill``."""
        rendered = self.backend.render(build_messages(prompt, self.config)) + prefill
        return self.backend.generate([GenerationRequest(rendered, tuple(seeds))])[0].samples


#: (record, text) → the verdict fields of ``text`` as an answer to the record's problem.
Checker = Callable[[object, str], dict]


def make_checker(verifier, config: VerifyConfig = VerifyConfig()) -> Checker:
    """A Checker that verifies text like a rollout (``verifier``: a MathVerifierProcess)."""

    def check(record, text: str) -> dict:
        return verify_rollout_fields(record._replace(answer=text, completion=text), verifier, config)

    return check


def locate_first_wrong_step(wrong, text: str, teacher: Teacher, check: Checker, config: JourneyConfig,
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


def reflect(wrong, prefix: str, located: bool, transition: str, teacher: Teacher, check: Checker,
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


def build_journey(wrong, correct: Sequence, teacher: Optional[Teacher], check: Checker,
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


def problem_journeys(correct: Sequence, wrong: Sequence, teacher: Optional[Teacher], check: Checker,
                     config: JourneyConfig, seed: int) -> Iterator[Tuple[str, object]]:
    """(tag, record) for every wrong attempt of one problem: ("kept", SftExample),
    (REJECTED, Rejection) or (DEAD, DeadLetter)."""
    ordered = sorted(wrong, key=lambda w: (hash_score(seed, f"journey:{w.rollout_id}"), w.rollout_id))
    for i, attempt in enumerate(ordered):
        if i >= config.max_per_problem:
            yield REJECTED, make_rejection(attempt, STAGE, "journey_select", "journey_per_problem_cap",
                                           f"{len(ordered)} wrong attempts, cap {config.max_per_problem}")
            continue
        try:
            outcome = build_journey(attempt, correct, teacher, check, config, seed)
        except Exception as exc:  # noqa: BLE001 - one failed attempt must not fail the bundle
            yield DEAD, make_dead_letter(STAGE, "journey", error_text(exc), record=attempt)
            continue
        if outcome.example is not None:
            yield "kept", outcome.example
        else:
            yield REJECTED, make_rejection(attempt, STAGE, outcome.step, outcome.reason, outcome.detail)


# -- Beam -------------------------------------------------------------------------------


class _JourneyFn(beam.DoFn):
    """(problem id, {"correct": [...], "wrong": [...]}) → journey examples, rejections, dead letters."""

    def __init__(self, config: JourneyConfig, teacher: SampleConfig, verify: VerifyConfig, seed: int):
        self._config = config
        self._teacher_config = dataclasses.replace(teacher, max_tokens=config.max_tokens)
        self._verify = verify
        self._seed = seed
        self._teacher = None
        self._verifier = None

    def setup(self):
        self._verifier = MathVerifierProcess(self._verify.start_timeout_s, self._verify.memory_limit_mb)
        if self._config.needs_teacher:
            self._teacher = Teacher.load(self._teacher_config)

    def process(self, element):
        _, groups = element
        wrong = sorted(groups["wrong"], key=lambda r: r.rollout_id)
        if not wrong:
            return
        correct = sorted(groups["correct"], key=lambda r: r.rollout_id)
        check = make_checker(self._verifier, self._verify)
        for tag, record in problem_journeys(correct, wrong, self._teacher, check, self._config, self._seed):
            beam.metrics.Metrics.counter(STAGE, f"journey_{tag}").inc()
            yield record if tag == "kept" else beam.pvalue.TaggedOutput(tag, record)

    def teardown(self):
        if self._verifier is not None:
            self._verifier.close()
            self._verifier = None


class BuildJourneys(beam.PTransform):
    """{"correct": VerifiedRollouts, "wrong": VerifiedRollouts} → StageOutputs(kept=journey
    SftExamples, rejected=Rejections of wrong attempts, dead=DeadLetters)."""

    def __init__(self, config: JourneyConfig, teacher: SampleConfig, verify: VerifyConfig, seed: int):
        super().__init__()
        self._config = config
        self._teacher = teacher
        self._verify = verify
        self._seed = seed

    def expand(self, inputs):
        keyed = {
            name: inputs[name] | f"Key {name}" >> beam.Map(lambda r: (r.problem_id, r))
            for name in ("correct", "wrong")
        }
        built = (
            keyed
            | "ByProblem" >> beam.CoGroupByKey()
            | "Build" >> beam.ParDo(_JourneyFn(self._config, self._teacher, self._verify, self._seed))
            .with_outputs(REJECTED, DEAD, main="kept")
        )
        return StageOutputs(built.kept, built[REJECTED], built[DEAD])
