"""Shared by the backend tests: the SmolLM2 GGUF loaded (and a backend sharing it with
other settings), the GGUF converted once to a Hugging Face directory (cached under
.cache/), free loopback ports, and real OpenAI-compatible servers started in their own
process group and always killed."""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import http.server
import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import ThreadingHTTPServer
from typing import Dict, Iterator, List, Optional

from tests.loopback import JsonHandler, serving
from transforms.models.backends.hf import TransformersBackend

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL_DIR = os.path.join(ROOT, ".cache", "smollm2-hf")
#: Variables every server and engine gets: offline, one thread, no telemetry.
QUIET_ENV = {"HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false",
             "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
             # vLLM on CPU pins its threads to fixed cores by default: fatal on a shared machine
             "VLLM_CPU_OMP_THREADS_BIND": "nobind"}


def load_smollm2(config):
    """The transformers backend of ``config`` (SmolLM2), loaded (for a module fixture)."""
    backend = TransformersBackend(config)
    started = time.perf_counter()
    backend.load()
    print(f"\nsmollm2 load: {time.perf_counter() - started:.1f} s")
    return backend


def with_config(loaded, **changes):
    """A transformers backend with another config sharing the already loaded model."""
    backend = TransformersBackend(dataclasses.replace(loaded.config, **changes))
    backend.model, backend.tokenizer = loaded.model, loaded.tokenizer
    backend.stop_ids, backend.pad_id = loaded.stop_ids, loaded.pad_id
    return backend


def converted_model() -> str:
    """The SmolLM2 HF directory (converted on first use, then reused). A lock file makes
    the pytest workers take turns: the first converts, the others wait and reuse its
    directory (converting again would replace a directory a server may be reading)."""
    spec = importlib.util.spec_from_file_location(
        "convert_smollm2", os.path.join(ROOT, "scripts", "convert_smollm2.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if module.is_converted(MODEL_DIR):
        return MODEL_DIR
    os.makedirs(os.path.dirname(MODEL_DIR), exist_ok=True)
    with open(MODEL_DIR + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return module.convert(MODEL_DIR)  # reused if another worker converted meanwhile
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def vllm_serve_cmd(model_dir: str, port: int, name: str) -> List[str]:
    """``vllm serve`` on CPU. The ``vllm`` console script looks up the version of a
    distribution named "vllm", which the CPU build (distribution "vllm-cpu") is
    not, so the same entry point is run as a module."""
    return [sys.executable, "-m", "vllm.entrypoints.launchers.api_server.entry", "--model", model_dir,
            "--served-model-name", name, "--host", "127.0.0.1", "--port", str(port),
            "--dtype", "float32", "--enforce-eager", "--max-model-len", "1024",
            "--kv-cache-memory-bytes", str(512 * 1024 ** 2), "--seed", "0"]


def transformers_serve_cmd(model_dir: str, port: int) -> List[str]:
    """``transformers serve`` with the model preloaded (requests name it by its path)."""
    return [os.path.join(os.path.dirname(sys.executable), "transformers"), "serve", model_dir,
            "--host", "127.0.0.1", "--port", str(port), "--device", "cpu", "--dtype", "float32"]


class Server:
    """A server process on 127.0.0.1:``port``, its output in ``log_path``."""

    def __init__(self, cmd: List[str], port: int, log_path: str, env: Optional[Dict[str, str]] = None):
        self.cmd, self.port, self.log_path = cmd, port, log_path
        self.env = dict(os.environ, **QUIET_ENV, **(env or {}))
        self.proc: Optional[subprocess.Popen] = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout_s: float) -> "Server":
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log_tail()}")
            if self.healthy():
                return self
            time.sleep(1.0)
        self.kill()
        raise TimeoutError(f"server not up after {timeout_s:.0f} s: {self.log_tail()}")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL the whole process group (engine workers included) and reap it."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def log_tail(self, chars: int = 2000) -> str:
        with open(self.log_path, "rb") as fh:
            return fh.read().decode("utf-8", "replace")[-chars:]


@contextlib.contextmanager
def running(server: Server, timeout_s: float) -> Iterator[Server]:
    """Start a server, yield it, and kill it whatever happens."""
    try:
        yield server.start(timeout_s)
    finally:
        server.kill()


# -- a loopback OpenAI-compatible server with realistic latency ----------------------------------


class _LatencyHandler(JsonHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one connection per slot of the client's window

    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_json(200, {"object": "list", "data": [{"id": "latency", "object": "model"}]})

    def do_POST(self):  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server = self.server
        messages = body.get("messages") or []
        prompt = json.dumps(messages, sort_keys=True)
        key = hashlib.sha256(f"{prompt}|{body.get('seed')}".encode()).digest()
        delay = server.min_s + (server.max_s - server.min_s) * int.from_bytes(key[:4], "big") / 2 ** 32
        with server.lock:
            server.in_flight += 1
            server.max_in_flight = max(server.max_in_flight, server.in_flight)
            server.log.write(json.dumps({"prompt": hashlib.sha256(prompt.encode()).hexdigest()[:16],
                                         "seed": body.get("seed")}) + "\n")
            server.log.flush()
        try:
            time.sleep(delay)
            value = int.from_bytes(key[4:6], "big") % 20
            self.send_json(200, {"choices": [{"message": {"role": "assistant", "content":
                                                      f"<think>\nIt is {value}.\n</think>\n\\boxed{{{value}}}"},
                                          "finish_reason": "stop"}],
                             "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": 9}})
        finally:
            with server.lock:
                server.in_flight -= 1
                server.answered += 1



# -- a loopback OpenAI-compatible teacher that does arithmetic ---------------------------------

_QUESTION = re.compile(r"What is (-?\d+) ([-+*]) (-?\d+)\?")


class _ArithmeticHandler(JsonHandler):
    """POST /v1/chat/completions: the last user turn's ``What is A op B?`` worked out
    (or "I don't know"); every request is counted (the server's ``requests``)."""

    def do_POST(self):  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        question = next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")
        match = _QUESTION.search(question)
        with self.server.lock:
            self.server.requests.append(question.split("\n", 1)[0])
        if match:
            a, op, b = int(match.group(1)), match.group(2), int(match.group(3))
            value = a + b if op == "+" else a - b if op == "-" else a * b
            text = f"{a} {op} {b} = {value}.\n\nThe answer is \\boxed{{{value}}}."
        else:
            text = "I don't know."
        self.send_json(200, {"choices": [{"message": {"content": text}, "finish_reason": "stop"}],
                           "usage": {"prompt_tokens": len(question.split()),
                                     "completion_tokens": len(text.split())}})


class LatencyServer(ThreadingHTTPServer):
    """Chat completions on 127.0.0.1 answering each request after ``min_s``..``max_s``
    seconds (a hash of its prompt and seed decides, so a re-run waits the same), one
    thread per connection. Records the most requests in flight at once
    (``max_in_flight``), the answered count and a request log (``log_path``: one JSON
    line ``{"prompt": hash, "seed": seed}`` per request, written on arrival)."""

    daemon_threads = True
    request_queue_size = 1024

    def __init__(self, log_path: str, min_s: float = 0.2, max_s: float = 2.0):
        super().__init__(("127.0.0.1", 0), _LatencyHandler)
        self.min_s, self.max_s = min_s, max_s
        self.lock = threading.Lock()
        self.in_flight = self.max_in_flight = self.answered = 0
        self.log_path = log_path
        self.log = open(log_path, "a", encoding="utf-8")
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def __enter__(self) -> "LatencyServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()
        self.log.close()

    def requests(self) -> List[dict]:
        """The request log so far."""
        with self.lock, open(self.log_path, encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]


@contextlib.contextmanager
def arithmetic_teacher() -> Iterator[http.server.ThreadingHTTPServer]:
    """A real OpenAI-compatible HTTP server on a loopback port, in a thread of this
    process; ``server.requests`` lists the question of every request it answered and
    ``server.base_url`` is its ``/v1`` URL."""
    with serving(_ArithmeticHandler, requests=[]) as server:
        server.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"  # type: ignore[attr-defined]
        yield server
