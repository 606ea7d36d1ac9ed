"""The ``vllm`` backend: the in-process ``vllm.LLM`` engine.

One engine per worker (or per worker VM when the handler shares the model
across processes), created in ``load()``. Beam's own vLLM handler sends one
sampling setting for every row and returns the n choices of a prompt in one
result; here every sample is its own engine request with ``n=1`` and the
sample's own seed (so a sample never depends on n, on its neighbours or on the
batching), and the prompt tokens are shared through prefix caching. The chat
template comes from the model's tokenizer; the prompt is tokenized once, without
extra special tokens, exactly as the ``transformers`` backend does.

The engine core runs inside the worker process (``VLLM_ENABLE_V1_MULTIPROCESSING=0``
unless set otherwise): vLLM's own engine process would be started with
``spawn``, which re-imports the launcher's ``__main__`` inside a Beam worker.
On CPU, vLLM's default pins its OpenMP threads to fixed cores, which every SDK
process of a worker (and anything else on the machine) then fights over: it is
off (``VLLM_CPU_OMP_THREADS_BIND=nobind``, unless set) and the engine uses
``config.torch_threads`` threads.
"""
from __future__ import annotations

import logging
import os
import time
from typing import List, Sequence

from transforms.models.backends.base import GenerationRequest, GenerationResult, Sample, resolve_model

logger = logging.getLogger(__name__)


def engine_kwargs(config) -> dict:
    """The ``vllm.LLM`` constructor arguments for a config."""
    path, extra = resolve_model(config)
    if "gguf_file" in extra:
        raise ValueError("backend 'vllm' needs a Hugging Face model directory or hub id, not a GGUF "
                         "file (convert it once: scripts/convert_smollm2.py)")
    kwargs = {
        "model": path,
        "tokenizer": path,
        "revision": extra.get("revision"),
        "dtype": config.dtype,
        "tensor_parallel_size": config.tensor_parallel_size,
        "enable_prefix_caching": True,
        "enforce_eager": config.enforce_eager,
        "seed": 0,  # every request carries its own seed
    }
    if config.max_model_len:
        kwargs["max_model_len"] = config.max_model_len
    if config.kv_cache_gib:
        kwargs["kv_cache_memory_bytes"] = int(config.kv_cache_gib * 1024 ** 3)
    if config.device != "cpu":
        kwargs["gpu_memory_utilization"] = config.gpu_memory_utilization
    return kwargs


def sampling_params_for(config, seed: int):
    """One engine request's ``SamplingParams``: a single sample with its own seed."""
    from vllm import SamplingParams

    return SamplingParams(
        n=1,
        temperature=config.temperature,
        top_p=config.top_p,
        top_k=config.top_k if config.top_k > 0 else 0,
        max_tokens=config.max_tokens,
        seed=seed,
        stop=list(config.stop) or None,
    )


def to_sample(output) -> Sample:
    """A vLLM ``CompletionOutput`` as a Sample (its finish reason mapped to stop | length)."""
    reason = "length" if output.finish_reason == "length" else "stop"
    return Sample(output.text, reason, len(output.token_ids))


class VLLMBackend:
    """n seeded samples per prompt from an in-process ``vllm.LLM``."""

    name = "vllm"

    def __init__(self, config):
        self.config = config
        self.llm = None
        self.tokenizer = None

    def load(self) -> None:
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        if self.config.device == "cpu":
            os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", "nobind")
            import torch

            torch.set_num_threads(self.config.torch_threads)
        from vllm import LLM

        started = time.perf_counter()
        self.llm = LLM(**engine_kwargs(self.config))
        self.tokenizer = self.llm.get_tokenizer()
        if not getattr(self.tokenizer, "chat_template", None):
            raise ValueError(f"model {self.config.model!r} has no chat template")
        logger.info("sample: vllm engine for %s ready in %.1f s", self.config.model,
                    time.perf_counter() - started)

    def render(self, messages: List[dict]) -> str:
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def generate(self, requests: Sequence[GenerationRequest]) -> List[GenerationResult]:
        started = time.perf_counter()
        prompts, params, owners = [], [], []
        for index, request in enumerate(requests):
            token_ids = self.tokenizer(request.prompt, add_special_tokens=False)["input_ids"]
            for seed in request.seeds:
                prompts.append({"prompt_token_ids": token_ids})
                params.append(sampling_params_for(self.config, seed))
                owners.append(index)
        outputs = self.llm.generate(prompts, params, use_tqdm=False) if prompts else []
        latency = time.perf_counter() - started
        samples: List[List[Sample]] = [[] for _ in requests]
        prompt_tokens = [0] * len(requests)
        for owner, output in zip(owners, outputs):
            samples[owner].append(to_sample(output.outputs[0]))
            prompt_tokens[owner] = len(output.prompt_token_ids)
        return [GenerationResult(s, p, latency) for s, p in zip(samples, prompt_tokens)]
