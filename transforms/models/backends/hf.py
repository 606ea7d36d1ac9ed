"""The ``transformers`` backend: a causal LM on CPU or one GPU, the embedded default.

Each prompt is decoded in its own ``generate`` call with the prompt repeated
once per seed (so there is no padding), and every row draws its randomness from
a generator seeded by (sample seed, step) through the Gumbel-max trick on top of
greedy decoding. How Beam groups problems into batches therefore never changes
a sample.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, List, Optional, Sequence, Tuple

from transforms.core import derive_seed
from transforms.models.backends.base import (
    GenerationRequest,
    GenerationResult,
    Sample,
    cut_at_stop,
    resolve_model,
)

logger = logging.getLogger(__name__)


def top_k_mask(scores, top_k: int):
    """Boolean mask of the tokens outside the ``top_k`` most likely (ties at the
    k-th score are kept); ``top_k <= 0`` masks nothing."""
    import torch

    if top_k <= 0 or top_k >= scores.shape[-1]:
        return torch.zeros_like(scores, dtype=torch.bool)
    kth = torch.topk(scores, top_k, dim=-1).values[..., -1:]
    return scores < kth


def top_p_mask(scores, top_p: float):
    """Boolean mask of the tokens outside the nucleus: the smallest set of most
    likely tokens whose probability reaches ``top_p`` is kept (at least one)."""
    import torch

    ordered, order = torch.sort(scores, dim=-1, descending=True, stable=True)
    probs = ordered.softmax(dim=-1)
    before = probs.cumsum(dim=-1) - probs  # probability mass ranked above each token
    outside_sorted = before >= top_p
    outside_sorted[..., 0] = False
    return outside_sorted.scatter(-1, order, outside_sorted)


def gumbel_noise(seed: int, size: int):
    """``size`` standard Gumbel draws from a CPU generator seeded with ``seed``."""
    import torch

    generator = torch.Generator(device="cpu").manual_seed(seed)
    uniform = torch.rand(size, generator=generator, dtype=torch.float64)
    tiny = torch.finfo(torch.float64).tiny
    return -torch.log(-torch.log(uniform.clamp(min=tiny, max=1.0 - 1e-16)))


class GumbelSampler:
    """A logits processor that turns greedy decoding into seeded sampling.

    Temperature, then top-k, then top-p are applied here (vLLM's order), then
    every row gets Gumbel noise drawn from its own generator seeded by (row
    seed, generation step); the argmax that greedy decoding takes is then an
    exact sample from the tempered, filtered distribution (Gumbel-max trick).
    A row's draws never depend on the other rows of the batch."""

    def __init__(self, seeds: Sequence[int], prompt_len: int, temperature: float, top_p: float,
                 top_k: int = 0):
        self.seeds = list(seeds)
        self.prompt_len = prompt_len
        self.temperature = temperature
        self.top_p = top_p
        self.top_k = top_k

    def __call__(self, input_ids, scores):
        import torch

        step = input_ids.shape[1] - self.prompt_len
        scores = scores.to(torch.float64) / self.temperature
        if self.top_k > 0:
            scores = scores.masked_fill(top_k_mask(scores, self.top_k), float("-inf"))
        if self.top_p < 1.0:
            scores = scores.masked_fill(top_p_mask(scores, self.top_p), float("-inf"))
        noise = torch.stack(
            [gumbel_noise(derive_seed("gumbel", seed, step), scores.shape[-1]) for seed in self.seeds]
        )
        return scores + noise.to(scores.device)


def first_stop(tokens: Sequence[int], stop_ids) -> Optional[int]:
    """Index of the first stop token in ``tokens``, or None."""
    for i, token in enumerate(tokens):
        if token in stop_ids:
            return i
    return None


def finish_sample(tokens: Sequence[int], stop_ids, max_tokens: int) -> Tuple[List[int], str, int]:
    """(text tokens, finish reason, completion token count) of one generated row.

    The row ends at its first stop token (counted, not kept in the text); what
    follows it is padding. A row without a stop token was cut at ``max_tokens``."""
    stop = first_stop(tokens, stop_ids)
    if stop is not None:
        return list(tokens[:stop]), "stop", stop + 1
    return list(tokens), "length" if len(tokens) >= max_tokens else "stop", len(tokens)


def tokens_until(tokens: Sequence[int], text_end: int, decode: Callable[[List[int]], str]) -> int:
    """The fewest leading tokens whose text reaches ``text_end`` characters (binary search)."""
    low, high = 1, len(tokens)
    while low < high:
        mid = (low + high) // 2
        if len(decode(list(tokens[:mid]))) >= text_end:
            high = mid
        else:
            low = mid + 1
    return low


class TransformersBackend:
    """A causal LM run with ``transformers`` ``generate``, one call per prompt."""

    name = "transformers"

    def __init__(self, config) -> None:
        self.config = config
        # transformers' model and tokenizer, once load() has imported the library
        self.model: Any = None
        self.tokenizer: Any = None
        self.stop_ids: Tuple[int, ...] = ()
        self.pad_id: Optional[int] = None

    def load_renderer(self) -> None:
        """Load the tokenizer only: enough to render prompts (see transforms.models.lazy)."""
        from transformers import AutoTokenizer

        if self.tokenizer is not None:
            return
        path, kwargs = resolve_model(self.config)
        self.tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
        if not getattr(self.tokenizer, "chat_template", None):
            raise ValueError(f"model {self.config.model!r} has no chat template")

    def load(self) -> None:
        """Load the tokenizer and the model (never at import)."""
        import torch
        from transformers import AutoModelForCausalLM

        torch.set_num_threads(self.config.torch_threads)
        path, kwargs = resolve_model(self.config)
        dtype = "auto" if self.config.dtype == "auto" else getattr(torch, self.config.dtype)
        started = time.perf_counter()
        self.load_renderer()
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, **kwargs)
        self.model = model.to(self.config.device).eval()
        self.stop_ids = self._stop_ids()
        if not self.stop_ids:
            raise ValueError(f"model {self.config.model!r} has no end-of-sequence token")
        pad = self.tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else self.stop_ids[0]
        logger.info("sample: loaded %s in %.1f s", self.config.model, time.perf_counter() - started)

    def _stop_ids(self) -> Tuple[int, ...]:
        ids = self.model.generation_config.eos_token_id
        ids = [] if ids is None else [ids] if isinstance(ids, int) else list(ids)
        if self.tokenizer.eos_token_id is not None:
            ids.append(self.tokenizer.eos_token_id)
        return tuple(sorted(set(ids)))

    def render(self, messages: List[dict]) -> str:
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def generate(self, requests: Sequence[GenerationRequest]) -> List[GenerationResult]:
        return [self._generate_one(request) for request in requests]

    def _generate_one(self, request: GenerationRequest) -> GenerationResult:
        import torch
        from transformers import GenerationConfig, LogitsProcessorList

        config = self.config
        started = time.perf_counter()
        prompt_ids = self.tokenizer(request.prompt, add_special_tokens=False, return_tensors="pt")
        prompt_ids = prompt_ids["input_ids"].to(self.model.device)
        prompt_len = prompt_ids.shape[1]
        greedy = config.temperature == 0.0
        # greedy rows are all alike: decode one and copy it
        rows = 1 if greedy else len(request.seeds)
        processors = LogitsProcessorList()
        if not greedy:
            processors.append(GumbelSampler(request.seeds, prompt_len, config.temperature,
                                            config.top_p, config.top_k))
        generation = GenerationConfig(
            do_sample=False,
            max_new_tokens=config.max_tokens,
            eos_token_id=list(self.stop_ids),
            pad_token_id=self.pad_id,
            stop_strings=list(config.stop) or None,
            # only our config shapes the distribution, not the model's generation defaults
            repetition_penalty=1.0,
            no_repeat_ngram_size=0,
        )
        with torch.no_grad():
            output = self.model.generate(
                input_ids=prompt_ids.repeat(rows, 1),
                attention_mask=torch.ones((rows, prompt_len), dtype=torch.long, device=prompt_ids.device),
                generation_config=generation,
                logits_processor=processors,
                tokenizer=self.tokenizer if config.stop else None,
            )
        samples = [self._decode(row) for row in output[:, prompt_len:].tolist()]
        if greedy:
            samples = samples * len(request.seeds)
        return GenerationResult(samples, prompt_len, time.perf_counter() - started)

    def _decode(self, tokens: List[int]) -> Sample:
        text_tokens, reason, count = finish_sample(tokens, self.stop_ids, self.config.max_tokens)
        text = self._text(text_tokens)
        cut = cut_at_stop(text, self.config.stop)
        if cut is None:
            return Sample(text, reason, count)
        # a stop string ends the sample like vLLM does: excluded from the text,
        # its tokens counted, what the batch decoded after it is padding
        stop_end = min(text.find(s) + len(s) for s in self.config.stop if s and s in text)
        return Sample(text[:cut], "stop", tokens_until(text_tokens, stop_end, self._text))

    def _text(self, tokens: List[int]) -> str:
        return self.tokenizer.decode(tokens, skip_special_tokens=False)
