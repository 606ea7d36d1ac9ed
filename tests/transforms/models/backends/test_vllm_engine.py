"""The vllm backend: engine settings (fast), and the real in-process engine
(vLLM's CPU build) generating n seeded samples per prompt in a Beam pipeline (slow)."""
from __future__ import annotations

import dataclasses
import json
import os
import types

os.environ["HF_HUB_OFFLINE"] = "1"

import apache_beam as beam  # noqa: E402
import pytest  # noqa: E402
from apache_beam.testing.test_pipeline import TestPipeline as BeamPipeline  # noqa: E402
from apache_beam.testing.util import assert_that, equal_to  # noqa: E402

from schemas.records import Rollout, from_dict, to_dict  # noqa: E402
from tests import backend_support as support  # noqa: E402
from tests import factories  # noqa: E402
from transforms.models.backends.base import GenerationRequest  # noqa: E402
from transforms.models.backends.vllm_engine import VLLMBackend, engine_kwargs, to_sample  # noqa: E402
from transforms.sample.config import SampleConfig  # noqa: E402
from transforms.sample.ids import sample_seed  # noqa: E402
from transforms.sample.prompts import build_messages  # noqa: E402
from transforms.sample.transform import GenerateRollouts  # noqa: E402

SEED = 1234


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({}, {"tensor_parallel_size": 1, "enable_prefix_caching": True, "enforce_eager": False,
              "dtype": "float32", "seed": 0}),
        ({"tensor_parallel_size": 4, "device": "cuda", "dtype": "bfloat16", "gpu_memory_utilization": 0.8},
         {"tensor_parallel_size": 4, "dtype": "bfloat16", "gpu_memory_utilization": 0.8}),
        ({"enforce_eager": True, "max_model_len": 2048, "kv_cache_gib": 0.5},
         {"enforce_eager": True, "max_model_len": 2048, "kv_cache_memory_bytes": 512 * 1024 ** 2}),
        ({"model": "org/teacher", "revision": "abc"}, {"model": "org/teacher", "tokenizer": "org/teacher",
                                                       "revision": "abc"}),
    ],
)
def test_engine_kwargs(tmp_path, changes, expected):
    config = SampleConfig(backend="vllm", **{"model": str(tmp_path), **changes})
    kwargs = engine_kwargs(config)
    assert {k: kwargs.get(k) for k in expected} == expected
    assert ("gpu_memory_utilization" in kwargs) == (config.device != "cpu")
    assert ("kv_cache_memory_bytes" in kwargs) == bool(config.kv_cache_gib)


def test_engine_kwargs_refuse_a_gguf_file():
    with pytest.raises(ValueError, match="Hugging Face model directory"):
        engine_kwargs(SampleConfig(backend="vllm", model="smollm2"))


@pytest.mark.parametrize(
    "reason, expected",
    [("stop", "stop"), ("length", "length"), ("abort", "stop"), (None, "stop")],
)
def test_to_sample(reason, expected):
    output = types.SimpleNamespace(text="2 + 3 = 5", finish_reason=reason, token_ids=[5, 6, 7])
    assert tuple(to_sample(output)) == ("2 + 3 = 5", expected, 3)


# -- the real engine (slow) ---------------------------------------------------------------------

PROMPTS = ["What is 12 + 30?", "Name a prime number between 10 and 20.", "What is 7 + 5?"]


@pytest.fixture(scope="module")
def config():
    return SampleConfig(backend="vllm", model=support.converted_model(), n=3, max_tokens=12,
                        temperature=0.8, top_p=0.95, top_k=50, batch_size=2, enforce_eager=True,
                        max_model_len=1024, kv_cache_gib=0.25)


def _append_json(record, path):
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(to_dict(record)) + "\n")


@pytest.mark.slow
def test_vllm_engine_in_a_beam_pipeline_with_per_row_seeds(config, tmp_path):
    for name, value in support.QUIET_ENV.items():
        os.environ.setdefault(name, value)
    problems = [factories.problem(source_id=str(i), prompt=p) for i, p in enumerate(PROMPTS)]
    pipeline = BeamPipeline()
    out = pipeline | beam.Create(problems) | GenerateRollouts(config, SEED, "h")
    rows = tmp_path / "rollouts.jsonl"
    summary = out.kept | beam.Map(lambda r: (r.problem_id, r.sample_index, r.sample_seed, r.backend))
    assert_that(summary, equal_to([(p.problem_id, i, sample_seed(SEED, p.problem_id, i), "vllm")
                                   for p in problems for i in range(3)]))
    assert_that(out.dead, equal_to([]), label="NoDead")
    _ = out.kept | beam.Map(_append_json, str(rows))
    pipeline.run().wait_until_finish()
    collected = [from_dict(Rollout, json.loads(line)) for line in rows.read_text().splitlines()]
    assert len(collected) == 9
    for r in collected:
        assert 1 <= r.completion_tokens <= 12 and r.prompt_tokens > 20 and r.finish_reason in ("stop", "length")
        assert (r.finish_reason == "length") == (r.completion_tokens == 12)
        assert r.latency_s > 0 and r.completion
    assert len({r.completion for r in collected}) > 3  # seeds differ, samples differ

    # the same samples, each asked for alone from a bare engine: a sample depends on its seed only
    backend = VLLMBackend(dataclasses.replace(config, kv_cache_gib=0.125))
    backend.load()
    by_key = {(r.problem_id, r.sample_index): r.completion for r in collected}
    for problem in problems[:2]:
        prompt = backend.render(build_messages(problem.prompt, config))
        for index in (0, 2):
            [alone] = backend.generate([GenerationRequest(prompt, (sample_seed(SEED, problem.problem_id, index),))])
            assert alone.samples[0].text == by_key[(problem.problem_id, index)]
