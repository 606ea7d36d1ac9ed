"""The sampler loads its teacher only when something is to be generated: a resumed batch
whose rollouts are all persisted renders its prompts with the tokenizer alone (the real
SmolLM2 tokenizer here) and never loads the model; the first batch with a missing sample
loads it, once, and a load that failed fails later batches at once."""
from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"

import pytest  # noqa: E402

from tests import factories  # noqa: E402
from transforms.models.backends.base import GenerationRequest  # noqa: E402
from transforms.models.backends.fake import FakeBackend  # noqa: E402
from transforms.models.lazy import LazyBackend  # noqa: E402
from transforms.sample.config import SampleConfig  # noqa: E402
from transforms.sample.handler import SampleModelHandler  # noqa: E402
from transforms.sample.ids import expected_ids  # noqa: E402
from transforms.sample.journal import SampleTask  # noqa: E402
from transforms.sample.prompts import build_messages  # noqa: E402

SEED = 99


def _all_done(backend, problem, config):
    prompt = backend.render(build_messages(problem.prompt, config, problem.kind))
    ids = expected_ids(problem, prompt, config, SEED)
    return SampleTask(problem, [factories.rollout(i, rollout_id=rid) for i, rid in enumerate(ids)])


def test_a_fully_journaled_batch_renders_with_the_real_tokenizer_and_never_loads_the_model():
    config = SampleConfig(model="smollm2", n=2, max_tokens=8, torch_threads=1)
    handler = SampleModelHandler(config, SEED)
    backend = handler.load_model()
    assert isinstance(backend, LazyBackend) and not backend.loaded
    assert backend.backend.tokenizer is not None and backend.backend.model is None  # tokenizer only
    tasks = [_all_done(backend, factories.problem(source_id=str(i), prompt=f"What is {i} + 1?"), config)
             for i in range(3)]
    outcomes = list(handler.run_inference(tasks, backend))
    assert [o.reused for o in outcomes] == [2, 2, 2] and all(o.error is None for o in outcomes)
    assert [o.generated_tokens for o in outcomes] == [0, 0, 0]
    assert not backend.loaded and backend.backend.model is None


class _Counting(FakeBackend):
    loads = 0

    def load(self):
        type(self).loads += 1
        if self.config.model == "broken":
            raise OSError("no weights")


def test_the_first_missing_sample_loads_the_model_once_and_a_failed_load_fails_fast():
    config = SampleConfig(backend="fake", model="fake-model", n=2)
    _Counting.loads = 0
    lazy = LazyBackend(_Counting(config), "sample")
    lazy.load()
    assert _Counting.loads == 0 and lazy.generate([]) == [] and not lazy.loaded
    problem = factories.problem()
    done = _all_done(lazy, problem, config)
    partial = SampleTask(problem, done.done[:1])
    handler = SampleModelHandler(config, SEED)
    outcome = list(handler.run_inference([partial, done], lazy))
    assert [o.reused for o in outcome] == [1, 2] and lazy.loaded and _Counting.loads == 1
    lazy.generate([GenerationRequest("What is 1 + 1?", (1,))])
    assert _Counting.loads == 1

    broken = LazyBackend(_Counting(SampleConfig(backend="fake", model="broken")), "sample")
    broken.load()
    with pytest.raises(OSError):
        broken.generate([GenerationRequest("x", (1,))])
    with pytest.raises(RuntimeError, match="failed to load: no weights"):
        broken.generate([GenerationRequest("x", (1,))])
    assert _Counting.loads == 2
