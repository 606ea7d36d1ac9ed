"""The LLM judge: its ModelConfig, parsing its JSON verdicts (never evaluating them),
the prompt and the request's content-derived seed, the verdict fields of an answer,
failures as infra_unavailable, the plain driver (LLMJudge) through the fake backend,
and the tiny real model through the transformers backend, where the plain driver and
the Beam stage's judge step must agree (slow). The Beam step itself:
test_judge_step.py."""
import os

import apache_beam as beam
import pytest
from apache_beam.testing import test_pipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.factories import make_rollout
from transforms.core import derive_seed
from transforms.models.backends.base import GenerationResult, Sample
from transforms.models.config import ModelConfig
from transforms.models.handler import ChatRequest, Generation
from transforms.verify.batch import Verifiers, verify_batch
from transforms.verify.config import VerifyConfig
from transforms.verify.judge import (
    JudgeConfig,
    JudgeItem,
    Judgement,
    LLMJudge,
    judge_messages,
    judge_request,
    judge_version,
    judged_fields,
    judgement_of,
    parse_judgement,
    unavailable,
)
from transforms.verify.transform import VerifyAnswers

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def test_model_config_is_the_judges_settings_with_one_greedy_sample():
    config = JudgeConfig(enabled=True, backend="openai", model="grader", base_url="http://127.0.0.1:9/v1",
                         api_key_env="KEY", temperature=0.2, max_tokens=64, batch_size=3, torch_threads=2)
    assert config.model_config() == ModelConfig(
        backend="openai", model="grader", base_url="http://127.0.0.1:9/v1", api_key_env="KEY", temperature=0.2,
        top_p=1.0, max_tokens=64, batch_size=3, torch_threads=2)
    default = JudgeConfig().model_config()  # everything else at the model layer's defaults
    assert (default.backend, default.model, default.temperature, default.top_p, default.max_tokens,
            default.batch_size, default.top_k, default.stop, default.device, default.share_model) == (
        "transformers", "smollm2", 0.0, 1.0, 256, 8, 0, (), "cpu", False)
    assert judge_version(config) == "openai:grader|judge-prompt==1"


def test_request_asks_the_messages_with_a_seed_derived_from_the_content():
    config = JudgeConfig(max_response_chars=100)
    item = JudgeItem("What is 2+3?", "5", "so 5")
    request = judge_request(item, config)
    assert request == ChatRequest(judge_messages(item, config), (derive_seed("judge", "What is 2+3?", "5", "so 5"),))
    assert judge_request(item, config) == request  # the same content, the same seed
    assert judge_request(item._replace(response="so 6"), config).seeds != request.seeds


def _generation(text=None, error=None):
    result = None if text is None else GenerationResult([Sample(text, "stop", 3)], 1, 0.0)
    return Generation(ChatRequest([], (1,)), "p", result, error)


@pytest.mark.parametrize("generation,expected", [
    (_generation('{"verdict": "correct", "rationale": "ok"}'),
     Judgement("correct", "ok", '{"verdict": "correct", "rationale": "ok"}')),
    (_generation("no idea"), Judgement("unverifiable", "judge_unparseable", "no idea")),
    (_generation(error="ConnectionError: gone"), Judgement("infra_unavailable", "judge failed: ConnectionError: gone", "")),
    (_generation(error=unavailable("OSError: no weights")),
     Judgement("infra_unavailable", "judge unavailable: OSError: no weights", "")),
    (Generation(ChatRequest([], (1,)), "p", GenerationResult([], 1, 0.0), None),
     Judgement("infra_unavailable", "judge failed: no sample", "")),
])
def test_judgement_of_an_answer(generation, expected):
    assert judgement_of(generation) == expected


def test_judged_fields_keep_the_extracted_answer_and_the_rationale():
    assert judged_fields("Washington", Judgement("correct", "same", "{}"), "v") == dict(
        extracted_answer="Washington", verdict="correct", verifier="llm-judge", verifier_version="v",
        verdict_reason="judge: same")
    fields = judged_fields(None, Judgement("unverifiable", "judge_unparseable", "?"), "v")
    assert (fields["verdict"], fields["verdict_reason"]) == ("unverifiable", "judge_unparseable")
    assert len(judged_fields(None, Judgement("incorrect", "x" * 5000, ""), "v")["verdict_reason"]) == 1000


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


@pytest.mark.slow
def test_tiny_real_model_the_plain_judge_and_the_stage_judge_agree():
    """The same rollouts judged by the plain driver (LLMJudge, for `verify --input`) and by
    the stage's model step (RunInference): the same verdicts, reasons and versions."""
    pytest.importorskip("transformers")
    from tests.backend_support import converted_model

    config = VerifyConfig(judge=JudgeConfig(enabled=True, backend="transformers", model=converted_model(),
                                            max_tokens=32, batch_size=2))
    rollouts = [make_rollout(problem_id="k", rollout_id=f"k{i}", sample_index=i, domain="knowledge",
                             prompt="Who was the first US president?", reference_answer="George Washington",
                             completion=answer)
                for i, answer in enumerate(["Washington", "George Bush", "Lincoln", "Washington, the general"])]
    verifiers = Verifiers(config)
    try:
        plain = verify_batch(rollouts, verifiers, config)  # what `verify --input` runs
    finally:
        verifiers.close()
    expected = [(r.rollout_id,) + tuple(o.fields[k] for k in ("verdict", "verifier", "verifier_version",
                                                               "verdict_reason"))
                for r, o in zip(rollouts, plain)]
    assert [e[2] for e in expected] == ["llm-judge", "llm-judge", "knowledge-rules", "llm-judge"]
    with test_pipeline.TestPipeline() as p:
        out = p | beam.Create(rollouts) | VerifyAnswers(config)
        assert_that(out.kept | beam.Map(lambda r: (r.rollout_id, r.verdict, r.verifier, r.verifier_version,
                                                   r.verdict_reason)), equal_to(expected))
