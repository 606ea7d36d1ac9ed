"""The LLM judge: parsing its JSON verdicts (never evaluating them), the prompt,
failures as infra_unavailable, wiring through the fake backend and the Beam stage,
and the tiny real model through the transformers backend (slow)."""
import os

import apache_beam as beam
import pytest
from apache_beam.testing import test_pipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms.models.backends.base import GenerationResult, Sample
from transforms.verify.judge import JudgeConfig, JudgeItem, LLMJudge, judge_messages, parse_judgement
from transforms.verify.config import VerifyConfig
from transforms.verify.transform import VerifyAnswers

from tests.factories import make_rollout

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.mark.parametrize("text,expected", [
    ('{"rationale": "Both are 5.", "verdict": "correct"}', ("correct", "Both are 5.")),
    ('Sure!\n```json\n{"verdict": "Incorrect", "rationale": "5 is not 6."}\n```', ("incorrect", "5 is not 6.")),
    ('<think>maybe {"verdict": "correct"}</think>{"verdict": "incorrect", "rationale": "no"}', ("incorrect", "no")),
    ('{"rationale": "uses {braces}", "verdict": "correct"}', ("correct", "uses {braces}")),
    ('{"verdict": "correct"} then {"verdict": "incorrect", "rationale": "changed my mind"}',
     ("incorrect", "changed my mind")),
    ("Verdict: correct", ("correct", "")),
    ('{"verdict": "maybe", "rationale": "unsure"}', None),
    ('{"verdict": __import__("os").getcwd()}', None),  # never evaluated
    ("The answer is \\boxed{5}.", None),
    ("", None),
])
def test_parse_judgement(text, expected):
    assert parse_judgement(text) == expected


def test_judge_messages_carry_problem_reference_and_response_tail():
    config = JudgeConfig(max_response_chars=100)
    messages = judge_messages(JudgeItem("What is 2+3?", "5", "x" * 500 + " so the answer is 5"), config)
    assert [m["role"] for m in messages] == ["system", "user"]
    user = messages[1]["content"]
    assert "What is 2+3?" in user and "Reference answer:\n5" in user
    assert user.count("x") < 120 and "so the answer is 5" in user  # the tail, not the head


class _Backend:
    def __init__(self, fail_load=False, fail_generate=False, text='{"verdict": "correct", "rationale": "ok"}'):
        self.fail_load, self.fail_generate, self.text = fail_load, fail_generate, text
        self.calls = 0

    def load(self):
        if self.fail_load:
            raise RuntimeError("no weights here")

    def render(self, messages):
        return messages[-1]["content"]

    def generate(self, requests):
        self.calls += 1
        if self.fail_generate:
            raise ConnectionError("server went away")
        return [GenerationResult([Sample(self.text, "stop", 3)], 1, 0.0) for _ in requests]


ITEMS = [JudgeItem("Q", "George Washington", "Washington"), JudgeItem("Q2", "Paris", "The capital, Paris")]


def test_judge_batches_and_keeps_the_rationale():
    backend = _Backend()
    judgements = LLMJudge(JudgeConfig(enabled=True, batch_size=1), backend=backend).judge(ITEMS)
    assert [(j.verdict, j.rationale) for j in judgements] == [("correct", "ok")] * 2
    assert backend.calls == 2 and judgements[0].raw.startswith("{")


@pytest.mark.parametrize("backend,reason", [
    (_Backend(fail_load=True), "judge unavailable: RuntimeError: no weights here"),
    (_Backend(fail_generate=True), "judge failed: ConnectionError: server went away"),
])
def test_judge_failures_are_infra_unavailable(backend, reason):
    judgements = LLMJudge(JudgeConfig(enabled=True), backend=backend).judge(ITEMS)
    assert {(j.verdict, j.rationale) for j in judgements} == {("infra_unavailable", reason)}


def test_fake_backend_through_make_backend_is_deterministic():
    judge = LLMJudge(JudgeConfig(enabled=True, backend="fake"))
    first, second = judge.judge(ITEMS), judge.judge(ITEMS)
    assert first == second
    assert {j.verdict for j in first} == {"unverifiable"}  # the fake model writes no JSON
    assert first[0].rationale == "judge_unparseable" and "\\boxed" in first[0].raw


def test_judge_in_the_stage_with_the_fake_backend():
    config = VerifyConfig(judge=JudgeConfig(enabled=True, backend="fake", batch_size=2))
    rollouts = [make_rollout(problem_id=f"k{i}", rollout_id=f"k{i}", domain="knowledge",
                             reference_answer="George Washington", completion=answer)
                for i, answer in enumerate(["Washington", "George Washington", "George Bush"])]
    with test_pipeline.TestPipeline() as p:
        out = p | beam.Create(rollouts) | VerifyAnswers(config)
        assert_that(out.kept | beam.Map(lambda r: (r.rollout_id, r.verdict, r.verifier, r.verdict_reason)),
                    equal_to([("k0", "unverifiable", "llm-judge", "judge_unparseable"),
                              ("k1", "correct", "knowledge-rules", "normalized_match"),
                              ("k2", "unverifiable", "llm-judge", "judge_unparseable")]))


@pytest.mark.slow
def test_tiny_real_model_as_judge():
    """SmolLM2-135M through the transformers backend: a verdict or an honest
    judge_unparseable, the raw output kept, the same answer twice."""
    pytest.importorskip("transformers")
    from tests.backend_support import converted_model  # the GGUF converted once, shared with other tests

    config = JudgeConfig(enabled=True, backend="transformers", model=converted_model(), max_tokens=32)
    judge = LLMJudge(config)
    items = [JudgeItem("What is the capital of France?", "Paris", "The capital of France is Paris.")]
    first = judge.judge(items)[0]
    assert first.verdict in ("correct", "incorrect", "unverifiable"), first
    assert first.raw  # the model said something, and it is kept
    if first.verdict == "unverifiable":
        assert first.rationale == "judge_unparseable"
    assert judge.judge(items)[0] == first  # greedy: deterministic
