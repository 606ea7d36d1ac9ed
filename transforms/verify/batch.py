"""A batch of rollouts: the rules on each, then one judge call for those they left
undecided (:mod:`transforms.verify.judge`, when ``judge.enabled`` and the domain is in
``judge.domains``; its rationale becomes the reason), with the checkers one worker
owns (:class:`Verifiers`)."""
from __future__ import annotations

import typing
from typing import List, Optional, Sequence

from transforms.core import error_text
from transforms.verify.config import VerifyConfig
from transforms.verify.dispatch import normalize_gold, verify_rollout_fields
from transforms.verify.judge import JudgeItem, LLMJudge
from transforms.verify.mathcheck import MathVerifierProcess
from transforms.verify.sandbox.runner import Sandbox
from transforms.verify.verdicts import NEEDS_JUDGE, verdict_fields


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
    """The rules left this rollout undecided, and the judge is on for its domain."""
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
            outcomes[i] = Outcome(verdict_fields(extracted, judgement.verdict, "llm-judge",
                                                 verifiers.judge.version, reason[:1000]))
    return outcomes
