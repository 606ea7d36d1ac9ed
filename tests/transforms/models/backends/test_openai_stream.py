"""The streaming server client: a window of requests in flight across batches (a
loopback server answering in 0.2-2 s), samples handed over as they arrive, a failed
sample failing alone, endpoints with failover and health checks, rate limits, prefix
continuation (fast; the journeys against a real ``vllm serve`` are in test_openai_api)."""
from __future__ import annotations

import asyncio
import json
import threading
from http.server import ThreadingHTTPServer

import pytest

from tests import backend_support as support
from tests import factories
from tests.loopback import JsonHandler
from transforms.models.backends.base import GenerationRequest
from transforms.models.backends.openai_api import (
    OpenAIBackend,
    estimated_tokens,
    parse_choice,
    render_prefilled,
    request_body,
)
from transforms.models.backends.ratelimit import RateLimiter, TokenBucket
from transforms.models.handler import ChatRequest, generate_chat, stream_batch_size
from transforms.sample.config import SampleConfig
from transforms.sample.handler import generate_for_problems, make_rollouts, to_outcome
from transforms.sample.ids import sample_seed

SEED = 7


def _config(**changes) -> SampleConfig:
    base = dict(backend="openai", model="m", base_url="http://127.0.0.1:9/v1", api_key_env=None, n=2,
                max_retries=2, retry_backoff_s=0.01, max_backoff_s=0.02, health_check_s=0.0)
    return SampleConfig(**{**base, **changes})


def _backend(**changes) -> OpenAIBackend:
    backend = OpenAIBackend(_config(**changes))
    backend.load()
    return backend


@pytest.mark.slow  # 320 requests at 0.2-2 s each: CPU-bound on a loaded 2-core machine (25 s)
def test_the_window_holds_256_requests_in_flight_from_one_batch(tmp_path):
    with support.LatencyServer(str(tmp_path / "requests.jsonl")) as server:
        backend = _backend(base_url=server.base_url, n=4)
        try:
            problems = [factories.problem(source_id=str(i), prompt=f"What is {i} + 2?") for i in range(80)]
            arrived = []
            generated = generate_for_problems(backend, problems, backend.config, SEED, arrived.append, "h")
        finally:
            backend.close()
    assert all(g.error is None for g in generated)
    assert len(arrived) == 320 == len(server.requests())  # each sample journaled as it arrived
    # the client holds 256 open; the server counts those inside its handler, which on a
    # loaded machine misses the few between a reply sent and the next request arrived
    assert backend.peak_in_flight == 256 and server.max_in_flight >= 240
    # the problem's rollouts are the ones handed over on arrival
    rollouts = [r for g in generated for r in make_rollouts(g, backend.config, SEED, "h")]
    assert sorted(rollouts) == sorted(arrived)


def test_batches_of_several_threads_share_one_window(tmp_path):
    with support.LatencyServer(str(tmp_path / "requests.jsonl"), 0.05, 0.2) as server:
        backend = _backend(base_url=server.base_url, concurrency=6, n=1)
        try:
            def batch(k):
                backend.generate([GenerationRequest(backend.render([{"role": "user", "content": f"{k}.{i}"}]),
                                                    (i,)) for i in range(8)])
            threads = [threading.Thread(target=batch, args=(k,)) for k in range(3)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            backend.close()
    assert len(server.requests()) == 24 and server.max_in_flight == 6 == backend.peak_in_flight


class _FailSeed(JsonHandler):
    """Answers every request but the seed ``server.bad`` (400) and 503s on ``server.down``."""

    def do_GET(self):  # noqa: N802
        self.send_json(503 if self.server.down else 200, {"data": []})

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.seen.append(body)
        if self.server.down:
            return self.send_json(503, {"error": "down"})
        if body["seed"] == self.server.bad:
            return self.send_json(400, {"error": "bad seed"})
        self.send_json(200, {"choices": [{"message": {"content": f"seed {body['seed']}"}, "finish_reason": "stop"}],
                         "usage": {"prompt_tokens": 3, "completion_tokens": 2}})



@pytest.fixture
def servers():
    made = []
    for _ in range(2):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _FailSeed)
        server.lock, server.seen, server.bad, server.down = threading.Lock(), [], None, False
        threading.Thread(target=server.serve_forever, daemon=True).start()
        made.append(server)
    yield made
    for server in made:
        server.shutdown()
        server.server_close()


def _url(server):
    return f"http://127.0.0.1:{server.server_address[1]}/v1"


def test_a_failed_sample_fails_alone_and_its_problem_mates_arrive(servers):
    server = servers[0]
    backend = _backend(base_url=_url(server), n=3)
    problem = factories.problem()
    server.bad = sample_seed(SEED, problem.problem_id, 1)
    arrived = []
    [generated] = generate_for_problems(backend, [problem], backend.config, SEED, arrived.append, "h")
    backend.close()
    assert generated.result is None and generated.error.startswith("RequestFailed: HTTP 400")
    assert "sample 1 failed; 1 of 3 samples failed" in generated.error
    assert sorted(r.sample_index for r in arrived) == [0, 2]  # journaled: a re-run asks for sample 1 only
    outcome = to_outcome(generated, backend.config, SEED, "h")
    assert outcome.error == generated.error and outcome.rollouts == []  # the problem: a dead letter


def test_failover_to_the_next_endpoint_and_health_checks(servers):
    up, down = servers
    down.down = True
    dead = f"http://127.0.0.1:{support.free_port()}/v1"
    backend = _backend(base_url=_url(down), base_urls=(dead, _url(up)), n=1, max_retries=4)
    try:
        results = backend.generate([GenerationRequest(backend.render([{"role": "user", "content": str(i)}]), (i,))
                                    for i in range(12)])
        assert all(r.error is None for r in results)
        assert sorted(r.samples[0].text for r in results) == sorted(f"seed {i}" for i in range(12))
        assert len(up.seen) == 12  # every sample ends on the endpoint that is up
        assert backend._thread.run(backend._pool.check()) == [False, False, True]
        down.down = False
        assert backend._thread.run(backend._pool.check()) == [True, False, True]
    finally:
        backend.close()


def test_token_bucket_and_rate_limiter_with_a_clock():
    now = [0.0]
    bucket = TokenBucket(120, clock=lambda: now[0])  # 2 a second, 2 at once
    assert bucket.capacity == 2 and bucket.wait_s(1) == 0
    bucket.take(2)
    assert bucket.wait_s(1) == pytest.approx(0.5)
    now[0] += 0.5
    assert bucket.wait_s(1) == 0
    slept = []

    async def sleep(s):
        slept.append(s)
        now[0] += s

    limiter = RateLimiter(60, 600, clock=lambda: now[0], sleep=sleep)  # 1 request, 10 tokens a second
    for _ in range(3):
        asyncio.run(limiter.acquire(10))
    assert slept == [pytest.approx(1.0)] * 2  # one request a second, at most 10 tokens a second
    limiter.settle(10, 4)  # the unused 6 tokens go back
    assert limiter.tokens.level == pytest.approx(6)
    assert TokenBucket(0).wait_s(10 ** 9) == 0  # no limit


def test_a_prefill_is_sent_as_an_assistant_turn_to_continue():
    turns = [{"role": "user", "content": "What is 2 + 3?"}]
    rendered = render_prefilled(turns, "<think>\nWe add")
    body = request_body(json.loads(rendered), _config(), 5)
    assert body["messages"][-1] == {"role": "assistant", "content": "<think>\nWe add"}
    assert body["continue_final_message"] is True and body["add_generation_prompt"] is False
    assert "continue_final_message" not in request_body(turns, _config(), 5)
    assert render_prefilled(turns, "") == OpenAIBackend(_config()).render(turns)
    answer = {"choices": [{"message": {"content": "5", "reasoning_content": " 2 and 3"}}], "usage": {}}
    assert parse_choice(answer, continued=True)[0].text == " 2 and 3\n</think>\n5"
    assert parse_choice(answer)[0].text == "<think>\n 2 and 3\n</think>\n5"
    assert estimated_tokens(turns, 100) == len("What is 2 + 3?") // 4 + 100


def test_journey_requests_reach_the_server_as_continuations(servers):
    server = servers[0]
    backend = _backend(base_url=_url(server), n=1)
    try:
        [generation] = generate_chat(backend, [ChatRequest([{"role": "user", "content": "Q"}], (3, 4), "<think>\nA")])
    finally:
        backend.close()
    assert generation.error is None and [s.text for s in generation.result.samples] == ["seed 3", "seed 4"]
    assert all(b["messages"][-1]["content"] == "<think>\nA" and b["continue_final_message"] for b in server.seen)


def test_server_batches_hold_twice_the_window():
    assert stream_batch_size(_config(concurrency=256, batch_size=4), samples_per_request=4) == 128
    assert stream_batch_size(_config(concurrency=256, batch_size=500), samples_per_request=4) == 500
    assert stream_batch_size(SampleConfig(batch_size=4), samples_per_request=4) == 4  # in-process backends
