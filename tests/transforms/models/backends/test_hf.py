"""The transformers backend: decoding rules, the Gumbel sampler (one seed per row),
and (slow) the real SmolLM2 model: deterministic whatever the neighbours, n, greedy
and stop strings."""
from __future__ import annotations

import collections
import math
import os

os.environ["HF_HUB_OFFLINE"] = "1"

import pytest  # noqa: E402

from tests import backend_support as support  # noqa: E402
from transforms.models.backends.base import GenerationRequest  # noqa: E402
from transforms.models.backends.hf import (  # noqa: E402
    GumbelSampler,
    finish_sample,
    tokens_until,
    top_k_mask,
    top_p_mask,
)
from transforms.sample.config import SampleConfig  # noqa: E402
from transforms.sample.ids import sample_seed  # noqa: E402
from transforms.sample.prompts import build_messages  # noqa: E402

SEED = 1234


@pytest.mark.parametrize(
    "tokens, stop_ids, max_tokens, expected",
    [
        ([5, 6, 2, 2, 2], {2}, 5, ([5, 6], "stop", 3)),  # stop token counted, padding not
        ([2, 2, 2], {2}, 3, ([], "stop", 1)),
        ([5, 6, 7], {2}, 3, ([5, 6, 7], "length", 3)),
        ([5, 9, 0, 0], {2, 9}, 4, ([5], "stop", 2)),
        ([5, 6], {2}, 4, ([5, 6], "stop", 2)),  # ended early by another criterion
    ],
)
def test_finish_sample(tokens, stop_ids, max_tokens, expected):
    assert finish_sample(tokens, stop_ids, max_tokens) == expected


@pytest.mark.parametrize("text_end, expected", [(1, 1), (2, 1), (3, 2), (5, 3), (8, 4)])
def test_tokens_until(text_end, expected):
    def decode(tokens):  # every token is two characters
        return "".join(chr(96 + t) * 2 for t in tokens)

    assert tokens_until([1, 2, 3, 4], text_end, decode) == expected


@pytest.mark.parametrize(
    "probs, top_p, kept",
    [
        ([0.5, 0.3, 0.2], 0.5, [True, False, False]),
        ([0.5, 0.3, 0.2], 0.6, [True, True, False]),
        ([0.2, 0.5, 0.3], 0.75, [False, True, True]),
        ([0.2, 0.5, 0.3], 1.0, [True, True, True]),
        ([0.9, 0.05, 0.05], 0.1, [True, False, False]),
    ],
)
def test_top_p_mask(probs, top_p, kept):
    import torch

    scores = torch.tensor([[math.log(p) for p in probs]], dtype=torch.float64)
    assert (~top_p_mask(scores, top_p))[0].tolist() == kept


def _draw(sampler, scores, step=0):
    import torch

    input_ids = torch.zeros((scores.shape[0], 3 + step), dtype=torch.long)
    return sampler(input_ids, scores).argmax(dim=-1).tolist()


@pytest.mark.parametrize(
    "scores, top_k, kept",
    [
        ([0.5, 3.0, 1.0, 2.0], 2, [False, True, False, True]),
        ([0.5, 3.0, 1.0, 2.0], 1, [False, True, False, False]),
        ([0.5, 3.0, 1.0, 2.0], 0, [True, True, True, True]),  # off
        ([0.5, 3.0, 1.0, 2.0], 9, [True, True, True, True]),
        ([1.0, 2.0, 2.0, 0.0], 2, [False, True, True, False]),
        ([2.0, 1.0, 1.0, 0.0], 2, [True, True, True, False]),  # a tie at the k-th score is kept
    ],
)
def test_top_k_mask(scores, top_k, kept):
    import torch

    assert (~top_k_mask(torch.tensor([scores], dtype=torch.float64), top_k))[0].tolist() == kept


def test_gumbel_sampler_applies_top_k():
    import torch

    logits = torch.log(torch.tensor([0.4, 0.3, 0.2, 0.1], dtype=torch.float32))
    sampler = GumbelSampler(list(range(400)), prompt_len=3, temperature=1.0, top_p=1.0, top_k=2)
    assert set(_draw(sampler, logits.repeat(400, 1))) == {0, 1}


def test_gumbel_sampler_matches_the_tempered_distribution():
    import torch

    logits = torch.tensor([2.0, 1.0, 0.0, -1.0], dtype=torch.float32)
    temperature, draws = 0.8, 3000
    seeds = list(range(draws))
    sampler = GumbelSampler(seeds, prompt_len=3, temperature=temperature, top_p=1.0)
    counts = collections.Counter(_draw(sampler, logits.repeat(draws, 1)))
    expected = torch.softmax(logits / temperature, dim=0).tolist()
    for token, p in enumerate(expected):
        assert abs(counts[token] / draws - p) < 4 * math.sqrt(p * (1 - p) / draws) + 0.005


def test_gumbel_sampler_respects_top_p_and_rows_are_independent():
    import torch

    logits = torch.log(torch.tensor([0.6, 0.3, 0.1], dtype=torch.float32))
    seeds = list(range(500))
    sampler = GumbelSampler(seeds, prompt_len=3, temperature=1.0, top_p=0.8)
    picks = _draw(sampler, logits.repeat(len(seeds), 1))
    assert set(picks) == {0, 1}  # token 2 is outside the 0.8 nucleus
    for index in (0, 17, 499):  # a row alone draws what it drew among 500
        alone = GumbelSampler([seeds[index]], prompt_len=3, temperature=1.0, top_p=0.8)
        assert _draw(alone, logits.repeat(1, 1)) == [picks[index]]
    later = _draw(sampler, logits.repeat(len(seeds), 1), step=1)
    assert later != picks  # each step draws fresh noise


# -- the real model (slow) -------------------------------------------------------------

REAL = SampleConfig(model="smollm2", n=2, max_tokens=48, temperature=0.7, top_p=0.95, torch_threads=1)


PROMPTS = ["What is 12 + 30?", "What is 7 + 5?", "Name a prime number between 10 and 20."]


@pytest.fixture(scope="module")
def smollm2():
    return support.load_smollm2(REAL)


def _requests(backend, prompts, n):
    return [GenerationRequest(backend.render(build_messages(p, backend.config)),
                              tuple(sample_seed(SEED, p, i) for i in range(n))) for p in prompts]


@pytest.mark.slow
def test_real_model_is_deterministic_whatever_the_neighbours(smollm2):
    backend = support.with_config(smollm2, max_tokens=32)
    [alone] = backend.generate(_requests(backend, PROMPTS[1:2], 2))
    _, with_neighbour = backend.generate(_requests(backend, [PROMPTS[2], PROMPTS[1]], 2))
    assert with_neighbour.samples == alone.samples
    assert alone.samples[0] != alone.samples[1]  # different seeds, different samples


@pytest.mark.slow
def test_real_model_sample_does_not_depend_on_n(smollm2):
    backend = support.with_config(smollm2, max_tokens=24)
    [request] = _requests(backend, PROMPTS[:1], 4)
    [four] = backend.generate([request])
    for index in (0, 3):
        [alone] = backend.generate([GenerationRequest(request.prompt, (request.seeds[index],))])
        assert alone.samples == [four.samples[index]]


@pytest.mark.slow
def test_real_model_length_and_greedy(smollm2):
    [cut] = support.with_config(smollm2, max_tokens=3).generate(_requests(smollm2, PROMPTS[:1], 2))
    assert [(s.finish_reason, s.completion_tokens) for s in cut.samples] == [("length", 3)] * 2
    greedy = support.with_config(smollm2, temperature=0.0, max_tokens=12)
    [request] = _requests(greedy, PROMPTS[:1], 3)
    [result] = greedy.generate([request])
    assert len(result.samples) == 3 and len({s.text for s in result.samples}) == 1
    ids = smollm2.tokenizer(request.prompt, add_special_tokens=False, return_tensors="pt").input_ids
    reference = smollm2.model.generate(ids, max_new_tokens=12, do_sample=False, pad_token_id=smollm2.pad_id)
    expected = smollm2.tokenizer.decode(reference[0, ids.shape[1]:], skip_special_tokens=True)
    assert result.samples[0].text == expected
    smollm2.model.generation_config.repetition_penalty = 3.0  # a model default we must not pick up
    try:
        [again] = greedy.generate([request])
    finally:
        smollm2.model.generation_config.repetition_penalty = None
    assert again.samples[0].text == expected


@pytest.mark.slow
def test_real_model_stop_strings_end_the_sample(smollm2):
    free = support.with_config(smollm2, max_tokens=24, temperature=0.0)
    [whole] = free.generate(_requests(free, PROMPTS[:1], 1))
    text = whole.samples[0].text
    stop = text[6:9]
    stopped = support.with_config(smollm2, max_tokens=24, temperature=0.0, stop=(stop,))
    [cut] = stopped.generate(_requests(stopped, PROMPTS[:1], 1))
    assert cut.samples[0].text == text[:text.find(stop)]
    assert cut.samples[0].finish_reason == "stop"
    assert 1 <= cut.samples[0].completion_tokens < whole.samples[0].completion_tokens
