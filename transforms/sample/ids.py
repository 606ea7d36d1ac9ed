"""Rollout ids and sample seeds: hashes over everything that decides a sample.

A rollout's id hashes (problem id, rendered prompt text, backend+model, sampling
params, sample index); a sample's seed is derived from the run seed, the problem id
and the sample index. Both are plain functions of their inputs, so how Beam groups
problems into bundles and batches never changes a sample, and a re-run finds the
rollouts it already has by id (see :mod:`transforms.sample.journal`).
"""
from __future__ import annotations

import json
from typing import Any, Dict, List

from schemas.records import Problem
from transforms.core import derive_seed, stable_hash
from transforms.sample.config import SampleConfig


def sampling_params(config: SampleConfig, seed: int) -> dict:
    """The parameters that, with the model and prompt, decide a sample.

    ``top_k`` and ``stop`` appear only when set, so the ids of runs that don't
    use them stay what they were."""
    params: Dict[str, Any] = {
        "temperature": config.temperature,
        "top_p": config.top_p,
        "max_tokens": config.max_tokens,
        "seed": seed,
    }
    if config.top_k:
        params["top_k"] = config.top_k
    if config.stop:
        params["stop"] = list(config.stop)
    return params


def model_key(config: SampleConfig) -> str:
    """The backend and model identity (file and revision included) as one string."""
    key = f"{config.backend}:{config.model}"
    if config.model_file:
        key += f"#{config.model_file}"
    if config.revision:
        key += f"@{config.revision}"
    return key


def rollout_id(
    problem_id: str, prompt_text: str, model: str, sampling_params: dict, sample_index: int
) -> str:
    """Stable id of one sample: a hash over everything that decides it."""
    params = json.dumps(sampling_params, sort_keys=True, separators=(",", ":"))
    return stable_hash(problem_id, prompt_text, model, params, sample_index)


def sample_seed(config_seed: int, problem_id: str, sample_index: int) -> int:
    """The seed the backend gets for sample ``sample_index`` of a problem."""
    return derive_seed(config_seed, problem_id, sample_index)


def expected_ids(problem: Problem, prompt_text: str, config: SampleConfig, seed: int) -> List[str]:
    """The rollout ids of sample indexes 0..n-1 of a problem."""
    params, key = sampling_params(config, seed), model_key(config)
    return [rollout_id(problem.problem_id, prompt_text, key, params, i) for i in range(config.n)]
