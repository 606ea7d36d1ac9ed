"""The answer checker of journeys: the curate verifier's rules on any text, as one
picklable object.

The mix stage verifies every journey it builds (and every locate probe) the way curate
verified the rollouts, but it must not import this package: its launcher
(:mod:`pipelines.mix`) builds an :class:`AnswerChecker` from ``curate.verify`` and
injects it, so the mix rules only see a callable ``(record, text) -> verdict fields``.

On a worker, the RuleStep that holds it calls ``setup()`` (a math-verify child process,
:class:`~transforms.verify.mathcheck.MathVerifierProcess`, started on its first maths
answer) and ``teardown()`` (the child closed). Code answers have no sandbox here: they
come back ``infra_unavailable``.
"""
from __future__ import annotations

from typing import Optional

from transforms.verify.config import VerifyConfig
from transforms.verify.dispatch import verify_rollout_fields
from transforms.verify.mathcheck import MathVerifierProcess


class AnswerChecker:
    """``checker(record, text)`` → the verdict fields (all VERDICT_FIELDS but
    ``pass_rate``) of ``text`` as an answer to the record's problem.

    Picklable before and after ``setup()``: a started verifier never travels (a copy
    starts its own). Called without ``setup()`` (outside Beam), it sets itself up."""

    def __init__(self, config: VerifyConfig = VerifyConfig()):
        self.config = config
        self._verifier: Optional[MathVerifierProcess] = None

    def setup(self) -> None:
        if self._verifier is None:
            self._verifier = MathVerifierProcess(self.config.start_timeout_s, self.config.memory_limit_mb)

    def teardown(self) -> None:
        if self._verifier is not None:
            self._verifier.close()
            self._verifier = None

    def __call__(self, record, text: str) -> dict:
        self.setup()
        return verify_rollout_fields(record._replace(answer=text, completion=text), self._verifier, self.config)

    def __getstate__(self) -> dict:
        return {"config": self.config, "_verifier": None}
