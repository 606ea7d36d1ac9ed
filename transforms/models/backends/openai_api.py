"""The ``openai`` backend: any OpenAI-compatible chat completions server.

For teachers too big for one worker (vLLM ``serve``, SGLang, hosted APIs).
Every sample is its own request (``n=1`` with the sample's seed), sent with
asyncio and ``httpx`` under a semaphore of ``config.concurrency`` requests in
flight. Connection errors, timeouts, 429 and 5xx answers are retried with
exponential backoff (``Retry-After`` honoured), so a server that is restarted
mid-run costs time, not rows; other 4xx answers fail the request at once.

The API key is read from the environment variable ``config.api_key_env`` when
the backend loads; it is sent as a bearer token and scrubbed from every error
text in every form (escaped, URL-encoded: ``transforms.core.redact``), with any
credentials in ``base_url``, never logged and never written to an output.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from typing import List, Optional, Sequence, Tuple

from transforms.core import hash_score
from transforms.core.redact import redact, redact_urls
from transforms.models.backends.base import GenerationRequest, GenerationResult, Sample, failed

logger = logging.getLogger(__name__)

#: HTTP statuses worth retrying: rate limits and server-side failures.
RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
#: The longest ``Retry-After`` we wait for.
MAX_RETRY_AFTER_S = 120.0


class RetryableError(RuntimeError):
    """A failure the request is retried after (connection, timeout, 429/5xx)."""

    #: the server's Retry-After header, when it sent one
    retry_after: Optional[str] = None


class RequestFailed(RuntimeError):
    """A request that failed for good (a 4xx answer, a malformed body, retries spent)."""


def backoff_delay(attempt: int, base_s: float, max_s: float, seed: int,
                  retry_after: Optional[str] = None) -> float:
    """Seconds to wait before retry ``attempt`` (0-based): exponential with a
    deterministic jitter in [50%, 100%], capped at ``max_s``; a server's
    ``Retry-After`` (seconds) wins when it asks for longer."""
    delay = min(max_s, base_s * (2 ** attempt)) * (0.5 + 0.5 * hash_score(seed, f"retry{attempt}"))
    try:
        asked = float(retry_after) if retry_after is not None else 0.0
    except ValueError:
        asked = 0.0
    return max(delay, min(asked, MAX_RETRY_AFTER_S))


def request_body(messages: List[dict], config, seed: int) -> dict:
    """The chat completions body of one sample."""
    body = {
        "model": config.model,
        "messages": messages,
        "n": 1,
        "temperature": config.temperature,
        "top_p": config.top_p,
        "max_tokens": config.max_tokens,
        "seed": seed,
    }
    if config.top_k > 0:  # not in the OpenAI API; vLLM and SGLang accept it
        body["top_k"] = config.top_k
    if config.stop:
        body["stop"] = list(config.stop)
    return body


def parse_choice(data: dict) -> Tuple[Sample, int]:
    """(sample, prompt tokens) from a chat completions response.

    A separate ``reasoning_content`` (or ``reasoning``) field, as servers with a
    reasoning parser return, is put back in front of the answer inside
    ``<think>`` tags, so the completion reads like R1's raw output."""
    try:
        choice = data["choices"][0]
        message = choice.get("message") or {}
    except (KeyError, IndexError, TypeError) as exc:
        raise RequestFailed(f"malformed response: no choices ({type(exc).__name__})") from None
    content = message.get("content") or ""
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    text = f"<think>\n{reasoning}\n</think>\n{content}" if reasoning else content
    reason = "length" if choice.get("finish_reason") == "length" else "stop"
    usage = data.get("usage") or {}
    return Sample(text, reason, int(usage.get("completion_tokens") or 0)), int(usage.get("prompt_tokens") or 0)


class OpenAIBackend:
    """Chat completions against ``config.base_url`` (e.g. ``http://127.0.0.1:8000/v1``)."""

    name = "openai"

    def __init__(self, config) -> None:
        self.config = config
        self._api_key: Optional[str] = None

    def __repr__(self) -> str:  # never show the key
        return f"OpenAIBackend(base_url={redact_urls(self.config.base_url or '')!r}, model={self.config.model!r})"

    def load(self) -> None:
        """Check the settings and read the API key from the environment."""
        import httpx  # noqa: F401 - fail here, not mid-batch, when it is missing

        if not self.config.base_url:
            raise ValueError("sample.base_url: required for backend 'openai'")
        env = self.config.api_key_env
        self._api_key = os.environ.get(env) if env else None

    def load_renderer(self) -> None:
        """Rendering needs nothing, but a bad setting should fail at load: the same checks."""
        self.load()

    def render(self, messages: List[dict]) -> str:
        """The canonical JSON of the messages: what the server renders the prompt from."""
        return json.dumps(messages, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def generate(self, requests: Sequence[GenerationRequest]) -> List[GenerationResult]:
        return asyncio.run(self._generate_all(requests))

    async def _generate_all(self, requests: Sequence[GenerationRequest]) -> List[GenerationResult]:
        import httpx

        config = self.config
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        limits = httpx.Limits(max_connections=config.concurrency,
                              max_keepalive_connections=config.concurrency)
        semaphore = asyncio.Semaphore(config.concurrency)
        async with httpx.AsyncClient(base_url=config.base_url.rstrip("/"), headers=headers,
                                     timeout=httpx.Timeout(config.timeout_s), limits=limits) as client:
            return list(await asyncio.gather(
                *[self._request(client, semaphore, request) for request in requests]))

    async def _request(self, client, semaphore, request: GenerationRequest) -> GenerationResult:
        started = time.perf_counter()
        messages = json.loads(request.prompt)
        outcomes = await asyncio.gather(
            *[self._sample(client, semaphore, messages, seed) for seed in request.seeds],
            return_exceptions=True)
        latency = time.perf_counter() - started
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        if errors:
            return failed(redact(f"{type(errors[0]).__name__}: {errors[0]}", self._api_key), latency)
        done = [o for o in outcomes if not isinstance(o, BaseException)]  # all of them
        prompt_tokens = max((tokens for _, tokens in done), default=0)
        return GenerationResult([sample for sample, _ in done], prompt_tokens, latency)

    async def _sample(self, client, semaphore, messages: List[dict], seed: int) -> Tuple[Sample, int]:
        config = self.config
        body = request_body(messages, config, seed)
        last = ""
        for attempt in range(config.max_retries + 1):
            retry_after = None
            try:
                async with semaphore:
                    return await self._post(client, body)
            except RetryableError as exc:
                last, retry_after = str(exc), exc.retry_after
            if attempt < config.max_retries:
                delay = backoff_delay(attempt, config.retry_backoff_s, config.max_backoff_s, seed,
                                      retry_after)
                logger.warning("sample: openai request failed (%s); retry %d/%d in %.1f s",
                               redact(last, self._api_key), attempt + 1, config.max_retries, delay)
                await asyncio.sleep(delay)
        raise RequestFailed(f"gave up after {config.max_retries + 1} attempts: {last}")

    async def _post(self, client, body: dict) -> Tuple[Sample, int]:
        import httpx

        try:
            response = await client.post("/chat/completions", json=body)
        except httpx.TransportError as exc:  # connection refused/reset, timeouts
            raise RetryableError(f"{type(exc).__name__}: {exc}") from None
        if response.status_code in RETRY_STATUSES:
            error = RetryableError(f"HTTP {response.status_code}: {response.text[:300]}")
            error.retry_after = response.headers.get("retry-after")
            raise error
        if response.status_code >= 400:
            raise RequestFailed(f"HTTP {response.status_code}: {response.text[:500]}")
        try:
            data = response.json()
        except ValueError:
            raise RequestFailed(f"malformed response: not JSON: {response.text[:200]!r}") from None
        return parse_choice(data)
