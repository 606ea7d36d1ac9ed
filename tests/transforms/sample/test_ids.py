"""Rollout ids and sample seeds: hashes over everything that decides a sample."""
from __future__ import annotations

import pytest

from transforms.core import derive_seed
from transforms.sample.config import SampleConfig
from transforms.sample.ids import model_key, rollout_id, sample_seed, sampling_params

BASE_ID_ARGS = dict(problem_id="p1", prompt_text="<prompt>", model="fake:m",
                    sampling_params={"temperature": 0.7, "top_p": 0.95, "max_tokens": 64, "seed": 1},
                    sample_index=0)


@pytest.mark.parametrize(
    "changes",
    [
        {"problem_id": "p2"},
        {"prompt_text": "<prompt> "},
        {"model": "fake:m@rev"},
        {"sampling_params": {"temperature": 0.8, "top_p": 0.95, "max_tokens": 64, "seed": 1}},
        {"sampling_params": {"temperature": 0.7, "top_p": 0.95, "max_tokens": 64, "seed": 2}},
        {"sample_index": 1},
    ],
)
def test_rollout_id_changes_with_every_input(changes):
    base = rollout_id(**BASE_ID_ARGS)
    assert rollout_id(**{**BASE_ID_ARGS, **changes}) != base


def test_rollout_id_is_stable_and_order_free():
    reordered = dict(reversed(list(BASE_ID_ARGS["sampling_params"].items())))
    first = rollout_id(**BASE_ID_ARGS)
    assert first == rollout_id(**{**BASE_ID_ARGS, "sampling_params": reordered})
    assert len(first) == 16 and int(first, 16) >= 0


@pytest.mark.parametrize(
    "changes, extra",
    [
        ({}, {}),
        ({"n": 9, "batch_size": 3, "concurrency": 2}, {}),  # how much and how, not what
        ({"top_k": 20}, {"top_k": 20}),
        ({"stop": ("</answer>", "\n\n")}, {"stop": ["</answer>", "\n\n"]}),
    ],
)
def test_sampling_params_hold_what_decides_a_sample(changes, extra):
    config = SampleConfig(**{"temperature": 0.5, "top_p": 0.9, "max_tokens": 32, "n": 7, **changes})
    assert sampling_params(config, 9) == {"temperature": 0.5, "top_p": 0.9, "max_tokens": 32, "seed": 9,
                                          **extra}


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({}, "transformers:smollm2"),
        ({"backend": "fake", "model": "m"}, "fake:m"),
        ({"model": "org/m", "revision": "abc"}, "transformers:org/m@abc"),
        ({"model": "/models/x", "model_file": "x.gguf"}, "transformers:/models/x#x.gguf"),
    ],
)
def test_model_key(changes, expected):
    assert model_key(SampleConfig(**changes)) == expected


@pytest.mark.parametrize("config_seed, problem_id, index", [(1, "p", 0), (1234, "abc", 3), (0, "", 15)])
def test_sample_seed_is_derived(config_seed, problem_id, index):
    seed = sample_seed(config_seed, problem_id, index)
    assert seed == derive_seed(config_seed, problem_id, index)
    assert 0 <= seed < 2**31


def test_sample_seeds_differ_across_indexes_problems_and_run_seeds():
    seeds = {sample_seed(s, p, i) for s in (1, 2) for p in ("a", "b") for i in range(8)}
    assert len(seeds) == 2 * 2 * 8
