"""The sampler's model handler: rendering, resume (reuse what is persisted, ask only for
the rest), rollouts with every field, batching and sharing, the tokens of an outcome, and
(slow) the real SmolLM2 model."""
from __future__ import annotations

import dataclasses
import os
import time

os.environ["HF_HUB_OFFLINE"] = "1"

import pytest  # noqa: E402

from schemas.records import SCHEMA_VERSION, Rollout  # noqa: E402
from tests import backend_support as support  # noqa: E402
from tests import factories  # noqa: E402
from transforms.models.backends.fake import FakeBackend  # noqa: E402
from transforms.sample.config import SampleConfig  # noqa: E402
from transforms.sample.handler import (  # noqa: E402
    SampleModelHandler,
    generate_for_problems,
    make_rollouts,
    prepare,
    to_outcome,
)
from transforms.sample.ids import sample_seed  # noqa: E402
from transforms.sample.journal import SampleTask  # noqa: E402
from transforms.text.extract import split_reasoning  # noqa: E402

SEED = 1234
HASH = "cfghash"
FAKE_BASE = SampleConfig(backend="fake", model="fake-model")


def _fake(**changes):
    return FakeBackend(SampleConfig(backend="fake", model="fake-model", **changes))


def test_make_rollouts_fills_every_field():
    config = SampleConfig(backend="fake", model="fake-model", n=3, max_tokens=64, revision="r1")
    problem = factories.problem(prompt="What is 4 + 4?", seed=1, config_hash="old")
    [generated] = generate_for_problems(_fake(n=3, max_tokens=64), [problem], config, SEED)
    rollouts = make_rollouts(generated, config, SEED, HASH)
    assert [r.sample_index for r in rollouts] == [0, 1, 2]
    assert len({r.rollout_id for r in rollouts}) == 3
    for r in rollouts:
        assert None not in (getattr(r, f) for f in Rollout._fields
                            if f not in ("reference_answer", "tests", "difficulty", "language", "metadata"))
        assert r.sample_seed == sample_seed(SEED, problem.problem_id, r.sample_index)
        assert (r.seed, r.config_hash, r.schema_version) == (SEED, HASH, SCHEMA_VERSION)
        assert (r.teacher_model, r.teacher_revision, r.backend) == ("fake-model", "r1", "fake")
        assert (r.temperature, r.top_p, r.max_tokens) == (0.7, 0.95, 64)
        assert (r.reasoning, r.answer) == split_reasoning(r.completion)
        assert r.answer.startswith("The answer is \\boxed{")
        assert (r.problem_id, r.prompt, r.reference_answer) == (problem.problem_id, problem.prompt, "5")
        assert r.prompt_tokens > 0 and r.completion_tokens > 0


def test_handler_batches_and_shares_by_config():
    handler = SampleModelHandler(dataclasses.replace(FAKE_BASE, batch_size=3), SEED)
    assert handler.batch_elements_kwargs() == {"min_batch_size": 1, "max_batch_size": 3}
    assert not handler.share_model_across_processes()
    shared = SampleModelHandler(dataclasses.replace(FAKE_BASE, share_model=True), SEED)
    assert shared.share_model_across_processes()


# -- resume: reuse persisted rollouts, generate only the missing ones ------------------

RESUME = SampleConfig(backend="fake", model="fake-model", n=3, max_tokens=64, batch_size=2)


class _CountingFake(FakeBackend):
    """The fake backend, counting the samples it is asked for."""

    def __init__(self, config):
        super().__init__(config)
        self.asked = []

    def generate(self, requests):
        self.asked.extend(seed for r in requests for seed in r.seeds)
        return super().generate(requests)


def _full_rollouts(problem, config=RESUME):
    [generated] = generate_for_problems(FakeBackend(config), [problem], config, SEED)
    return make_rollouts(generated, config, SEED, HASH)


def test_prepare_reuses_expected_ids_and_ignores_stale_ones():
    problem = factories.problem(prompt="What is 2 + 2?")
    full = _full_rollouts(problem)
    stale = _full_rollouts(problem, dataclasses.replace(RESUME, temperature=0.3))[1]
    prepared = prepare(FakeBackend(RESUME), SampleTask(problem, [full[2], stale, full[0]]), RESUME, SEED)
    assert prepared.indices == (1,)
    assert prepared.seeds == (sample_seed(SEED, problem.problem_id, 1),)
    assert [r.sample_index for r in prepared.reused] == [0, 2]
    assert prepared.error is None


@pytest.mark.parametrize("done_indexes", [(), (0,), (1, 2), (0, 1, 2)])
def test_resumed_rollouts_equal_a_fresh_run_and_skip_the_model(done_indexes):
    problem = factories.problem(prompt="What is 6 + 7?")
    full = _full_rollouts(problem)
    done = [full[i]._replace(config_hash="an earlier run") for i in done_indexes]
    backend = _CountingFake(RESUME)
    [generated] = generate_for_problems(backend, [SampleTask(problem, done)], RESUME, SEED)
    assert make_rollouts(generated, RESUME, SEED, HASH) == full
    assert sorted(backend.asked) == sorted(r.sample_seed for r in full if r.sample_index not in done_indexes)


def test_outcomes_count_the_tokens_of_new_samples_only():
    """Prompt tokens count the prompt once per sample generated now; reused ones cost nothing."""
    problem = factories.problem(prompt="What is 6 + 7?")
    full = _full_rollouts(problem)
    backend = _CountingFake(RESUME)
    for done in ([], full[:1], full):
        [generated] = generate_for_problems(backend, [SampleTask(problem, done)], RESUME, SEED)
        outcome = to_outcome(generated, RESUME, SEED, HASH)
        new = [r for r in outcome.rollouts if r.rollout_id not in {d.rollout_id for d in done}]
        assert outcome.reused == len(done)
        assert outcome.prompt_tokens == sum(r.prompt_tokens for r in new)
        assert outcome.generated_tokens == sum(r.completion_tokens for r in new)
    assert outcome.prompt_tokens == 0 and full[0].prompt_tokens > 0


# -- the real model (slow) -------------------------------------------------------------

REAL = SampleConfig(model="smollm2", n=2, max_tokens=48, temperature=0.7, top_p=0.95, torch_threads=1)


PROMPTS = ["What is 12 + 30?", "What is 7 + 5?", "Name a prime number between 10 and 20."]


@pytest.fixture(scope="module")
def smollm2():
    return support.load_smollm2(REAL)


@pytest.mark.slow
def test_real_model_generates_and_splits(smollm2):
    problems = [factories.problem(source_id=str(i), prompt=p) for i, p in enumerate(PROMPTS[:2])]
    started = time.perf_counter()
    generated = generate_for_problems(smollm2, problems, REAL, SEED)
    seconds = time.perf_counter() - started
    rollouts = [r for g in generated for r in make_rollouts(g, REAL, SEED, HASH)]
    tokens = sum(r.completion_tokens for r in rollouts)
    print(f"\nsmollm2: {tokens} tokens in {seconds:.1f} s = {tokens / seconds:.1f} tok/s (n=2, 1 thread)")
    assert [g.error for g in generated] == [None, None]
    assert len(rollouts) == 4
    assert "<|im_start|>assistant\n" in generated[0].prompt_text
    for r in rollouts:
        assert r.completion.strip() and "<|im_end|>" not in r.completion
        assert (r.reasoning, r.answer) == split_reasoning(r.completion)
        assert r.finish_reason in ("stop", "length")
        assert 1 <= r.completion_tokens <= 48 and r.prompt_tokens > 20
        assert (r.finish_reason == "length") == (r.completion_tokens == 48)
        assert r.backend == "transformers" and r.teacher_model == "smollm2"
