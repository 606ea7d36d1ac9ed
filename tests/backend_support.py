"""Shared by the backend tests: the SmolLM2 GGUF loaded (and a backend sharing it with
other settings), the GGUF converted once to a Hugging Face directory (cached under
.cache/), free loopback ports, and real OpenAI-compatible servers started in their own
process group and always killed."""
from __future__ import annotations

import contextlib
import dataclasses
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
from typing import Dict, Iterator, List, Optional

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
    """The SmolLM2 HF directory (converted on first use, then reused)."""
    spec = importlib.util.spec_from_file_location(
        "convert_smollm2", os.path.join(ROOT, "scripts", "convert_smollm2.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.convert(MODEL_DIR)


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


# -- a loopback OpenAI-compatible teacher that does arithmetic ---------------------------------

_QUESTION = re.compile(r"What is (-?\d+) ([-+*]) (-?\d+)\?")


class _ArithmeticHandler(http.server.BaseHTTPRequestHandler):
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
        data = json.dumps({"choices": [{"message": {"content": text}, "finish_reason": "stop"}],
                           "usage": {"prompt_tokens": len(question.split()),
                                     "completion_tokens": len(text.split())}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def arithmetic_teacher() -> Iterator[http.server.ThreadingHTTPServer]:
    """A real OpenAI-compatible HTTP server on a loopback port, in a thread of this
    process; ``server.requests`` lists the question of every request it answered and
    ``server.base_url`` is its ``/v1`` URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ArithmeticHandler)
    server.lock, server.requests = threading.Lock(), []  # type: ignore[attr-defined]
    server.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
