"""The model step: RunInference over a handler (or a ModelConfig), its failed batches
as their own output, and the mark the launcher finds model steps by."""
from __future__ import annotations

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline as BeamPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms.models.backends.fake import FakeBackend
from transforms.models.config import ModelConfig
from transforms.models.handler import ChatModelHandler, ChatRequest, generate_chat
from transforms.models.step import ModelStep, is_model_step

FAKE = ModelConfig(backend="fake", model="fake-model", max_tokens=64, batch_size=2)


def _requests():
    return [ChatRequest([{"role": "user", "content": f"What is {i} + {i}?"}], (i, i + 10)) for i in range(5)]


class _Exploding(ChatModelHandler):
    """A handler whose whole batch fails when it holds a request mentioning 3."""

    def run_inference(self, batch, model, inference_args=None):
        if any("3" in r.messages[0]["content"] for r in batch):
            raise MemoryError("out of memory")
        return super().run_inference(batch, model, inference_args)


def test_a_model_step_from_a_config_generates_every_request():
    requests = _requests()
    pipeline = BeamPipeline()
    out = pipeline | beam.Create(requests) | ModelStep("Ask", FAKE)
    expected = generate_chat(FakeBackend(FAKE), requests)
    assert_that(out.results, equal_to(expected), label="Results")
    assert_that(out.failed, equal_to([]), label="NoFailures")
    pipeline.run().wait_until_finish()


def test_failed_batches_come_out_on_their_own():
    requests = _requests()
    pipeline = BeamPipeline()
    out = pipeline | beam.Create(requests) | ModelStep("Ask", _Exploding(FAKE))
    failed = out.failed | beam.FlatMap(lambda f: [(r.seeds[0], f[1][1]) for r in f[0]])
    answered = out.results | beam.Map(lambda g: g.request.seeds[0])
    both = ((failed | "FailedSeeds" >> beam.Map(lambda x: x[0])), answered) | beam.Flatten()
    assert_that(both, equal_to([r.seeds[0] for r in requests]), label="EveryRequestOnce")
    assert_that(failed | beam.Filter(lambda x: x[0] == 3) | beam.Map(lambda x: x[1]),
                equal_to(["MemoryError('out of memory')"]), label="TheBadOne")
    pipeline.run().wait_until_finish()


def test_model_steps_are_marked_and_labelled():
    handler = ChatModelHandler(FAKE)
    step = ModelStep("Judge", handler)
    assert is_model_step(step) and step.label == "Judge" and step.handler is handler
    assert isinstance(ModelStep("Ask", FAKE).handler, ChatModelHandler)
    assert not is_model_step(beam.Map(str))
    pipeline = beam.Pipeline()
    out = pipeline | beam.Create(_requests()) | ModelStep("Ask", FAKE)
    _ = out.results | "After" >> beam.Map(str)
    found = []

    class Finder(beam.pipeline.PipelineVisitor):
        def enter_composite_transform(self, node):
            if is_model_step(node.transform):
                found.append(node.full_label)

    pipeline.visit(Finder())
    assert found == ["Ask"]


def test_a_chat_model_step_counts_its_tokens_in_its_namespace():
    """Prompt tokens once per sample (each sample is its own request), and the samples' tokens."""
    from transforms.models.handler import answer_progress, usage

    requests = _requests()
    expected = generate_chat(FakeBackend(FAKE), requests)
    prompt = sum(g.result.prompt_tokens * len(g.request.seeds) for g in expected)
    completion = sum(s.completion_tokens for g in expected for s in g.result.samples)
    assert prompt > 0 and completion > 0
    assert sum(usage(g)[0] for g in expected) == prompt
    assert answer_progress(("key", expected[0])) == answer_progress(expected[0]) == {
        "requests": 1, "prompt_tokens": usage(expected[0])[0], "completion_tokens": usage(expected[0])[1]}
    pipeline = beam.Pipeline()
    _ = pipeline | beam.Create(requests) | ModelStep("Ask", ChatModelHandler(FAKE, namespace="mix"))
    result = pipeline.run()
    result.wait_until_finish()
    counted = {c.key.metric.name: c.committed for c in result.metrics().query(
        beam.metrics.MetricsFilter().with_namespace("mix"))["counters"]}
    assert counted["prompt_tokens"] == prompt and counted["completion_tokens"] == completion
