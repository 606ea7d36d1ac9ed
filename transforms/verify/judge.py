"""The LLM judge for answers the rules can't decide: its settings, the one way to ask
it (requests) and the one way to read its answers, and a plain driver.

R1-style grading: the judge model gets the problem, the reference answer and the
response, and answers with a JSON object ``{"rationale": ..., "verdict":
"correct" | "incorrect"}``. Its rationale is kept as the verdict's reason. An item
without a reference (a knowledge answer to an open-ended request) is scored with a
rubric instead (:mod:`transforms.verify.rubric`: correctness, helpfulness and
harmlessness, a threshold keeps or rejects, the score kept in the reason).

:class:`JudgeConfig` keeps its fields and YAML shape (``curate.verify.judge``) and
derives the judge's :class:`~transforms.models.config.ModelConfig`
(:meth:`JudgeConfig.model_config`), so any backend of :mod:`transforms.models.backends`
works (``transformers``, ``vllm``, ``openai``, ``fake``). Plain functions build the
requests (:func:`judge_request`: the chat turns of :func:`judge_messages` and a seed
derived from the content) and read the answers (:func:`judgement_of`,
:func:`judged_fields`). Two drivers share them: the Beam stage's model step
(:mod:`transforms.verify.judge_step`, ``RunInference``) and :class:`LLMJudge`, a plain
object for the ``verify --input`` command's threads (:mod:`publish.verify_file`).

Only the JSON is trusted, and only as data: the judge's output is parsed with
``json`` (never evaluated); output without a usable verdict gives
``unverifiable`` (reason ``judge_unparseable``) with the raw text kept. Greedy
decoding (temperature 0) by default, and each request's seed is derived from
its content, so the same inputs get the same verdict.
"""
from __future__ import annotations

import dataclasses
import re
import threading
import typing
from typing import List, Optional, Sequence, Tuple

from transforms.core import derive_seed, error_text
from transforms.models.backends.base import Backend
from transforms.models.chat import ChatRequest, Generation, generate_chat
from transforms.models.config import ModelConfig, make_backend
from transforms.verify.rubric import RubricConfig, rubric_decision, rubric_messages, rubric_version
from transforms.verify.untrusted import answer_json_objects
from transforms.verify.verdicts import verdict_fields

JUDGE_PROMPT_VERSION = "judge-prompt==1"
JUDGE_VERDICTS = ("correct", "incorrect")
#: The verifier name of every verdict the judge gives.
JUDGE_VERIFIER = "llm-judge"
#: How the reason of every verdict of a judge that could not be loaded starts.
JUDGE_UNAVAILABLE = "judge unavailable: "
#: Longest reason a judged verdict keeps.
MAX_REASON_CHARS = 1000

JUDGE_SYSTEM = (
    "You are a strict grader. You compare a response's final answer with a reference answer "
    "and decide whether they are equivalent. Formatting, units written out and equivalent "
    "forms do not matter; a different value, an extra or missing part, or no final answer "
    "makes the response incorrect."
)
JUDGE_TEMPLATE = (
    "Problem:\n{problem}\n\nReference answer:\n{reference}\n\nResponse:\n{response}\n\n"
    "Is the response's final answer equivalent to the reference answer? Reply with only a "
    'JSON object: {{"rationale": "<one or two sentences>", "verdict": "correct" or "incorrect"}}'
)


@dataclasses.dataclass(frozen=True)
class JudgeConfig:
    """The judge model and when it is asked (``curate.verify.judge`` in the run config)."""

    enabled: bool = False
    domains: Tuple[str, ...] = ("knowledge",)  # undecided answers of these domains go to the judge
    backend: str = "transformers"  # transformers | vllm | openai | fake
    model: str = "smollm2"
    model_file: Optional[str] = None
    revision: Optional[str] = None
    base_url: Optional[str] = None  # openai backend
    api_key_env: Optional[str] = "OPENAI_API_KEY"
    temperature: float = 0.0  # greedy: the same inputs get the same verdict
    max_tokens: int = 256
    batch_size: int = 8  # undecided rollouts judged per model call
    max_response_chars: int = 4000  # the response's tail shown to the judge
    torch_threads: int = 1
    rubric: RubricConfig = RubricConfig()  # knowledge answers without a reference: scored by a rubric

    def __post_init__(self):
        if self.batch_size < 1:
            raise ValueError("batch_size: must be >= 1")
        if self.max_response_chars < 100:
            raise ValueError("max_response_chars: must be >= 100")

    def model_config(self) -> ModelConfig:
        """The judge's model: one greedy-by-default sample per request (top-p 1), the
        other model settings at their defaults."""
        return ModelConfig(
            backend=self.backend, model=self.model, model_file=self.model_file, revision=self.revision,
            base_url=self.base_url, api_key_env=self.api_key_env, temperature=self.temperature,
            top_p=1.0, max_tokens=self.max_tokens, batch_size=self.batch_size,
            torch_threads=self.torch_threads,
        )


def judge_version(config: JudgeConfig) -> str:
    """The ``verifier_version`` of the judge's verdicts: its model and prompt."""
    return f"{config.backend}:{config.model}|{JUDGE_PROMPT_VERSION}"


class JudgeItem(typing.NamedTuple):
    problem: str
    reference: str
    response: str


class Judgement(typing.NamedTuple):
    verdict: str  # correct | incorrect | unverifiable | infra_unavailable
    rationale: str  # the judge's rationale, or why there is no verdict
    raw: str  # the judge's whole output


def is_rubric(item: JudgeItem) -> bool:
    """An item without a reference: scored by the rubric."""
    return not (item.reference or "").strip()


def item_version(item: JudgeItem, config: JudgeConfig) -> str:
    """The ``verifier_version`` of the verdict on ``item``: the reference judge's or the rubric's."""
    return rubric_version(judge_version(config), config.rubric) if is_rubric(item) else judge_version(config)


def judge_messages(item: JudgeItem, config: JudgeConfig = JudgeConfig()) -> List[dict]:
    """The chat turns that ask the judge about one response (its tail, if long): the
    reference prompt, or the rubric's when the item has no reference."""
    response = item.response.strip()
    if len(response) > config.max_response_chars:
        response = "…" + response[-config.max_response_chars:]
    if is_rubric(item):
        return rubric_messages(item.problem, response)
    user = JUDGE_TEMPLATE.format(problem=item.problem.strip(), reference=item.reference.strip(), response=response)
    return [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]


def judge_request(item: JudgeItem, config: JudgeConfig = JudgeConfig()) -> ChatRequest:
    """The model request of one item: its chat turns and one seed derived from its content."""
    return ChatRequest(judge_messages(item, config), (derive_seed("judge", *item),))


_VERDICT_WORD = re.compile(r'(?i)"?verdict"?\s*[:=]\s*"?\s*(correct|incorrect)\b')


def parse_judgement(text: str) -> Optional[Tuple[str, str]]:
    """(verdict, rationale) from the judge's output, or None.

    The last JSON object with a ``verdict`` of correct/incorrect wins (thinking
    before ``</think>`` is skipped); failing that, a bare ``verdict: correct``."""
    text, objects = answer_json_objects(text)
    found = None
    for value in objects:
        if str(value.get("verdict", "")).strip().lower() in JUDGE_VERDICTS:
            found = (str(value["verdict"]).strip().lower(), str(value.get("rationale", "")).strip())
    if found:
        return found
    words = _VERDICT_WORD.findall(text)
    return (words[-1].lower(), "") if words else None


def judgement_of(generation: Generation, rubric: Optional[RubricConfig] = None) -> Judgement:
    """The Judgement of one model answer (read as the rubric's scores when ``rubric`` is
    given). A request that failed, or was never asked because the model could not be
    loaded (an error made by :func:`unavailable`), is ``infra_unavailable``, with why."""
    if generation.error is not None or generation.result is None or not generation.result.samples:
        error = generation.error or "no sample"
        reason = error if error.startswith(JUDGE_UNAVAILABLE) else f"judge failed: {error}"
        return Judgement("infra_unavailable", reason, "")
    raw = generation.result.samples[0].text
    parsed = parse_judgement(raw) if rubric is None else rubric_decision(raw, rubric)
    if parsed is None:
        return Judgement("unverifiable", "judge_unparseable", raw)
    return Judgement(parsed[0], parsed[1], raw)


def judged_fields(extracted_answer: Optional[str], judgement: Judgement, version: str) -> dict:
    """The verdict fields of a judged rollout: the judge's verdict, reason ``judge:
    <rationale>`` (or why there is none), the rules' extracted answer kept."""
    reason = f"judge: {judgement.rationale}" if judgement.verdict in JUDGE_VERDICTS else judgement.rationale
    return verdict_fields(extracted_answer, judgement.verdict, JUDGE_VERIFIER, version, reason[:MAX_REASON_CHARS])


def unavailable(error: str) -> str:
    """The reason of the verdicts of a judge whose model could not be loaded."""
    return f"{JUDGE_UNAVAILABLE}{error}"


class LLMJudge:
    """The judge outside Beam: judges batches of (problem, reference, response) with the
    backend of ``config.model_config()``, ``batch_size`` requests per model call.

    ``backend``: an already-made backend (tests); by default one is made with
    :func:`~transforms.models.config.make_backend` and loaded on the first ``judge``
    call (a load failure is remembered: every verdict is then ``infra_unavailable``).
    Thread-safe (calls take turns), so several verifying threads can share one model."""

    def __init__(self, config: JudgeConfig, backend: Optional[Backend] = None):
        self.config = config
        self._backend = backend
        self._loaded = False
        self._load_error: Optional[str] = None
        self._lock = threading.Lock()
        self.version = judge_version(config)

    def _ready(self) -> Optional[str]:
        """None once the backend is loaded, else why it can't be (remembered)."""
        if self._loaded or self._load_error:
            return self._load_error
        try:
            if self._backend is None:
                self._backend = make_backend(self.config.model_config())
            self._backend.load()
            self._loaded = True
        except Exception as exc:  # noqa: BLE001 - a judge that can't load makes its records infra_unavailable
            self._load_error = unavailable(error_text(exc))
        return self._load_error

    def judge(self, items: Sequence[JudgeItem]) -> List[Judgement]:
        """One Judgement per item, in order."""
        with self._lock:
            problem = self._ready()
            backend = self._backend
            if problem or backend is None:
                return [Judgement("infra_unavailable", problem or unavailable("no backend"), "") for _ in items]
            requests = [judge_request(item, self.config) for item in items]
            out: List[Judgement] = []
            for start in range(0, len(requests), self.config.batch_size):
                chunk = requests[start:start + self.config.batch_size]
                out += [judgement_of(g, self.config.rubric if is_rubric(item) else None)
                        for g, item in zip(generate_chat(backend, chunk), items[start:start + len(chunk)])]
            return out
