"""How rollouts are verified: :class:`VerifyConfig` (``curate.verify`` in the run config)."""
from __future__ import annotations

import dataclasses

from transforms.verify.judge import JudgeConfig
from transforms.verify.sandbox.config import SandboxConfig


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
