"""A deterministic, instant backend for wiring, resume and crash tests."""
from __future__ import annotations

import json
import os
import re
import time
from typing import List, Sequence, Union

from transforms.core import hash_score, stable_hash
from transforms.models.backends.base import GenerationRequest, GenerationResult, Sample

_SUM_RE = re.compile(r"What is (-?\d+) \+ (-?\d+)\?")


class FakeBackend:
    """Deterministic completions: the text of a sample is a function of (prompt, seed).

    For a prompt asking "What is A + B?" (the last such question in it) about
    half of the seeds answer correctly and the others are off by a few; a share
    ``config.fake_length_rate`` of the samples is cut off ("length", no answer).
    A request whose prompt contains "FAIL" makes ``generate`` raise.

    For crash tests, ``config.fake_delay_s`` makes every ``generate`` call take
    that long, and ``config.fake_request_log`` names a file that gets one JSON
    line per sample asked for (appended, so several worker processes may share
    it): the count of what the "model" was asked to do.
    """

    name = "fake"

    def __init__(self, config):
        self.config = config

    def load(self) -> None:
        """Nothing to load."""

    def load_renderer(self) -> None:
        """Nothing to load."""

    def render(self, messages: List[dict]) -> str:
        turns = "".join(f"<|{m['role']}|>\n{m['content']}\n" for m in messages)
        return turns + "<|assistant|>\n"

    def generate(self, requests: Sequence[GenerationRequest]) -> List[GenerationResult]:
        if self.config.fake_delay_s:
            time.sleep(self.config.fake_delay_s)
        results = []
        for request in requests:
            if "FAIL" in request.prompt:
                raise RuntimeError("fake backend: prompt asks to FAIL")
            self._log(request)
            samples = [self._sample(request.prompt, seed) for seed in request.seeds]
            results.append(GenerationResult(samples, len(request.prompt.split()), 0.0))
        return results

    def _log(self, request: GenerationRequest) -> None:
        if not self.config.fake_request_log:
            return
        lines = "".join(json.dumps({"prompt": stable_hash(request.prompt), "seed": seed}) + "\n"
                        for seed in request.seeds)
        with open(self.config.fake_request_log, "a", encoding="utf-8") as fh:
            fh.write(lines)
            fh.flush()
            os.fsync(fh.fileno())

    def _sample(self, prompt: str, seed: int) -> Sample:
        key = stable_hash("fake", prompt, seed)
        sums = _SUM_RE.findall(prompt)
        value: Union[int, str]  # the sum (right or off by a little), else a made-up answer
        if sums:
            a, b = (int(x) for x in sums[-1])
            correct = int(key[0], 16) % 2 == 0
            value = a + b if correct else a + b + (1, 2, -1, -2)[int(key[1:9], 16) % 4]
            reasoning = f"We add {a} and {b}.\n{a} + {b} = {value}."
        else:
            value = key[:4]
            reasoning = f"Thinking about it ({key})."
        if hash_score(seed, f"length:{prompt}") < self.config.fake_length_rate:
            return Sample(f"<think>\n{reasoning}", "length", self.config.max_tokens)
        text = f"<think>\n{reasoning}\n</think>\nThe answer is \\boxed{{{value}}}."
        return Sample(text, "stop", min(len(text.split()) + 1, self.config.max_tokens))
