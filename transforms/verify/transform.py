"""Verify: Rollouts → VerifiedRollouts, each with a verdict and its problem's pass rate.

Every rollout comes out with a verdict (the filters decide what to drop), except
those of problems outside the configured pass-rate band (rejected, with the rate):

* ``correct`` / ``incorrect``: the answer was compared with the reference (or, for
  code, the program's outputs with the tests' expected outputs);
* ``no_answer``: no answer (or no code block) could be found in the response;
* ``timeout``: the check ran past its time or memory bound; never ``incorrect``;
* ``unverifiable``: nothing to check against (no reference, no tests, no
  majority), or the rules could not decide and no judge is configured (reason
  ``needs_judge: …``);
* ``infra_unavailable``: the checker could not run (math-verify child, sandbox or
  judge unavailable); never ``correct`` or ``incorrect``;
* ``error``: the checker failed on this answer (math-verify raised or crashed).

Routing, per rollout (:func:`verify_rollout_fields`):

* ``metadata`` ``{"verifier": "countdown", ...}`` → ``transforms.ingest.generators.check_countdown``;
* ``domain == "code"`` or ``tests`` → the last code block of the response, run
  against the tests in the sandbox (:mod:`transforms.verify.sandbox.runner`);
* no reference answer → ``unverifiable``, or a majority-vote pseudo-label over the
  problem's samples when ``majority_vote`` is on (verifier ``majority-vote``);
* ``choices`` → multiple-choice letter (or the choice's text; a gold index);
* ``domain == "knowledge"`` → normalized match, numeric tolerance, token F1
  (:func:`transforms.verify.matching.knowledge_verdict`), else the LLM judge;
* everything else (math) → answers too long or too deeply nested to be one are
  ``incorrect``; then the cheap exact path in this process
  (:func:`exact_verdict`: normalized strings, exact rationals and percentages,
  prose answers, tuples/intervals/sets of numbers, complex numbers, integer
  radicals); then math-verify on LaTeX in its child process
  (:mod:`transforms.verify.mathcheck`), inequalities and set-builder sets compared as
  intervals. Several answers in several boxes are joined when the reference has
  several.

Answers the rules can't decide go to the LLM judge (:mod:`transforms.verify.judge`) when
``judge.enabled`` and the domain is in ``judge.domains``; its rationale becomes the
reason. Safety: model text never reaches sympy's ``sympify``/``parse_expr``, and
untrusted code only ever runs in the sandbox.
"""
from __future__ import annotations

import ast
import collections
import dataclasses
import json
import re
import typing
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple

import apache_beam as beam

from schemas.records import VERDICTS, Rollout, VerifiedRollout, from_dict, project  # noqa: F401 - VERDICTS re-exported
from transforms.core import (
    DEAD,
    REJECTED,
    StageOutputs,
    error_text,
    make_dead_letter,
    make_rejection,
    stable_hash,
)
from transforms.text.extract import (
    THINK_CLOSE,
    boxed_contents,
    clean_answer,
    extract_answer,
    final_boxed_answers,
    last_arithmetic_expression,
    math_span_list,
)
from transforms.verify.judge import JudgeConfig, JudgeItem, LLMJudge
from transforms.verify.mathcheck import (  # noqa: F401 - re-exported for callers and tests
    MathVerifierProcess,
    VerifierError,
    VerifierUnavailable,
)
from transforms.verify.matching import (  # noqa: F401 - re-exported for callers and tests
    answer_key,
    exact_verdict,
    inequality_to_interval,
    knowledge_verdict,
    normalize_answer_text,
    normalize_text,
    oversized,
    parse_plain_number,
    top_level_items,
)
from transforms.verify.sandbox.runner import SANDBOX_VERSION, Sandbox, SandboxConfig, extract_code, parse_tests, run_tests

EXACT_VERSION = "exact==2"
COUNTDOWN_VERSION = "countdown==1"
KNOWLEDGE_VERSION = "knowledge-rules==1"
MAJORITY_VERSION = "majority-vote==1"
#: Reason prefix of verdicts the rules could not decide (the judge may).
NEEDS_JUDGE = "needs_judge"
STAGE, STEP = "curate", "verify"


@dataclasses.dataclass(frozen=True)
class VerifyConfig:
    """How rollouts are verified (``curate.verify`` in the run config)."""

    timeout_s: float = 5.0  # wall-clock bound per math check, enforced by killing a child process
    last_number_fallback: bool = True  # use the last number when no explicit answer is stated
    start_timeout_s: float = 60.0  # bound on starting the math-verify child (else infra_unavailable)
    memory_limit_mb: int = 2048  # address-space limit of the math-verify child (0: none)
    # knowledge answers
    knowledge_rel_tol: float = 1e-4  # numbers within this relative tolerance are the same answer
    knowledge_f1_correct: float = 0.8  # token F1 at or above this is correct
    knowledge_f1_incorrect: float = 0.0  # token F1 at or below this is incorrect (between: the judge)
    knowledge_max_gold_words: int = 10  # longer references are never called incorrect by F1
    knowledge_max_answer_words: int = 30  # an uncued final answer up to this long is the answer
    # no reference: majority vote over the problem's samples
    majority_vote: bool = False
    majority_min_share: float = 0.5  # the top answer's share of the samples needed for a pseudo-label
    majority_min_samples: int = 3
    # pass-rate band: problems whose pass rate is outside [min, max] are rejected
    # (max_pass_rate < 1 drops prompts solved by every sample, min_pass_rate > 0 unsolved ones)
    min_pass_rate: float = 0.0
    max_pass_rate: float = 1.0
    code: SandboxConfig = SandboxConfig()
    judge: JudgeConfig = JudgeConfig()

    def __post_init__(self):
        if self.timeout_s <= 0:
            raise ValueError("timeout_s: must be > 0")
        if self.start_timeout_s <= 0:
            raise ValueError("start_timeout_s: must be > 0")
        if self.memory_limit_mb < 0:
            raise ValueError("memory_limit_mb: must be >= 0")
        for name in ("knowledge_f1_correct", "knowledge_f1_incorrect", "majority_min_share",
                     "min_pass_rate", "max_pass_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name}: must be in [0, 1]")
        if self.knowledge_f1_incorrect >= self.knowledge_f1_correct:
            raise ValueError("knowledge_f1_incorrect: must be below knowledge_f1_correct")
        if self.min_pass_rate > self.max_pass_rate:
            raise ValueError("min_pass_rate: must not exceed max_pass_rate")
        if self.majority_min_samples < 2:
            raise ValueError("majority_min_samples: must be >= 2")
        if self.knowledge_rel_tol < 0:
            raise ValueError("knowledge_rel_tol: must be >= 0")


# -- gold answers ----------------------------------------------------------------


def normalize_gold(reference_answer: str) -> str:
    """The gold answer as a bare answer: after "####", inside the last ``\\boxed{}``,
    without ``$`` delimiters or ``\\text{}`` wrappers; a list of strings written as
    a literal ("['$2$', '$3$']", OlympiadBench) or several ``$…$`` spans ("$5$ or
    $9$") become the items joined by ", "."""
    text = _unlist(reference_answer.strip())
    if "####" in text:
        text = text.rsplit("####", 1)[1]
    boxed = boxed_contents(text)
    if boxed:
        text = boxed[-1]
    elif text.startswith("$") and not text.startswith("$$"):
        text = math_span_list(text) or text  # "$5$ or $9$", "$145$solution:" (sic)
    return clean_answer(text, keep_expression=True)


def _unlist(text: str) -> str:
    """The items of a literal list of strings, joined by ", "; other text unchanged.

    Only dataset gold answers come here; ``ast.literal_eval`` evaluates literals only."""
    if not (text.startswith("[") and text.endswith("]") and ("'" in text or '"' in text)):
        return text
    try:
        items = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    if isinstance(items, list) and items and all(isinstance(i, str) for i in items):
        return ", ".join(clean_answer(i, keep_expression=True) for i in items)
    return text


def parse_metadata(metadata: Optional[str]) -> dict:
    """The problem's metadata JSON as a dict ({} when absent); ValueError if not an object."""
    if not metadata:
        return {}
    value = json.loads(metadata)
    if not isinstance(value, dict):
        raise ValueError(f"metadata: expected a JSON object, got {type(value).__name__}")
    return value


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


# -- one rollout -------------------------------------------------------------------


def _fields(extracted, verdict, verifier, version, reason) -> dict:
    return dict(
        extracted_answer=extracted,
        verdict=verdict,
        verifier=verifier,
        verifier_version=version,
        verdict_reason=reason,
    )


def _verify_countdown(text: str, meta: dict, fallback: bool) -> dict:
    from transforms.text.countdown import check_countdown

    extracted = extract_answer(text, last_number_fallback=False, keep_expression=True)
    if extracted is None and fallback:
        extracted = last_arithmetic_expression(text)
    if extracted is None:
        return _fields(None, "no_answer", "countdown", COUNTDOWN_VERSION, "no_expression_found")
    ok, reason = check_countdown(extracted, list(meta["numbers"]), meta["target"])
    return _fields(extracted, "correct" if ok else "incorrect", "countdown", COUNTDOWN_VERSION, reason)


def _verify_choice(text: str, gold: str, choices, fallback: bool) -> dict:
    extracted = extract_answer(text, last_number_fallback=fallback)
    if extracted is None:
        return _fields(None, "no_answer", "exact", EXACT_VERSION, "no_answer_found")
    gold_letter = choice_letter(gold, choices, allow_index=True)
    if gold_letter is None:
        return _fields(extracted, "unverifiable", "exact", EXACT_VERSION, "gold_not_a_choice")
    pred_letter = choice_letter(extracted, choices)
    if pred_letter == gold_letter:
        return _fields(extracted, "correct", "exact", EXACT_VERSION, "choice_match")
    return _fields(extracted, "incorrect", "exact", EXACT_VERSION, "choice_mismatch")


def _verify_math(text: str, gold: str, verifier, config: VerifyConfig) -> dict:
    gold_answer = normalize_gold(gold)
    extracted = extract_answer(text, last_number_fallback=config.last_number_fallback)
    boxes = final_boxed_answers(text)
    if len(boxes) > 1 and len(top_level_items(gold_answer)) > 1:
        extracted = ", ".join(boxes)  # several answers asked for, stated in several boxes
    if extracted is None:
        return _fields(None, "no_answer", "math-verify", verifier.version, "no_answer_found")
    too_big = oversized(gold_answer, extracted)
    if too_big and normalize_answer_text(gold_answer) != normalize_answer_text(extracted):
        return _fields(extracted, "incorrect", "exact", EXACT_VERSION, too_big)
    decided = exact_verdict(gold_answer, extracted)
    if decided is not None:
        return _fields(extracted, decided[0], "exact", EXACT_VERSION, decided[1])
    gold_cmp = inequality_to_interval(gold_answer) or gold_answer
    pred_cmp = inequality_to_interval(extracted) or extracted
    if normalize_answer_text(gold_cmp) == normalize_answer_text(pred_cmp):
        return _fields(extracted, "correct", "exact", EXACT_VERSION, "same_interval")
    try:
        verdict, reason = verifier.verify(gold_cmp, pred_cmp, config.timeout_s)
    except VerifierUnavailable as exc:
        return _fields(extracted, "infra_unavailable", "math-verify", verifier.version, str(exc))
    except VerifierError as exc:
        return _fields(extracted, "error", "math-verify", verifier.version, f"math_verify_error: {exc}")
    if verdict == "unverifiable":
        reason = f"{NEEDS_JUDGE}: {reason}"
    return _fields(extracted, verdict, "math-verify", verifier.version, reason)


def final_answer_text(text: str) -> str:
    """The part of a response that answers: after ``</think>``, else all of it."""
    return text.rpartition(THINK_CLOSE)[2].strip() if THINK_CLOSE in text else text.strip()


def _verify_knowledge(text: str, gold: str, config: VerifyConfig) -> dict:
    extracted = extract_answer(text, last_number_fallback=False)
    if extracted is None:
        final = final_answer_text(text)
        if not final:
            return _fields(None, "no_answer", "knowledge-rules", KNOWLEDGE_VERSION, "no_answer_found")
        if len(final.split()) > config.knowledge_max_answer_words:
            return _fields(None, "unverifiable", "knowledge-rules", KNOWLEDGE_VERSION,
                           f"{NEEDS_JUDGE}: long answer without a stated final answer")
        extracted = clean_answer(final, keep_expression=True)
    decided = knowledge_verdict(
        gold, extracted, rel_tol=config.knowledge_rel_tol, f1_correct=config.knowledge_f1_correct,
        f1_incorrect=config.knowledge_f1_incorrect, max_gold_words=config.knowledge_max_gold_words)
    if decided is None:
        return _fields(extracted, "unverifiable", "knowledge-rules", KNOWLEDGE_VERSION,
                       f"{NEEDS_JUDGE}: the rules can't decide")
    return _fields(extracted, decided[0], "knowledge-rules", KNOWLEDGE_VERSION, decided[1])


def _verify_code(rollout, text: str, sandbox: Optional[Sandbox]) -> dict:
    code = extract_code(rollout.completion or text) or extract_code(text)
    if code is None:
        return _fields(None, "no_answer", "sandbox", SANDBOX_VERSION, "no_code_block")
    if not rollout.tests:
        return _fields(code, "unverifiable", "sandbox", SANDBOX_VERSION, "no_tests")
    if sandbox is None:
        return _fields(code, "infra_unavailable", "sandbox", SANDBOX_VERSION, "no sandbox configured")
    try:
        suite = parse_tests(rollout.tests)
    except ValueError as exc:
        return _fields(code, "unverifiable", "sandbox", SANDBOX_VERSION, f"bad_tests: {exc}")
    verdict, reason = run_tests(code, suite, sandbox)
    return _fields(code, verdict, "sandbox", SANDBOX_VERSION, reason)


def is_code(rollout) -> bool:
    return rollout.domain == "code" or bool(rollout.tests)


def verify_rollout_fields(rollout, verifier, config: VerifyConfig = VerifyConfig(), *,
                          sandbox: Optional[Sandbox] = None) -> dict:
    """The verdict fields of a rollout (all VERDICT_FIELDS but ``pass_rate``), by the rules.

    ``verifier`` is a ``MathVerifierProcess`` (or anything with ``verify(gold, pred,
    timeout_s)`` and ``version``); ``sandbox`` runs code (None: code rollouts are
    ``infra_unavailable``). The text verified is the rollout's ``answer``, or its
    ``completion`` when the answer is empty. Undecided answers come back
    ``unverifiable`` with a ``needs_judge`` reason (see :func:`verify_batch` for the
    judge). Raises on broken records (bad metadata JSON); the stage dead-letters those."""
    text = rollout.answer or rollout.completion or ""
    meta = parse_metadata(rollout.metadata)
    if meta.get("verifier") == "countdown":
        return _verify_countdown(text, meta, config.last_number_fallback)
    if is_code(rollout):
        return _verify_code(rollout, text, sandbox)
    gold = rollout.reference_answer
    if gold is None or not str(gold).strip():
        extracted = extract_answer(text, last_number_fallback=config.last_number_fallback)
        return _fields(extracted, "unverifiable", "none", "", "no_reference_answer")
    if rollout.choices:
        return _verify_choice(text, gold, rollout.choices, config.last_number_fallback)
    if rollout.domain == "knowledge":
        return _verify_knowledge(text, gold, config)
    return _verify_math(text, gold, verifier, config)


# -- a batch of rollouts, with the judge --------------------------------------------


class Verifiers:
    """The checkers one worker (DoFn instance or CLI thread) owns: the math-verify
    child, the sandbox and, when enabled, the judge (loaded on first need; pass
    ``judge`` to share one between workers, ``judge_backend`` to give it a backend)."""

    def __init__(self, config: VerifyConfig, judge_backend=None, judge: Optional[LLMJudge] = None):
        self.math = MathVerifierProcess(config.start_timeout_s, config.memory_limit_mb)
        self.sandbox = Sandbox(config.code)
        if judge is None and config.judge.enabled:
            judge = LLMJudge(config.judge, backend=judge_backend)
        self.judge = judge

    def close(self) -> None:
        self.math.close()


class Outcome(typing.NamedTuple):
    """The verdict fields of one rollout, or the error that stopped it (dead-lettered)."""

    fields: Optional[dict]
    error: Optional[str] = None


def needs_judge(rollout, fields: dict, config: VerifyConfig) -> bool:
    return (config.judge.enabled and fields["verdict"] == "unverifiable"
            and fields["verdict_reason"].startswith(NEEDS_JUDGE)
            and (rollout.domain or "math") in config.judge.domains)


def verify_batch(rollouts: Sequence, verifiers: Verifiers, config: VerifyConfig) -> List[Outcome]:
    """One Outcome per rollout, in order: the rules, then one judge call for the
    rollouts they left undecided."""
    outcomes: List[Outcome] = []
    for rollout in rollouts:
        try:
            outcomes.append(Outcome(verify_rollout_fields(rollout, verifiers.math, config,
                                                          sandbox=verifiers.sandbox)))
        except Exception as exc:  # one broken record must not stop the others
            outcomes.append(Outcome(None, error_text(exc)))
    pending = [i for i, (r, o) in enumerate(zip(rollouts, outcomes))
               if o.fields is not None and verifiers.judge is not None and needs_judge(r, o.fields, config)]
    if pending:
        items = [JudgeItem(rollouts[i].prompt or "", normalize_gold(rollouts[i].reference_answer),
                           rollouts[i].answer or rollouts[i].completion or "") for i in pending]
        for i, judgement in zip(pending, verifiers.judge.judge(items)):
            reason = f"judge: {judgement.rationale}" if judgement.verdict in ("correct", "incorrect") \
                else judgement.rationale
            extracted = outcomes[i].fields["extracted_answer"]
            outcomes[i] = Outcome(_fields(extracted, judgement.verdict, "llm-judge", verifiers.judge.version,
                                          reason[:1000]))
    return outcomes


# -- one problem: majority vote, pass rate, pass-rate band ---------------------------


def majority_applies(records: Sequence, config: VerifyConfig) -> bool:
    """The vote is on, and every record is a non-code answer without a reference."""
    return config.majority_vote and all(r.verdict_reason == "no_reference_answer" and not is_code(r)
                                        for r in records)


def vote(counts: collections.Counter, n: int, config: VerifyConfig) -> Tuple[Optional[str], str]:
    """(the winning answer key or None, reason) of a vote over ``n`` samples whose
    answer keys were counted in ``counts`` (samples without an answer count in ``n``).

    The most common answer wins when it is the only most common one, there are at
    least ``majority_min_samples`` samples and its share reaches ``majority_min_share``."""
    ranked = counts.most_common(2)
    top = ranked[0][1] if ranked else 0
    if n < config.majority_min_samples:
        return None, f"no_majority: {n} samples < {config.majority_min_samples}"
    if not ranked or (len(ranked) == 2 and ranked[1][1] == top) or top / n < config.majority_min_share:
        return None, f"no_majority: top answer {top}/{n} below {config.majority_min_share:g} or tied"
    return ranked[0][0], f"pseudo_label: {top}/{n} samples agree"


def voted_verdict(key: Optional[str], label: Optional[str]) -> str:
    """A sample's verdict against the vote's winning key (``unverifiable`` without one)."""
    if label is None:
        return "unverifiable"
    if key is None:
        return "no_answer"
    return "correct" if key == label else "incorrect"


def majority_vote(records: Sequence, config: VerifyConfig) -> Optional[List]:
    """The records of a problem without a reference relabelled against the majority
    answer (verifier ``majority-vote``, the pseudo-label and the agreement in the
    reason), or None when the vote doesn't apply (see :func:`majority_applies`).
    Answers are compared by :func:`answer_key`."""
    if not majority_applies(records, config):
        return None
    keys = [answer_key(r.extracted_answer) if r.extracted_answer else None for r in records]
    label, reason = vote(collections.Counter(k for k in keys if k is not None), len(records), config)
    if label is not None:
        shown = next(r.extracted_answer for r, k in zip(records, keys) if k == label)
        reason = f"{reason} on {shown!r}"
    return [r._replace(verdict=voted_verdict(k, label), verifier="majority-vote",
                       verifier_version=MAJORITY_VERSION, verdict_reason=reason)
            for r, k in zip(records, keys)]


def pass_rate(records: Sequence) -> float:
    return sum(r.verdict == "correct" for r in records) / len(records) if records else 0.0


def band_rejection(rate: float, records: Sequence, config: VerifyConfig) -> Optional[Tuple[str, str]]:
    """(reason, detail) when a problem's pass rate is outside the band, else None.

    Problems without a single decided verdict (all unverifiable, unavailable …) are
    never rejected for their rate: it says nothing about them."""
    if not any(r.verdict in ("correct", "incorrect", "no_answer") for r in records):
        return None
    band = f"[{config.min_pass_rate:g}, {config.max_pass_rate:g}]"
    if rate > config.max_pass_rate:
        return "pass_rate_too_high", f"pass rate {rate:.3f} above the band {band}"
    if rate < config.min_pass_rate:
        return "pass_rate_too_low", f"pass rate {rate:.3f} below the band {band}"
    return None


def finish_problem(records: Iterable, config: VerifyConfig = VerifyConfig()) -> Tuple[List, Optional[Tuple]]:
    """(records with majority vote and ``pass_rate`` applied, sorted by sample index;
    the band rejection (reason, detail) of the whole problem, or None)."""
    records = sorted(records, key=lambda r: (r.sample_index if r.sample_index is not None else 0,
                                             r.rollout_id or ""))
    records = majority_vote(records, config) or records
    rate = pass_rate(records)
    records = [r._replace(pass_rate=rate) for r in records]
    return records, band_rejection(rate, records, config)


def assign_pass_rates(group: Tuple[str, Iterable]) -> Iterator:
    """Set ``pass_rate`` = correct / n on every VerifiedRollout of one problem."""
    _, rollouts = group
    yield from finish_problem(rollouts)[0]


# -- the Beam stage --------------------------------------------------------------------


class _VerifyFn(beam.DoFn):
    """A list of Rollouts → VerifiedRollouts (pass_rate 0 until grouped), or DeadLetters."""

    def __init__(self, config: VerifyConfig):
        self._config = config
        self._verifiers = None

    def setup(self):
        # Nothing starts here: the math child on the first math answer, the sandbox
        # probe on the first code answer, the judge's model on the first undecided one.
        self._verifiers = Verifiers(self._config)

    def process(self, rollouts):
        for rollout, outcome in zip(rollouts, verify_batch(rollouts, self._verifiers, self._config)):
            if outcome.error is not None:
                yield beam.pvalue.TaggedOutput(DEAD, make_dead_letter(STAGE, STEP, outcome.error, record=rollout))
            else:
                beam.metrics.Metrics.counter(STAGE, f"verdict_{outcome.fields['verdict']}").inc()
                yield project(VerifiedRollout, rollout, pass_rate=0.0, **outcome.fields)

    def teardown(self):
        if self._verifiers is not None:
            self._verifiers.close()
            self._verifiers = None


class _FinishProblemFn(beam.DoFn):
    """(problem_id, VerifiedRollouts) → the rollouts with pass rates, or their rejections."""

    def __init__(self, config: VerifyConfig):
        self._config = config

    def process(self, group):
        records, rejection = finish_problem(group[1], self._config)
        for record in records:
            if rejection is None:
                yield record
            else:
                yield beam.pvalue.TaggedOutput(
                    REJECTED, make_rejection(record, STAGE, "verify_pass_rate", *rejection))


def _problem_key(verified) -> Tuple[str, object]:
    return verified.problem_id, verified


class VerifyAnswers(beam.PTransform):
    """PCollection[Rollout] → StageOutputs(kept=VerifiedRollouts, rejected, dead).

    Every rollout is kept with a verdict, except the problems outside the pass-rate
    band (rejected, reason ``pass_rate_too_high``/``_too_low``); ``pass_rate`` is
    computed over the verified rollouts of the same ``problem_id`` (dead-lettered
    ones don't count). With the judge on, rollouts are verified in batches of
    ``judge.batch_size`` so undecided ones share a model call."""

    def __init__(self, config: VerifyConfig = VerifyConfig()):
        super().__init__()
        self._config = config

    def expand(self, rollouts):
        if self._config.judge.enabled:
            batches = rollouts | "Batch" >> beam.BatchElements(
                min_batch_size=1, max_batch_size=self._config.judge.batch_size)
        else:
            batches = rollouts | "One" >> beam.Map(lambda r: [r])
        verified = batches | "Verify" >> beam.ParDo(_VerifyFn(self._config)).with_outputs(DEAD, main="kept")
        finished = (
            verified.kept
            | "KeyByProblem" >> beam.Map(_problem_key).with_output_types(Tuple[str, VerifiedRollout])
            | "GroupByProblem" >> beam.GroupByKey()
            | "PassRate" >> beam.ParDo(_FinishProblemFn(self._config)).with_output_types(VerifiedRollout)
            .with_outputs(REJECTED, main="kept")
        )
        return StageOutputs(kept=finished.kept, rejected=finished[REJECTED], dead=verified[DEAD])


# -- rows of a rollouts file (the ``verify`` command) ----------------------------------

def rollout_from_row(row: dict) -> Rollout:
    """A Rollout from a row of a user's rollouts file: ``prompt``, ``response`` (or
    ``completion``), optional ``problem_id`` (default: a hash of the prompt),
    ``domain`` (math, code, knowledge; code when ``tests`` are given),
    ``reference_answer``, ``choices``, ``tests`` (JSON text or value), ``metadata``."""
    response = row.get("response")
    if response is None:
        response = row.get("completion")
    if response is not None and not isinstance(response, str):
        raise ValueError(f"response: expected a string, got {type(response).__name__}")
    prompt = str(row.get("prompt") or "")
    tests = row.get("tests")
    if tests is not None and not isinstance(tests, str):
        tests = json.dumps(tests)
    metadata = row.get("metadata")
    if metadata is not None and not isinstance(metadata, str):
        metadata = json.dumps(metadata)
    reference = row.get("reference_answer")
    values = {
        "problem_id": str(row.get("problem_id") or stable_hash("prompt", prompt)),
        "prompt": prompt,
        "domain": str(row.get("domain") or ("code" if tests else "math")),
        "reference_answer": None if reference is None else str(reference),
        "choices": _choices(row.get("choices")),
        "tests": tests,
        "metadata": metadata,
        "completion": response or "",
        "answer": "",
        "sample_index": row.get("sample_index") if isinstance(row.get("sample_index"), int) else 0,
        "rollout_id": str(row.get("rollout_id") or ""),
    }
    return from_dict(Rollout, values)


def _choices(value) -> List[str]:
    """A row's choices: a list, or a list written as JSON or a Python literal."""
    if isinstance(value, str):
        for loader in (json.loads, ast.literal_eval):
            try:
                value = loader(value)
                break
            except (ValueError, SyntaxError):
                continue
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"choices: expected a list, got {type(value).__name__}")
    return [str(c) for c in value]


def verdict_row(row: dict, fields: Optional[dict], error: Optional[str] = None) -> dict:
    """The output row of the ``verify`` command: the input's fields plus the verdict's."""
    out = dict(row)
    if fields is None:
        fields = _fields(None, "error", "none", "", error or "unknown error")
    out.update(verdict=fields["verdict"], extracted_answer=fields["extracted_answer"],
               verifier=fields["verifier"], verifier_version=fields["verifier_version"],
               reason=fields["verdict_reason"], pass_rate=0.0)
    return out
