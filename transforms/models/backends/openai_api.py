"""The ``openai`` backend: any OpenAI-compatible chat completions server, streamed.

For teachers too big for one worker (vLLM ``serve``, SGLang, hosted APIs).
Every sample is its own request (``n=1`` with the sample's seed). The client lives
as long as the loaded backend, across Beam batches: ``load()`` starts an asyncio
loop in a daemon thread with one ``httpx.AsyncClient`` per endpoint
(:mod:`.endpoints`), a window of ``config.concurrency`` requests in flight and the
rate limits (:mod:`.ratelimit`). ``generate`` hands its samples to that loop and
waits for them; every Beam thread of the process calling ``generate`` shares the
one window, so it stays full while batches overlap, and a sample is sent the
moment a slot frees, never waiting for its batch-mates. ``on_sample`` is called
as each sample arrives (the sampler journals it there). A sample that fails
fails alone: its request's result carries the error, its other samples arrived
(and were handed to ``on_sample``) all the same.

Connection errors, timeouts, 429 and 5xx answers are retried with exponential
backoff (``Retry-After`` honoured) on the next endpoint up, so a server that is
restarted mid-run costs time, not rows; other 4xx answers fail the sample at once.

A prompt whose last turn is the assistant's (a prefill: :func:`render_prefilled`)
is continued, not answered: vLLM's ``continue_final_message`` with
``add_generation_prompt: false`` (journey probes and reflections).

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
import threading
import time
from typing import Callable, List, Optional, Sequence, Tuple

from transforms.core import hash_score
from transforms.core.redact import redact, redact_urls
from transforms.models.backends.base import GenerationRequest, GenerationResult, Sample, failed
from transforms.models.backends.endpoints import EndpointPool
from transforms.models.backends.ratelimit import RateLimiter

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


#: ``on_sample(request index, sample index, sample, prompt tokens, latency s)``: one sample arrived.
OnSample = Callable[[int, int, Sample, int, float], None]


def continues(messages: List[dict]) -> bool:
    """Whether the turns end with the assistant's: a prefill to continue."""
    return bool(messages) and messages[-1].get("role") == "assistant"


def request_body(messages: List[dict], config, seed: int) -> dict:
    """The chat completions body of one sample (a prefill is continued, not answered)."""
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
    if continues(messages):  # vLLM (and SGLang): continue the final assistant turn
        body["continue_final_message"] = True
        body["add_generation_prompt"] = False
    return body


def parse_choice(data: dict, continued: bool = False) -> Tuple[Sample, int]:
    """(sample, prompt tokens) from a chat completions response.

    A separate ``reasoning_content`` (or ``reasoning``) field, as servers with a
    reasoning parser return, is put back in front of the answer inside
    ``<think>`` tags, so the completion reads like R1's raw output (a continued
    prefill already opened ``<think>``: only the closing tag is put back)."""
    try:
        choice = data["choices"][0]
        message = choice.get("message") or {}
    except (KeyError, IndexError, TypeError) as exc:
        raise RequestFailed(f"malformed response: no choices ({type(exc).__name__})") from None
    content = message.get("content") or ""
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    if not reasoning:
        text = content
    elif continued:
        text = f"{reasoning}\n</think>\n{content}"
    else:
        text = f"<think>\n{reasoning}\n</think>\n{content}"
    reason = "length" if choice.get("finish_reason") == "length" else "stop"
    usage = data.get("usage") or {}
    return Sample(text, reason, int(usage.get("completion_tokens") or 0)), int(usage.get("prompt_tokens") or 0)




def _header_value(text: str) -> bytes:
    """A header value as bytes, as http.client sends it (latin-1, else UTF-8): a key the
    header can't carry (a newline) fails each request on its own, not the client's set-up."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def render_prefilled(messages: List[dict], prefill: str) -> str:
    """The canonical JSON of the turns, with a prefill as a final assistant turn to continue."""
    turns = list(messages) + ([{"role": "assistant", "content": prefill}] if prefill else [])
    return json.dumps(turns, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def estimated_tokens(messages: List[dict], max_tokens: int) -> int:
    """What a request may cost against a tokens-per-minute limit: its prompt (about four
    characters a token) and every token it may generate (the unused rest goes back)."""
    return sum(len(str(m.get("content") or "")) for m in messages) // 4 + max_tokens


class _LoopThread:
    """An asyncio loop running in a daemon thread for as long as the backend is loaded."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="openai-client", daemon=True)
        self.thread.start()

    def run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


class OpenAIBackend:
    """Chat completions against ``config.base_url`` (and ``config.base_urls``), streamed
    through one long-lived client (see the module doc)."""

    name = "openai"
    #: ``generate`` takes ``on_sample`` and calls it as each sample arrives
    streams = True

    def __init__(self, config) -> None:
        self.config = config
        self._api_key: Optional[str] = None
        self._thread: Optional[_LoopThread] = None
        self._pool: Optional[EndpointPool] = None
        self._window: Optional[asyncio.Semaphore] = None
        self._limiter: Optional[RateLimiter] = None
        #: requests in flight now and the most at once (for tests and logs)
        self.in_flight = 0
        self.peak_in_flight = 0

    def __repr__(self) -> str:  # never show the key
        return f"OpenAIBackend(base_url={redact_urls(self.config.base_url or '')!r}, model={self.config.model!r})"

    def urls(self) -> List[str]:
        return [self.config.base_url] + [u for u in getattr(self.config, "base_urls", ()) if u]

    def load(self) -> None:
        """Check the settings, read the API key and start the client's loop."""
        import httpx  # noqa: F401 - fail here, not mid-batch, when it is missing

        if not self.config.base_url:
            raise ValueError("sample.base_url: required for backend 'openai'")
        env = self.config.api_key_env
        self._api_key = os.environ.get(env) if env else None
        self.close()
        self._thread = _LoopThread()
        self._thread.run(self._open())

    async def _open(self) -> None:
        config = self.config
        headers = {"Authorization": _header_value(f"Bearer {self._api_key}")} if self._api_key else {}
        self._pool = EndpointPool(self.urls(), headers, config.timeout_s, config.concurrency,
                                  getattr(config, "health_check_s", 0.0))
        self._pool.start()
        self._window = asyncio.Semaphore(config.concurrency)
        self._limiter = RateLimiter(getattr(config, "requests_per_minute", 0),
                                    getattr(config, "tokens_per_minute", 0))

    def close(self) -> None:
        """Close the clients and stop the loop (a loaded backend is closed at exit anyway)."""
        if self._thread is not None:
            if self._pool is not None:
                self._thread.run(self._pool.close())
            self._thread.stop()
        self._thread = self._pool = None

    def load_renderer(self) -> None:
        """Rendering needs nothing, but a bad setting should fail at load: the same checks."""
        self.load()

    def render(self, messages: List[dict]) -> str:
        """The canonical JSON of the messages: what the server renders the prompt from."""
        return render_prefilled(messages, "")

    def render_prefilled(self, messages: List[dict], prefill: str) -> str:
        """The turns and a prefill the server continues (see :func:`request_body`)."""
        return render_prefilled(messages, prefill)

    def generate(self, requests: Sequence[GenerationRequest],
                 on_sample: Optional[OnSample] = None) -> List[GenerationResult]:
        if self._thread is None:
            self.load()
        assert self._thread is not None
        return self._thread.run(self._generate_all(requests, on_sample))

    async def _generate_all(self, requests: Sequence[GenerationRequest],
                            on_sample: Optional[OnSample]) -> List[GenerationResult]:
        return list(await asyncio.gather(*[self._request(i, request, on_sample)
                                           for i, request in enumerate(requests)]))

    async def _request(self, index: int, request: GenerationRequest,
                       on_sample: Optional[OnSample]) -> GenerationResult:
        started = time.perf_counter()
        messages = json.loads(request.prompt)
        outcomes = await asyncio.gather(
            *[self._sample(messages, seed, index, j, on_sample) for j, seed in enumerate(request.seeds)],
            return_exceptions=True)
        latency = time.perf_counter() - started
        errors = [(j, o) for j, o in enumerate(outcomes) if isinstance(o, BaseException)]
        if errors:
            j, first = errors[0]
            note = (f" [sample {j} failed; {len(errors)} of {len(outcomes)} samples failed, "
                    "the others arrived]" if len(errors) < len(outcomes) else "")
            return failed(redact(f"{type(first).__name__}: {first}{note}", self._api_key), latency)
        done = [o for o in outcomes if not isinstance(o, BaseException)]  # all of them
        prompt_tokens = max((tokens for _, tokens in done), default=0)
        return GenerationResult([sample for sample, _ in done], prompt_tokens, latency)

    async def _sample(self, messages: List[dict], seed: int, index: int, j: int,
                      on_sample: Optional[OnSample]) -> Tuple[Sample, int]:
        started = time.perf_counter()
        sample, prompt_tokens = await self._ask(messages, seed)
        if on_sample is not None:
            try:
                on_sample(index, j, sample, prompt_tokens, time.perf_counter() - started)
            except Exception as exc:  # noqa: BLE001 - the sample fails, not the batch
                raise RequestFailed(f"on arrival: {type(exc).__name__}: {exc}") from None
        return sample, prompt_tokens

    async def _ask(self, messages: List[dict], seed: int) -> Tuple[Sample, int]:
        config = self.config
        assert self._pool is not None and self._window is not None and self._limiter is not None
        body = request_body(messages, config, seed)
        reserved = estimated_tokens(messages, config.max_tokens)
        last = ""
        for attempt in range(config.max_retries + 1):
            retry_after = None
            endpoint = self._pool.pick(seed, attempt)
            try:
                async with self._window:
                    await self._limiter.acquire(reserved)
                    self.in_flight += 1
                    self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
                    try:
                        endpoint.sent += 1
                        sample, prompt_tokens = await self._post(endpoint.client, body)
                    finally:
                        self.in_flight -= 1
                self._limiter.settle(reserved, prompt_tokens + sample.completion_tokens)
                return sample, prompt_tokens
            except RetryableError as exc:
                last, retry_after = str(exc), exc.retry_after
                if not last.startswith("HTTP 429"):
                    self._pool.mark_down(endpoint)
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
        return parse_choice(data, continues(body["messages"]))
