"""The fake backend: deterministic, instant, right about half the time on sums."""
from __future__ import annotations

import pytest

from transforms.models.backends.base import GenerationRequest
from transforms.models.backends.fake import FakeBackend
from transforms.sample.config import SampleConfig
from transforms.sample.prompts import build_messages
from transforms.text.extract import boxed_contents


def _fake(**changes):
    return FakeBackend(SampleConfig(backend="fake", model="fake-model", **changes))


def test_fake_backend_answers_sums_right_about_half_the_time():
    backend = _fake()
    prompt = backend.render(build_messages("What is 17 + 25?", backend.config))
    [result] = backend.generate([GenerationRequest(prompt, tuple(range(400)))])
    answers = [boxed_contents(s.text)[-1] for s in result.samples]
    right = sum(a == "42" for a in answers) / len(answers)
    assert 0.4 < right < 0.6
    assert all(a.lstrip("-").isdigit() for a in answers)
    assert {s.finish_reason for s in result.samples} == {"stop"}
    twice = [backend.generate([GenerationRequest(prompt, (0, 1))]) for _ in range(2)]
    assert twice[0] == twice[1]


def test_fake_backend_length_rows_and_failures():
    backend = _fake(fake_length_rate=0.5, max_tokens=64)
    [result] = backend.generate([GenerationRequest("What is 1 + 1?", tuple(range(200)))])
    cut = [s for s in result.samples if s.finish_reason == "length"]
    assert 0.35 < len(cut) / 200 < 0.65
    assert all(s.completion_tokens == 64 and "</think>" not in s.text for s in cut)
    with pytest.raises(RuntimeError, match="FAIL"):
        backend.generate([GenerationRequest("please FAIL", (1,))])
