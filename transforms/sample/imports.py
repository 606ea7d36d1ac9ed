"""Imported SFT answers as rollouts: the answer as it came, with a chain of thought
written by the teacher for non-trivial prompts.

A Problem imported from SFT data (:mod:`transforms.ingest.sft`) carries its answer
in its metadata. The sample stage does not ask the teacher to answer it again; it
makes one rollout (sample index 0) of it (``sample.imports``):

* ``cot: none``, or a trivial prompt ("Hello!", "谢谢！": :mod:`transforms.text.trivial`):
  the answer alone, no model call (``backend`` ``import``, ``teacher_model``
  ``import:<source>``, no tokens);
* ``cot: teacher`` (the default) and a non-trivial prompt: the teacher is asked,
  with ``cot_template``, to write the thinking that leads to that answer (as R1 had
  DeepSeek-V3 write one for some non-reasoning tasks); the rollout is
  ``<think>\\n{thinking}\\n</think>\\n\\n{answer}``, the thinking its reasoning (the
  teacher's own ``<think>`` part, if it writes one, is dropped).

Curate then judges the answer as any knowledge answer without a reference (the
judge's rubric) and filters it with the knowledge kind's settings; the mix keeps the
thinking per ``mix.knowledge_format.cot`` (``full`` keeps it).

```yaml
sample:
  imports:
    cot: teacher          # teacher | none
    trivial_max_words: 6  # small talk up to this long gets no chain of thought
```
"""
from __future__ import annotations

import dataclasses
from typing import List, Optional, Tuple

from schemas.records import SCHEMA_VERSION, Problem, Rollout, project
from transforms.core import error_text
from transforms.core.imported import imported_response
from transforms.text.extract import THINK_CLOSE
from transforms.text.trivial import is_trivial

COT_MODES = ("teacher", "none")
#: The backend name of rollouts whose answer was imported as is.
IMPORT_BACKEND = "import"

COT_TEMPLATE = (
    "Below are a request and the answer an assistant gave to it.\n\nRequest:\n{prompt}\n\nAnswer:\n{answer}\n\n"
    "Write the step-by-step thinking the assistant did before writing this answer: what the request "
    "asks, what matters, and how the answer follows. Write only the thinking, in the language of the "
    "request, without repeating the answer."
)


@dataclasses.dataclass(frozen=True)
class ImportConfig:
    """How imported SFT answers become rollouts (``sample.imports`` in the run config)."""

    cot: str = "teacher"  # teacher: the teacher writes a chain of thought for non-trivial prompts | none
    cot_template: str = COT_TEMPLATE  # must contain {prompt} and {answer}
    trivial_max_words: int = 6  # small talk up to this many words gets no chain of thought

    def __post_init__(self):
        if self.cot not in COT_MODES:
            raise ValueError(f"cot: must be one of {', '.join(COT_MODES)}, got {self.cot!r}")
        for name in ("{prompt}", "{answer}"):
            if name not in self.cot_template:
                raise ValueError(f"cot_template: must contain {name}")
        try:
            self.cot_template.format(prompt="", answer="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"cot_template: only {{prompt}} and {{answer}} may be substituted (write literal "
                             f"braces as {{{{ }}}}): {error_text(exc)}") from None
        if self.trivial_max_words < 0:
            raise ValueError("trivial_max_words: must be >= 0")


def imported_answer(problem: Problem) -> Optional[str]:
    """The answer an imported problem carries, or None for a problem to sample."""
    return imported_response(problem.metadata)


def wants_cot(problem: Problem, config: ImportConfig) -> bool:
    """Whether the teacher writes a chain of thought for this imported problem."""
    return config.cot == "teacher" and not is_trivial(problem.prompt, max_words=config.trivial_max_words)


def cot_messages(problem: Problem, answer: str, config: ImportConfig, system_prompt: Optional[str]) -> List[dict]:
    """The chat turns that ask the teacher for the thinking behind an imported answer."""
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    messages.append({"role": "user", "content": config.cot_template.format(prompt=problem.prompt, answer=answer)})
    return messages


def thinking_of(text: str) -> str:
    """The chain of thought in the teacher's output (after its own ``</think>``, if any)."""
    return (text.rpartition(THINK_CLOSE)[2] if THINK_CLOSE in text else text).strip()


def import_fields(answer: str, thinking: Optional[str]) -> Tuple[str, str, str]:
    """(completion, reasoning, answer) of an imported rollout."""
    answer = answer.strip()
    if not thinking:
        return answer, "", answer
    return f"<think>\n{thinking}\n</think>\n\n{answer}", thinking, answer


def direct_rollout(problem: Problem, answer: str, rollout_id: str, sample_seed: int, seed: int,
                   config_hash: str) -> Rollout:
    """The rollout of an imported answer kept as it came (no model call)."""
    completion, reasoning, answer = import_fields(answer, None)
    return project(
        Rollout, problem, rollout_id=rollout_id, sample_index=0, sample_seed=sample_seed,
        teacher_model=f"{IMPORT_BACKEND}:{problem.source}", teacher_revision=None, backend=IMPORT_BACKEND,
        temperature=0.0, top_p=1.0, max_tokens=0, completion=completion, reasoning=reasoning, answer=answer,
        finish_reason="stop", prompt_tokens=0, completion_tokens=0, latency_s=0.0, seed=seed,
        config_hash=config_hash, schema_version=SCHEMA_VERSION,
    )
