"""The rules on each rollout, which rollouts go to the judge, and — outside Beam — a
batch of rollouts verified with the judge's call for those the rules left undecided.

The judge is asked (when ``judge.enabled`` and the domain is in ``judge.domains``)
about what the rules leave ``unverifiable`` with a ``needs_judge`` reason
(:func:`needs_judge`), about the item :func:`judge_item` makes of the rollout. In the
Beam stage the judge is its own model step (:mod:`transforms.verify.judge_step`); the
``verify --input`` command calls :func:`verify_batch`, which asks a plain
:class:`~transforms.verify.judge.LLMJudge`. Both read the answers with
:func:`~transforms.verify.judge.judged_fields`.
"""
from __future__ import annotations

import typing
from typing import List, Optional, Sequence

from transforms.core import error_text
from transforms.verify.config import VerifyConfig
from transforms.verify.dispatch import normalize_gold, verify_rollout_fields
from transforms.verify.judge import JudgeItem, LLMJudge, judged_fields
from transforms.verify.mathcheck import MathVerifierProcess
from transforms.verify.sandbox.runner import Sandbox
from transforms.verify.verdicts import JUDGE_METHOD_REASON, NEEDS_JUDGE


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


def needs_judge(domain: Optional[str], verdict: str, reason: str, config: VerifyConfig) -> bool:
    """The rules left this rollout (of ``domain``) undecided, and the judge is on for its
    domain, or its source is verified by the judge (``verify: judge``, any domain)."""
    return (config.judge.enabled and verdict == "unverifiable" and reason.startswith(NEEDS_JUDGE)
            and ((domain or "math") in config.judge.domains or reason == JUDGE_METHOD_REASON))


def judge_item(rollout) -> JudgeItem:
    """What the judge is shown of a rollout (or verified rollout): the problem, the
    reference as a bare answer, and the answer (the whole completion when none)."""
    reference = rollout.reference_answer
    return JudgeItem(rollout.prompt or "", normalize_gold(reference) if reference else "",
                     rollout.answer or rollout.completion or "")


def verify_rules(rollout, verifiers: Verifiers, config: VerifyConfig) -> Outcome:
    """The rules' Outcome of one rollout; a rollout they fail on is an error outcome."""
    try:
        return Outcome(verify_rollout_fields(rollout, verifiers.math, config, sandbox=verifiers.sandbox))
    except Exception as exc:  # noqa: BLE001 - one broken record must not stop the others
        return Outcome(None, error_text(exc))


def verify_batch(rollouts: Sequence, verifiers: Verifiers, config: VerifyConfig) -> List[Outcome]:
    """One Outcome per rollout, in order: the rules, then one judge call (through
    ``verifiers.judge``) for the rollouts they left undecided."""
    outcomes = [verify_rules(rollout, verifiers, config) for rollout in rollouts]
    judge = verifiers.judge
    if judge is None:
        return outcomes
    pending = [(i, o.fields) for i, (r, o) in enumerate(zip(rollouts, outcomes)) if o.fields is not None
               and needs_judge(r.domain, o.fields["verdict"], o.fields["verdict_reason"], config)]
    if pending:
        judgements = judge.judge([judge_item(rollouts[i]) for i, _ in pending])
        for (i, fields), judgement in zip(pending, judgements):
            outcomes[i] = Outcome(judged_fields(fields["extracted_answer"], judgement, judge.version))
    return outcomes
