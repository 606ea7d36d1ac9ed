"""The judge in the Beam stage: its own model step (RunInference over the judge's
ModelConfig) and rule, the verdicts the plain judge gives for the same inputs, a model
that can't load as infra_unavailable, failed batches as dead letters, counters, and the
step graph."""
import collections
import json
import os

import apache_beam as beam
import pytest
from apache_beam.testing import test_pipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.records import Rollout, project
from tests.factories import make_rollout, make_verified
from transforms.core import Dead, record_json
from transforms.models.backends import BACKEND_CLASSES
from transforms.models.backends.base import GenerationResult, Sample
from transforms.models.handler import ChatRequest, Generation
from transforms.models.step import is_model_step
from transforms.verify import judge_step
from transforms.verify.batch import Verifiers, judge_item, verify_batch
from transforms.verify.config import VerifyConfig
from transforms.verify.judge import JudgeConfig, judge_request
from transforms.verify.judge_step import (
    JudgeModelHandler,
    JudgeVerdicts,
    UnavailableModel,
    failed_judge_batch,
    judge_task,
)
from transforms.verify.transform import VerifyAnswers

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ANSWERS = {
    "Washington": '{"rationale": "Same person, surname only.", "verdict": "correct"}',
    "George Bush": 'Thinking... {"verdict": "incorrect", "rationale": "A different president."}',
    "Abe Lincoln's successor, George": "I cannot decide.",
}


class _Scripted:
    """A backend (made by make_backend in place of 'fake') answering from ANSWERS by the
    response it is shown; "George ERRORS" fails alone, a "NOLOAD" model can't load."""

    def __init__(self, config):
        self.config = config

    def load(self):
        if self.config.model == "NOLOAD":
            raise OSError("no weights here")

    def render(self, messages):
        return "\n".join(m["content"] for m in messages)

    def generate(self, requests):
        out = []
        for request in requests:
            response = request.prompt.split("Response:\n", 1)[1].split("\n\n", 1)[0]
            if response == "George ERRORS":
                out.append(GenerationResult([], 0, 0.0, error="server said no"))
            else:
                out.append(GenerationResult([Sample(ANSWERS[response], "stop", 5)], 10, 0.0))
        return out


@pytest.fixture
def scripted(monkeypatch):
    monkeypatch.setitem(BACKEND_CLASSES, "fake", _Scripted)  # the runner works in this process


def _rollouts():
    return [make_rollout(problem_id=f"k{i % 2}", rollout_id=f"k{i}", sample_index=i, domain="knowledge",
                         prompt="Who was the first US president?", reference_answer="George Washington",
                         completion=c)
            for i, c in enumerate(["Washington", "George Bush", "Abe Lincoln's successor, George",
                                   "George Washington", "George ERRORS"])]


def _fields(r):
    return r.rollout_id, r.verdict, r.verifier, r.verifier_version, r.verdict_reason


def test_stage_verdicts_are_the_plain_judges(scripted):
    config = VerifyConfig(judge=JudgeConfig(enabled=True, backend="fake", batch_size=2))
    rollouts = _rollouts()
    verifiers = Verifiers(config)
    try:
        plain = verify_batch(rollouts, verifiers, config)  # the plain driver, same backend
    finally:
        verifiers.close()
    expected = [(r.rollout_id, o.fields["verdict"], o.fields["verifier"], o.fields["verifier_version"],
                 o.fields["verdict_reason"]) for r, o in zip(rollouts, plain)]
    assert expected == [
        ("k0", "correct", "llm-judge", "fake:smollm2|judge-prompt==1", "judge: Same person, surname only."),
        ("k1", "incorrect", "llm-judge", "fake:smollm2|judge-prompt==1", "judge: A different president."),
        ("k2", "unverifiable", "llm-judge", "fake:smollm2|judge-prompt==1", "judge_unparseable"),
        ("k3", "correct", "knowledge-rules", "knowledge-rules==1", "normalized_match"),
        ("k4", "infra_unavailable", "llm-judge", "fake:smollm2|judge-prompt==1", "judge failed: server said no"),
    ]
    with test_pipeline.TestPipeline() as p:
        out = p | beam.Create(rollouts) | VerifyAnswers(config)
        assert_that(out.kept | beam.Map(_fields), equal_to(expected), label="kept")
        assert_that(out.dead, equal_to([]), label="dead")
        assert_that(out.rejected, equal_to([]), label="rejected")


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


def test_a_judge_that_cannot_load_gives_infra_unavailable_verdicts(scripted):
    config = VerifyConfig(judge=JudgeConfig(enabled=True, backend="fake", model="NOLOAD"))
    with test_pipeline.TestPipeline() as p:
        out = p | beam.Create(_rollouts()[:2]) | VerifyAnswers(config)
        assert_that(out.kept | beam.Map(lambda r: (r.rollout_id, r.verdict, r.verdict_reason)), equal_to(
            [(f"k{i}", "infra_unavailable", "judge unavailable: OSError: no weights here") for i in range(2)]))


def _raise(*args, **kwargs):
    raise RuntimeError("the judge's handler broke")


def test_failed_judge_batches_dead_letter_their_rollouts(scripted, monkeypatch):
    monkeypatch.setattr(judge_step, "generate_chat", _raise)  # run_inference raises: a failed batch
    config = VerifyConfig(judge=JudgeConfig(enabled=True, backend="fake", batch_size=2))
    rollouts = _rollouts()
    by_id = {r.rollout_id: r for r in rollouts}
    with test_pipeline.TestPipeline() as p:
        out = p | beam.Create(rollouts) | VerifyAnswers(config)
        assert_that(out.kept | beam.Map(lambda r: r.rollout_id), equal_to(["k3"]), label="kept")
        assert_that(out.dead | beam.Map(lambda d: (d.stage, d.step, d.record_id, "the judge's handler broke" in d.error,
                                                   json.loads(d.payload) == json.loads(record_json(by_id[d.record_id])))),
                    equal_to([("curate", "verify_judge", f"k{i}", True, True) for i in (0, 1, 2, 4)]),
                    label="dead")  # each as the Rollout it came in as: nothing lost


def test_counters_count_each_rollout_once(scripted):
    config = VerifyConfig(judge=JudgeConfig(enabled=True, backend="fake", batch_size=2))
    p = beam.Pipeline(runner="FnApiRunner")
    _ = p | beam.Create(_rollouts()) | VerifyAnswers(config)
    result = p.run()
    result.wait_until_finish()
    verdicts = collections.Counter()
    for c in result.metrics().query()["counters"]:  # one result per step counting it
        if c.key.metric.namespace == "curate" and c.key.metric.name.startswith("verdict_"):
            verdicts["curate." + c.key.metric.name] += c.committed
    assert dict(verdicts) == {"curate.verdict_correct": 2, "curate.verdict_incorrect": 1,
                        "curate.verdict_unverifiable": 1, "curate.verdict_infra_unavailable": 1}


# -- the rules and the handler, called directly ---------------------------------------------


def test_judge_task_and_verdict_rule():
    config = JudgeConfig(enabled=True, backend="fake")
    verified = make_verified(make_rollout(domain="knowledge", reference_answer="\\boxed{George Washington}",
                                          completion="Washington"), extracted_answer="Washington",
                             verdict_reason="needs_judge: the rules can't decide", verifier="knowledge-rules")
    task = judge_task(verified, config)
    assert task == (verified, judge_request(judge_item(verified), config))
    assert "Reference answer:\nGeorge Washington" in task[1].messages[1]["content"]  # the bare gold
    answer = GenerationResult([Sample('{"verdict": "correct", "rationale": "same"}', "stop", 3)], 1, 0.0)
    judged = JudgeVerdicts(config)((verified, Generation(task[1], "p", answer, None)))
    assert judged == verified._replace(verdict="correct", verifier="llm-judge", verdict_reason="judge: same",
                                       verifier_version="fake:smollm2|judge-prompt==1")


def test_failed_batch_rule_dead_letters_each_rollout_as_a_rollout():
    verified = [make_verified(make_rollout(rollout_id=f"r{i}")) for i in range(2)]
    failed = ([(v, ChatRequest([], (1,))) for v in verified], ("RuntimeError", "RuntimeError('x')", ["tb\n"]))
    dead = failed_judge_batch(failed)
    assert dead == [Dead("judge: RuntimeError('x')\ntb\n", project(Rollout, v)) for v in verified]


def test_handler_of_a_model_that_cannot_load():
    handler = JudgeModelHandler(JudgeConfig(backend="openai", base_url="http://127.0.0.1:9/v1",
                                            api_key_env="NO_SUCH_KEY_VAR_FOR_TEST").model_config())
    model = UnavailableModel("judge unavailable: OSError: gone")
    requests = [ChatRequest([{"role": "user", "content": "q"}], (1,))]
    assert handler.run_inference(requests, model) == [Generation(requests[0], "", None, model.reason)]


def test_step_graph_has_the_judge_as_a_model_step():
    config = VerifyConfig(judge=JudgeConfig(enabled=True, backend="fake"))
    p = beam.Pipeline()
    _ = p | "Create" >> beam.Create([make_rollout()]) | "Verify" >> VerifyAnswers(config)
    labels = {}

    class _Labels(beam.pipeline.PipelineVisitor):
        def enter_composite_transform(self, node):
            labels[node.full_label] = is_model_step(node.transform)

        def visit_transform(self, node):
            labels[node.full_label] = is_model_step(node.transform)

    p.visit(_Labels())
    steps = [label for label in labels if label.count("/") == 1 and label.startswith("Verify/")]
    assert steps[:8] == ["Verify/One", "Verify/Verify", "Verify/NeedsJudge", "Verify/JudgeRequests",
                         "Verify/Judge", "Verify/JudgeVerdicts", "Verify/JudgeFailed", "Verify/Rejoin"]
    assert [label for label, model in labels.items() if model] == ["Verify/Judge"]
    off = beam.Pipeline()
    _ = off | "Create" >> beam.Create([make_rollout()]) | "Verify" >> VerifyAnswers(VerifyConfig())
    labels.clear()
    off.visit(_Labels())
    assert not any(labels.values()) and not any("Judge" in label for label in labels)
