"""The openai backend: request and retry rules, a scripted loopback server for
retries and keys (fast), and real servers (slow): ``vllm serve`` on CPU, and
``transformers serve`` killed and restarted mid-run."""
from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import threading
import time

os.environ["HF_HUB_OFFLINE"] = "1"

import pytest  # noqa: E402

from tests import backend_support as support  # noqa: E402
from tests import factories  # noqa: E402
from tests.loopback import JsonHandler, serving  # noqa: E402
from transforms.models.backends.base import GenerationRequest  # noqa: E402
from transforms.models.backends.openai_api import (  # noqa: E402
    OpenAIBackend,
    RequestFailed,
    backoff_delay,
    parse_choice,
    redact,
    request_body,
)
from transforms.sample.config import SampleConfig  # noqa: E402
from transforms.sample.handler import generate_for_problems, make_rollouts  # noqa: E402
from transforms.sample.ids import sample_seed  # noqa: E402
from transforms.sample.prompts import build_messages  # noqa: E402

KEY_ENV = "RC_TEST_OPENAI_KEY"
SECRET = "sk-test-0123456789-never-write-me"
SEED = 1234


def _config(**changes) -> SampleConfig:
    base = dict(backend="openai", model="teacher", base_url="http://127.0.0.1:9/v1", api_key_env=KEY_ENV,
                n=2, max_tokens=16, concurrency=2, retry_backoff_s=0.01, max_backoff_s=0.05, timeout_s=5.0)
    return SampleConfig(**{**base, **changes})


# -- rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "attempt, retry_after, low, high",
    [
        (0, None, 0.5, 1.0),
        (1, None, 1.0, 2.0),
        (3, None, 4.0, 8.0),
        (10, None, 5.0, 10.0),  # capped at max_s=10
        (0, "7", 7.0, 7.0),  # the server asks for longer
        (3, "1", 4.0, 8.0),  # ... or for less: ours wins
        (0, "soon", 0.5, 1.0),  # unparseable: ignored
        (0, "9999", 120.0, 120.0),  # bounded
    ],
)
def test_backoff_delay(attempt, retry_after, low, high):
    delay = backoff_delay(attempt, base_s=1.0, max_s=10.0, seed=5, retry_after=retry_after)
    assert low <= delay <= high
    assert delay == backoff_delay(attempt, 1.0, 10.0, 5, retry_after)  # deterministic jitter


def test_redact():
    assert redact(f"401: bad key {SECRET}.", SECRET) == "401: bad key ***."
    assert redact("nothing here", None) == "nothing here"


@pytest.mark.parametrize(
    "changes, extra",
    [
        ({}, {}),
        ({"top_k": 20}, {"top_k": 20}),
        ({"stop": ("\n\n",)}, {"stop": ["\n\n"]}),
    ],
)
def test_request_body(changes, extra):
    messages = [{"role": "user", "content": "hi"}]
    assert request_body(messages, _config(**changes), 42) == {
        "model": "teacher", "messages": messages, "n": 1, "temperature": 0.7, "top_p": 0.95,
        "max_tokens": 16, "seed": 42, **extra}


def _response(content="42", reason="stop", usage=(11, 5), **message):
    return {"choices": [{"message": {"content": content, **message}, "finish_reason": reason}],
            "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1]}}


@pytest.mark.parametrize(
    "data, expected",
    [
        (_response(), (("42", "stop", 5), 11)),
        (_response(reason="length"), (("42", "length", 5), 11)),
        (_response(reason="content_filter"), (("42", "stop", 5), 11)),
        (_response(content=None, usage=(3, 0)), (("", "stop", 0), 3)),
        (_response(content="5", reasoning_content="2+3"), (("<think>\n2+3\n</think>\n5", "stop", 5), 11)),
        (_response(content="5", reasoning="2+3"), (("<think>\n2+3\n</think>\n5", "stop", 5), 11)),
        ({"choices": [{"message": {"content": "x"}, "finish_reason": "stop"}]}, (("x", "stop", 0), 0)),
    ],
)
def test_parse_choice(data, expected):
    sample, prompt_tokens = parse_choice(data)
    assert (tuple(sample), prompt_tokens) == expected


@pytest.mark.parametrize("data", [{}, {"choices": []}, {"choices": None}])
def test_parse_choice_refuses_a_malformed_response(data):
    with pytest.raises(RequestFailed, match="malformed"):
        parse_choice(data)


def test_render_is_canonical_json_of_the_messages():
    backend = OpenAIBackend(_config())
    messages = build_messages("What is 2 + 3?", backend.config)
    assert json.loads(backend.render(messages)) == messages
    assert backend.render(messages) == backend.render([dict(reversed(m.items())) for m in messages])


# -- a scripted loopback server ---------------------------------------------------------------


class _Scripted(JsonHandler):
    """Answers POSTs from the server's script: (status, body, headers) per request, then 200s."""

    def do_POST(self):  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server = self.server
        with server.lock:
            server.seen.append((self.headers.get("Authorization"), body))
            status, payload, headers = server.script.pop(0) if server.script else (200, None, {})
        if payload is None:
            payload = _response(content=f"seed {body['seed']}")
        self.send_json(status, payload, headers)


@pytest.fixture
def scripted():
    with serving(_Scripted, seen=[], script=[]) as server:
        yield server


def _loaded(server, monkeypatch, **changes) -> OpenAIBackend:
    monkeypatch.setenv(KEY_ENV, SECRET)
    backend = OpenAIBackend(_config(base_url=f"http://127.0.0.1:{server.server_address[1]}/v1", **changes))
    backend.load()
    return backend


def _request(backend, prompt="What is 2 + 3?", seeds=(1, 2)):
    return GenerationRequest(backend.render(build_messages(prompt, backend.config)), tuple(seeds))


def test_retries_429_and_5xx_then_succeeds_with_the_key(scripted, monkeypatch):
    scripted.script = [(429, {"error": "slow down"}, {"Retry-After": "0"}), (503, {"error": "busy"}, {}),
                       (500, {"error": "oops"}, {})]
    backend = _loaded(scripted, monkeypatch)
    [result] = backend.generate([_request(backend, seeds=(1, 2))])
    assert result.error is None
    assert sorted(s.text for s in result.samples) == ["seed 1", "seed 2"]
    assert [s.text for s in result.samples] == ["seed 1", "seed 2"]  # in the order of the seeds
    assert len(scripted.seen) == 5
    assert {auth for auth, _ in scripted.seen} == {f"Bearer {SECRET}"}
    assert {body["seed"] for _, body in scripted.seen} == {1, 2}


def test_a_4xx_fails_the_request_at_once_and_the_key_is_scrubbed(scripted, monkeypatch, caplog):
    scripted.script = [(401, {"error": f"invalid key {SECRET}"}, {})]
    # one request at a time, so the scripted 401 answers the first request in the list
    backend = _loaded(scripted, monkeypatch, n=1, concurrency=1)
    [bad, good] = backend.generate([_request(backend, seeds=(1,)), _request(backend, "What is 1 + 1?", (2,))])
    assert bad.error.startswith("RequestFailed: HTTP 401") and SECRET not in bad.error and "***" in bad.error
    assert good.error is None and good.samples[0].text == "seed 2"
    assert len(scripted.seen) == 2  # no retry of the 401
    assert SECRET not in repr(backend) and SECRET not in caplog.text


def test_retries_are_bounded(scripted, monkeypatch):
    scripted.script = [(503, {"error": "down"}, {})] * 10
    backend = _loaded(scripted, monkeypatch, max_retries=2)
    [result] = backend.generate([_request(backend, seeds=(1,))])
    assert result.error.startswith("RequestFailed: gave up after 3 attempts: HTTP 503")
    assert len(scripted.seen) == 3


def test_an_unreachable_server_becomes_dead_letters_not_lost_rows(monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    config = _config(base_url=f"http://127.0.0.1:{support.free_port()}/v1", max_retries=1)
    backend = OpenAIBackend(config)
    backend.load()
    problems = [factories.problem(source_id=str(i), prompt=f"What is {i} + 1?") for i in range(2)]
    generated = generate_for_problems(backend, problems, config, SEED)
    assert all(g.result is None and "ConnectError" in g.error and "gave up after 2" in g.error
               for g in generated)


def test_concurrency_is_bounded(scripted, monkeypatch):
    in_flight, peak = [0], [0]
    original = _Scripted.do_POST

    def slow_post(handler):
        with handler.server.lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.05)
        original(handler)
        with handler.server.lock:
            in_flight[0] -= 1

    monkeypatch.setattr(_Scripted, "do_POST", slow_post)
    backend = _loaded(scripted, monkeypatch, concurrency=3)
    results = backend.generate([_request(backend, f"What is {i} + 1?", (i, i + 100)) for i in range(6)])
    assert all(r.error is None for r in results) and len(scripted.seen) == 12
    assert 2 <= peak[0] <= 3


# -- real servers (slow) ------------------------------------------------------------------------

REAL = dict(n=2, max_tokens=12, temperature=0.7, top_p=0.95, concurrency=4, timeout_s=60.0,
            max_retries=40, retry_backoff_s=0.5, max_backoff_s=2.0)


@pytest.fixture(scope="module")
def model_dir():
    return support.converted_model()


@pytest.fixture(scope="module")
def vllm_server(model_dir, tmp_path_factory):
    port = support.free_port()
    log = str(tmp_path_factory.mktemp("vllm-serve") / "server.log")
    server = support.Server(support.vllm_serve_cmd(model_dir, port, "smollm2"), port, log,
                            env={"VLLM_API_KEY": SECRET})
    with support.running(server, timeout_s=600):
        yield server


@pytest.fixture(scope="module")
def transformers_server(model_dir, tmp_path_factory):
    port = support.free_port()
    log = str(tmp_path_factory.mktemp("transformers-serve") / "server.log")
    server = support.Server(support.transformers_serve_cmd(model_dir, port), port, log)
    with support.running(server, timeout_s=300):
        yield server


@pytest.mark.slow
def test_vllm_serve_seeded_samples(vllm_server, monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    config = SampleConfig(backend="openai", model="smollm2", base_url=vllm_server.base_url,
                          api_key_env=KEY_ENV, **REAL)
    backend = OpenAIBackend(config)
    backend.load()
    problems = [factories.problem(source_id=str(i), prompt=p)
                for i, p in enumerate(["What is 12 + 30?", "Name a prime number."])]
    first = generate_for_problems(backend, problems, config, SEED)
    again = generate_for_problems(backend, problems[:1], config, SEED)
    assert [g.error for g in first] == [None, None]
    rollouts = [r for g in first for r in make_rollouts(g, config, SEED, "h")]
    assert [(r.sample_index, r.backend) for r in rollouts] == [(0, "openai"), (1, "openai")] * 2
    assert all(1 <= r.completion_tokens <= 12 and r.prompt_tokens > 20 and r.completion for r in rollouts)
    assert all((r.finish_reason == "length") == (r.completion_tokens == 12) for r in rollouts)
    assert again[0].result.samples == first[0].result.samples  # a seed decides its sample
    assert rollouts[0].sample_seed == sample_seed(SEED, problems[0].problem_id, 0)


@pytest.mark.slow
def test_vllm_serve_wrong_key_is_a_dead_letter_without_the_key(vllm_server, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-wrong-key-also-secret")
    config = SampleConfig(backend="openai", model="smollm2", base_url=vllm_server.base_url,
                          api_key_env=KEY_ENV, **REAL)
    backend = OpenAIBackend(config)
    backend.load()
    [generated] = generate_for_problems(backend, [factories.problem()], config, SEED)
    assert generated.error.startswith("RequestFailed: HTTP 401")
    assert "sk-wrong-key-also-secret" not in generated.error


@pytest.mark.slow
def test_sample_stage_against_vllm_serve_never_writes_the_key(vllm_server, tmp_path):
    config = {
        "seed": 3,
        "sources": [{"name": "arithmetic", "generator": "arithmetic", "count": 3, "difficulty": [1]}],
        "sample": {"backend": "openai", "model": "smollm2", "base_url": vllm_server.base_url,
                   "api_key_env": KEY_ENV, "n": 2, "max_tokens": 8, "batch_size": 2},
    }
    (tmp_path / "config.yaml").write_text(json.dumps(config))
    out = tmp_path / "out"
    env = dict(os.environ, **support.QUIET_ENV, PYTHONPATH=support.ROOT, **{KEY_ENV: SECRET})
    done = subprocess.run([sys.executable, "-m", "pipelines", "sample", "--config", str(tmp_path / "config.yaml"),
                           "--output", str(out)], cwd=support.ROOT, env=env, capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["accounting"]["sample"]["rollouts"] == 6
    files = [p for p in glob.glob(str(out / "**" / "*"), recursive=True) if os.path.isfile(p)]
    assert any(p.endswith(".parquet") for p in files)
    for path in files:
        assert SECRET.encode() not in open(path, "rb").read(), path
    assert SECRET not in done.stdout + done.stderr
    assert "sample: " in done.stderr  # the live progress line


@pytest.mark.slow
def test_transformers_serve_killed_and_restarted_mid_run(transformers_server, model_dir, caplog):
    config = SampleConfig(backend="openai", model=model_dir, base_url=transformers_server.base_url,
                          api_key_env=None, **{**REAL, "concurrency": 1, "n": 1})
    backend = OpenAIBackend(config)
    backend.load()
    caplog.set_level("WARNING", logger="transforms.models.backends.openai_api")
    problems = [factories.problem(source_id=str(i), prompt=f"What is {i} + {i}?") for i in range(8)]
    outcome = {}
    worker = threading.Thread(
        target=lambda: outcome.setdefault("generated", generate_for_problems(backend, problems, config, SEED)))
    worker.start()
    answered = '"POST /v1/chat/completions HTTP/1.1" 200'
    deadline = time.monotonic() + 120
    while answered not in transformers_server.log_tail(100_000) and time.monotonic() < deadline:
        time.sleep(0.1)
    transformers_server.kill()  # mid-run: some requests answered, the rest not yet
    answered_before = transformers_server.log_tail(100_000).count(answered)
    time.sleep(2.0)
    transformers_server.start(timeout_s=120)
    worker.join(timeout=240)
    assert not worker.is_alive()
    generated = outcome["generated"]
    assert [g.error for g in generated] == [None] * 8
    assert all(len(g.result.samples) == 1 and g.result.samples[0].completion_tokens >= 1 for g in generated)
    assert 1 <= answered_before < 8
    assert "retry 1/40" in caplog.text  # requests failed while it was down, and were retried


@pytest.mark.slow
def test_journeys_build_with_the_server_teacher(vllm_server, monkeypatch):
    """Journey probes and reflections continue the wrong prefix on the server (vLLM's
    ``continue_final_message``): splice journeys are built, reflect ones built or dropped,
    none fails."""
    import functools

    from schemas.records import SftExample
    from transforms.core import Dead
    from transforms.mix.journey_config import JourneyConfig
    from transforms.mix.journey_teacher import JourneyTeacher, Teacher, build_journey
    from transforms.models.handler import ChatRequest, generate_chat
    from transforms.verify.checker import AnswerChecker

    monkeypatch.setenv(KEY_ENV, SECRET)
    config = SampleConfig(backend="openai", model="smollm2", base_url=vllm_server.base_url,
                          api_key_env=KEY_ENV, **{**REAL, "n": 1})
    backend = OpenAIBackend(config)
    backend.load()
    spec = JourneyTeacher(config.model_config(), functools.partial(build_messages, config=config))
    wrong = factories.verified(0, completion="wrong", reasoning="We add 2 and 3.\n2 + 3 = 6.",
                               answer="The answer is \\boxed{6}.", extracted_answer="6", verdict="incorrect",
                               pass_rate=0.5)
    right = factories.verified(10, completion="right", reasoning="We add 2 and 3.\n2 + 3 = 5.",
                               answer="The answer is \\boxed{5}.", pass_rate=0.5)
    check = AnswerChecker()
    check.setup()
    try:
        # a prefill is continued: the answer goes on from "2 + 3 =", it does not start over
        prefill = "<think>\nWe add 2 and 3.\n2 + 3 ="
        [probe] = generate_chat(backend, [ChatRequest(spec.messages(wrong.prompt), (1, 2), prefill)])
        assert probe.error is None and len(probe.result.samples) == 2
        assert json.loads(probe.prompt)[-1] == {"role": "assistant", "content": prefill}
        assert all(not s.text.lstrip().startswith("<think>") for s in probe.result.samples)
        splice = build_journey(wrong, [right], Teacher(backend, spec), check,
                               JourneyConfig(share=0.5, continuations=2, max_steps=2, max_tokens=12), seed=1)
        reflect = [build_journey(factories.verified(i, completion=f"wrong {i}", reasoning="We add 2 and 3.\n2 + 3 = 6.",
                                                    answer="The answer is \\boxed{6}.", extracted_answer="6",
                                                    verdict="incorrect", pass_rate=0.5),
                                 [], Teacher(backend, spec), check,
                                 JourneyConfig(share=0.5, modes=("reflect",), locate=False, max_tokens=24), seed=1)
                   for i in range(1)]
    finally:
        check.teardown()
        backend.close()
    assert isinstance(splice, SftExample) and splice.journey.startswith("splice")
    assert splice.rollout_ids == [wrong.rollout_id, right.rollout_id]
    assert not any(isinstance(o, Dead) for o in reflect), reflect
