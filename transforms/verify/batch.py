"""The rules on each rollout, which rollouts go to the judge, and — outside Beam — a
batch of rollouts verified with the judge's call for those the rules left undecided.

The judge is asked (when ``judge.enabled`` and the domain is in ``judge.domains``)
about what the rules leave ``unverifiable`` with a ``needs_judge`` reason, and (with
``judge.rubric.enabled``) about every knowledge answer without a reference, which it
scores by a rubric (:func:`needs_judge`), about the item :func:`judge_item` makes of
the rollout. In the
Beam stage the judge is its own model step (:mod:`transforms.verify.judge_step`); the
``verify --input`` command calls :func:`verify_batch`, which asks a plain
:class:`~transforms.verify.judge.LLMJudge`. Both read the answers with
:func:`~transforms.verify.judge.judged_fields`.
"""
from __future__ import annotations

import typing
from typing import List, Optional, Sequence, Tuple, cast

from transforms.core import error_text
from transforms.verify.config import VerifyConfig
from transforms.verify.dispatch import normalize_gold, verify_rollout_fields
from transforms.verify.judge import JudgeItem, LLMJudge, item_version, judged_fields
from transforms.verify.mathcheck import MathVerifierProcess
from transforms.verify.routes.math import Pending, math_verify_fields
from transforms.verify.sandbox.runner import Sandbox
from transforms.verify.verdicts import JUDGE_METHOD_REASON, NEEDS_JUDGE

#: The rules' reason for an answer without a reference (the rubric judge's knowledge answers).
NO_REFERENCE = "no_reference_answer"


class Verifiers:
    """The checkers one worker (DoFn instance or CLI thread) owns: the math-verify
    child, the sandbox and, when enabled and ``with_judge``, the judge (loaded on first
    need; pass ``judge`` to share one between workers, ``judge_backend`` to give it a
    backend). The Beam stage's verify step has no judge (``with_judge=False``): its
    judge is a model step of its own."""

    def __init__(self, config: VerifyConfig, judge_backend=None, judge: Optional[LLMJudge] = None,
                 with_judge: bool = True):
        self.math = MathVerifierProcess(config.start_timeout_s, config.memory_limit_mb)
        self.sandbox = Sandbox(config.code)
        if judge is None and with_judge and config.judge.enabled:
            judge = LLMJudge(config.judge, backend=judge_backend)
        self.judge = judge if with_judge else None

    def close(self) -> None:
        self.math.close()


class Outcome(typing.NamedTuple):
    """The verdict fields of one rollout, or the error that stopped it (dead-lettered)."""

    fields: Optional[dict]
    error: Optional[str] = None


def needs_judge(domain: Optional[str], verdict: str, reason: str, config: VerifyConfig,
                kind: Optional[str] = None) -> bool:
    """The rules left this rollout (of ``domain``) undecided and the judge is on for its
    domain, or its source is verified by the judge (``verify: judge``, any domain), or it
    is a knowledge answer (``kind``) without a reference and the judge's rubric is on."""
    if not config.judge.enabled or verdict != "unverifiable":
        return False
    if kind == "knowledge" and reason == NO_REFERENCE and config.judge.rubric.enabled:
        return True
    return reason.startswith(NEEDS_JUDGE) and ((domain or "math") in config.judge.domains
                                               or reason == JUDGE_METHOD_REASON)


def judge_item(rollout) -> JudgeItem:
    """What the judge is shown of a rollout (or verified rollout): the problem, the
    reference as a bare answer ("" without one: the rubric), and the answer (the whole
    completion when none)."""
    gold = rollout.reference_answer
    reference = normalize_gold(gold) if gold is not None and str(gold).strip() else ""
    return JudgeItem(rollout.prompt or "", reference, rollout.answer or rollout.completion or "")


def verify_rules(rollout, verifiers: Verifiers, config: VerifyConfig) -> Outcome:
    """The rules' Outcome of one rollout; a rollout they fail on is an error outcome."""
    return verify_rules_batch([rollout], verifiers, config)[0]


def verify_rules_batch(rollouts: Sequence, verifiers: Verifiers, config: VerifyConfig) -> List[Outcome]:
    """The rules' Outcome of each rollout, in order (a rollout they fail on is an error
    outcome): the maths answers the rules leave to math-verify go to its child in one
    round trip for the whole batch (:meth:`~transforms.verify.mathcheck.MathVerifierProcess.verify_many`)."""
    outcomes: List[Optional[Outcome]] = []
    pending: List[Tuple[int, Pending]] = []
    for rollout in rollouts:
        try:
            checked = verify_rollout_fields(rollout, verifiers.math, config, sandbox=verifiers.sandbox, defer=True)
        except Exception as exc:  # noqa: BLE001 - one broken record must not stop the others
            outcomes.append(Outcome(None, error_text(exc)))
            continue
        if isinstance(checked, Pending):
            pending.append((len(outcomes), checked))
            outcomes.append(None)
        else:
            outcomes.append(Outcome(checked))
    if pending:
        math = verifiers.math
        results = math.verify_many([(p.gold, p.pred, p.left_s) for _, p in pending])
        for (i, checked), result in zip(pending, results):
            outcomes[i] = Outcome(math_verify_fields(checked, result, math.version))
    return cast(List[Outcome], outcomes)


def verify_batch(rollouts: Sequence, verifiers: Verifiers, config: VerifyConfig) -> List[Outcome]:
    """One Outcome per rollout, in order: the rules, then one judge call (through
    ``verifiers.judge``) for the rollouts they left undecided."""
    outcomes = verify_rules_batch(rollouts, verifiers, config)
    judge = verifiers.judge
    if judge is None:
        return outcomes
    pending = [(i, o.fields) for i, (r, o) in enumerate(zip(rollouts, outcomes)) if o.fields is not None
               and needs_judge(r.domain, o.fields["verdict"], o.fields["verdict_reason"], config, r.kind)]
    if pending:
        items = [judge_item(rollouts[i]) for i, _ in pending]
        judgements = judge.judge(items)
        for (i, fields), item, judgement in zip(pending, items, judgements):
            outcomes[i] = Outcome(judged_fields(fields["extracted_answer"], judgement,
                                                item_version(item, config.judge)))
    return outcomes
