"""The chat model handler: one bad request fails alone, requests become generations
in order, and RunInference's batching and model sharing come from the ModelConfig."""
from __future__ import annotations

import pytest

from transforms.models.backends.base import GenerationRequest, GenerationResult
from transforms.models.backends.fake import FakeBackend
from transforms.models.config import ModelConfig
from transforms.models.handler import ChatModelHandler, ChatRequest, generate_chat, generate_isolated

FAKE = ModelConfig(backend="fake", model="fake-model", max_tokens=64, batch_size=2)


class _CountingFake(FakeBackend):
    """The fake backend, counting the samples it is asked for."""

    def __init__(self, config):
        super().__init__(config)
        self.asked = []

    def generate(self, requests):
        self.asked.extend(seed for r in requests for seed in r.seeds)
        return super().generate(requests)


def _fake(**changes):
    return FakeBackend(ModelConfig(**{"backend": "fake", "model": "fake-model", **changes}))


def test_generate_isolated_fails_only_the_bad_request():
    backend = _fake()
    requests = [GenerationRequest("What is 1 + 2?", (1, 2)), GenerationRequest("FAIL", (3,)),
                GenerationRequest("What is 3 + 4?", (4,))]
    outcomes = generate_isolated(backend, requests)
    assert [error for _, error in outcomes] == [None, "RuntimeError: fake backend: prompt asks to FAIL", None]
    assert outcomes[0][0] == backend.generate(requests[:1])[0]
    assert len(outcomes[2][0].samples) == 1


def test_a_failed_result_fails_only_its_request_without_asking_again():
    class PartlyFailing(_CountingFake):
        def generate(self, requests):
            results = super().generate(requests)
            return [GenerationResult([], 0, 0.0, "HTTP 400: bad") if "7" in r.prompt else res
                    for r, res in zip(requests, results)]

    backend = PartlyFailing(FAKE)
    requests = [GenerationRequest("What is 1 + 2?", (1, 2)), GenerationRequest("What is 7 + 1?", (3,))]
    outcomes = generate_isolated(backend, requests)
    assert [error for _, error in outcomes] == [None, "HTTP 400: bad"]
    assert backend.asked == [1, 2, 3]


class _Miscounting(FakeBackend):
    """Returns one sample too few for prompts mentioning 9."""

    def generate(self, requests):
        results = super().generate(requests)
        return [r._replace(samples=r.samples[:-1]) if "9" in q.prompt else r for q, r in zip(requests, results)]


def test_generate_chat_renders_prefills_and_fails_requests_alone():
    backend = _Miscounting(FAKE)
    ok = ChatRequest([{"role": "user", "content": "What is 1 + 2?"}], (1, 2))
    prefilled = ChatRequest([{"role": "user", "content": "What is 2 + 2?"}], (3,), prefill="<think>\nSo")
    failing = ChatRequest([{"role": "user", "content": "FAIL"}], (4,))
    unrenderable = ChatRequest([{"content": "no role"}], (5,))
    miscounted = ChatRequest([{"role": "user", "content": "What is 9 + 9?"}], (6, 7))
    generations = generate_chat(backend, [ok, prefilled, failing, unrenderable, miscounted])
    assert [g.request for g in generations] == [ok, prefilled, failing, unrenderable, miscounted]
    assert generations[0].prompt == backend.render(ok.messages)
    assert generations[1].prompt == backend.render(prefilled.messages) + "<think>\nSo"
    assert generations[0].result == backend.generate([GenerationRequest(generations[0].prompt, (1, 2))])[0]
    assert len(generations[1].result.samples) == 1
    assert [g.error for g in generations] == [
        None, None, "RuntimeError: fake backend: prompt asks to FAIL", "render: KeyError: 'role'",
        "backend returned 1 samples for 2 seeds"]
    assert all(g.result is None for g in generations[2:])


@pytest.mark.parametrize("changes", [{}, {"batch_size": 7, "share_model": True}])
def test_handler_batches_shares_and_loads_by_config(changes):
    config = ModelConfig(**{"backend": "fake", "model": "m", **changes})
    handler = ChatModelHandler(config, namespace="judge")
    assert handler.batch_elements_kwargs() == {"min_batch_size": 1, "max_batch_size": config.batch_size}
    assert handler.share_model_across_processes() == config.share_model
    assert handler.get_metrics_namespace() == "judge"
    model = handler.load_model()
    assert isinstance(model, FakeBackend) and model.config == config
    request = ChatRequest([{"role": "user", "content": "What is 4 + 4?"}], (1,))
    assert list(handler.run_inference([request], model)) == generate_chat(model, [request])
