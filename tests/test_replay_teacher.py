"""The replay teacher (benchmarks/replay_teacher.py): a real loopback HTTP server that
the ``openai`` backend talks to, answering each sample's seed with its recorded rollout
and logging every request with its tokens; an unrecorded sample is a 404."""
from __future__ import annotations

import json

import pytest

from benchmarks.replay_teacher import ReplayTeacher
from tests import factories
from transforms.models.backends.base import GenerationRequest
from transforms.models.backends.openai_api import OpenAIBackend
from transforms.sample.config import SampleConfig
from transforms.sample.prompts import build_messages


def _recorded():
    return [factories.rollout(i, prompt="What is 2 + 3?", sample_seed=100 + i, completion=f"text {i} \\boxed{{5}}",
                              completion_tokens=10 + i, prompt_tokens=21, finish_reason="length" if i == 2 else "stop")
            for i in range(3)]


def test_the_openai_backend_gets_the_recorded_rollouts_and_the_server_logs_them(tmp_path):
    log = tmp_path / "requests.jsonl"
    with ReplayTeacher(_recorded(), ttft_s=0.01, tokens_per_s=1000, log_path=str(log)) as teacher:
        config = SampleConfig(backend="openai", model="replay", base_url=teacher.base_url, api_key_env=None,
                              max_retries=0)
        backend = OpenAIBackend(config)
        backend.load()
        prompt = backend.render(build_messages("What is 2 + 3?", config, "reasoning"))
        [result] = backend.generate([GenerationRequest(prompt, (102, 100))])
        assert [(s.text, s.completion_tokens, s.finish_reason) for s in result.samples] == [
            ("text 2 \\boxed{5}", 12, "length"), ("text 0 \\boxed{5}", 10, "stop")]
        assert result.prompt_tokens == 21
        assert teacher.totals() == {"requests": 2, "prompt_tokens": 42, "completion_tokens": 22}
        [missing] = backend.generate([GenerationRequest(prompt, (999,))])
        assert missing.error is not None and "404" in missing.error
        other = backend.render(build_messages("What is 7 + 1?", config, "reasoning"))
        [wrong_prompt] = backend.generate([GenerationRequest(other, (100,))])
        assert wrong_prompt.error is not None and "404" in wrong_prompt.error
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted((e["seed"], e["status"]) for e in logged) == [(100, 200), (100, 404), (102, 200), (999, 404)]
    assert {e["sample_index"] for e in logged if e["status"] == 200} == {0, 2}


def test_latency_grows_with_the_recorded_tokens():
    teacher = ReplayTeacher(_recorded(), ttft_s=0.1, tokens_per_s=100)
    assert teacher.latency_s({"completion_tokens": 50}) == pytest.approx(0.6)
    assert ReplayTeacher([], ttft_s=0.1, tokens_per_s=100, speed=2).latency_s({"completion_tokens": 50}) == \
        pytest.approx(0.3)
