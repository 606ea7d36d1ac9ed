"""A replay teacher: a real OpenAI-compatible chat completions server on loopback that
answers from recorded rollouts, with a realistic latency, and logs every request.

The sample stage's ``openai`` backend sends one request per sample with the sample's
seed (``derive_seed(run seed, problem id, sample index)``), so a recorded rollout is found
by its ``sample_seed``; the request's last user message must contain the recorded
problem's prompt (else 404: the run asks for something never recorded). The answer is
the recorded completion with its recorded token counts and finish reason, after
``ttft_s + completion_tokens / tokens_per_s`` seconds (scaled by ``speed``).

Every request is logged: one JSON line per request in ``log_path`` (when given) and in
:attr:`ReplayTeacher.requests`: time, seed, problem id, sample index, tokens, status.

    python benchmarks/replay_teacher.py --rollouts /tmp/rec/out --port 8000
    # then: sample.backend openai, sample.base_url http://127.0.0.1:8000/v1, same seed and sources

In tests and benchmarks: ``with ReplayTeacher(rows) as teacher: teacher.base_url``.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, Iterable, List, Optional

import pyarrow.parquet as pq


def load_rollouts(folder: str) -> List[dict]:
    """The rollout rows of a sample stage's output folder (``rollouts-*.parquet``), or
    of its ``journal/`` when the stage did not finish."""
    paths = sorted(glob.glob(os.path.join(folder, "rollouts-*.parquet")))
    if not paths:
        paths = sorted(glob.glob(os.path.join(folder, "journal", "chunk-*.parquet")))
    columns = ["problem_id", "prompt", "sample_index", "sample_seed", "completion", "finish_reason",
               "prompt_tokens", "completion_tokens"]
    rows: List[dict] = []
    for path in paths:
        rows.extend(pq.read_table(path, columns=columns).to_pylist())
    return rows


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name; quiet
        pass

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path.rstrip("/").endswith("/models"):
            self._send(200, {"object": "list", "data": [{"id": self.server.teacher.model, "object": "model"}]})
        elif self.path.rstrip("/").endswith("/health"):
            self._send(200, {"status": "ok"})
        else:
            self._send(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self):  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self._send(400, {"error": {"message": "body is not JSON"}})
            return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, {"error": {"message": f"no route {self.path}"}})
            return
        status, answer = self.server.teacher.answer(body)
        self._send(status, answer)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    teacher: "ReplayTeacher"


class ReplayTeacher:
    """The server (started by ``start()`` or ``with``) over recorded rollout rows."""

    def __init__(self, rows: Iterable, model: str = "replay", ttft_s: float = 0.05,
                 tokens_per_s: float = 200.0, speed: float = 1.0, log_path: Optional[str] = None):
        self.model = model
        self.ttft_s, self.tokens_per_s, self.speed = ttft_s, tokens_per_s, speed
        self.log_path = log_path
        rows = [r._asdict() if hasattr(r, "_asdict") else dict(r) for r in rows]  # dicts or Rollouts
        self.by_seed: Dict[int, dict] = {int(r["sample_seed"]): r for r in rows}
        self.requests: List[dict] = []
        self._lock = threading.Lock()
        self._server: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self, port: int = 0) -> "ReplayTeacher":
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.teacher = self
        self._thread = threading.Thread(target=self._server.serve_forever, name="replay-teacher", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "ReplayTeacher":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def latency_s(self, row: dict) -> float:
        return (self.ttft_s + int(row["completion_tokens"] or 0) / self.tokens_per_s) / self.speed

    def answer(self, body: dict):
        """(HTTP status, JSON body) for one chat completions request (after its latency)."""
        seed = body.get("seed")
        row = self.by_seed.get(int(seed)) if isinstance(seed, int) else None
        users = [m.get("content", "") for m in body.get("messages") or [] if m.get("role") == "user"]
        if row is None or not users or row["prompt"] not in users[-1]:
            self._log({"seed": seed, "status": 404})
            return 404, {"error": {"message": f"no recorded rollout for seed {seed} and this prompt"}}
        time.sleep(self.latency_s(row))
        usage = {"prompt_tokens": int(row["prompt_tokens"] or 0),
                 "completion_tokens": int(row["completion_tokens"] or 0)}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        self._log({"seed": seed, "status": 200, "problem_id": row["problem_id"],
                   "sample_index": row["sample_index"], **usage})
        finish = "length" if row["finish_reason"] == "length" else "stop"
        return 200, {"id": f"replay-{seed}", "object": "chat.completion", "model": self.model,
                     "choices": [{"index": 0, "finish_reason": finish,
                                  "message": {"role": "assistant", "content": row["completion"]}}],
                     "usage": usage}

    def _log(self, entry: dict) -> None:
        entry = {"time": round(time.time(), 3), **entry}
        with self._lock:
            self.requests.append(entry)
            if self.log_path:
                with open(self.log_path, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(entry) + "\n")

    def totals(self) -> Dict[str, int]:
        """Requests answered and the tokens they cost (prompt, completion)."""
        with self._lock:
            done = [r for r in self.requests if r["status"] == 200]
        return {"requests": len(done), "prompt_tokens": sum(r["prompt_tokens"] for r in done),
                "completion_tokens": sum(r["completion_tokens"] for r in done)}


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rollouts", required=True, help="a sample stage's output folder (rollouts-*.parquet)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--model", default="replay")
    parser.add_argument("--tokens-per-s", type=float, default=200.0)
    parser.add_argument("--ttft-s", type=float, default=0.05)
    parser.add_argument("--log", default=None, help="a JSONL file getting one line per request")
    args = parser.parse_args(argv)
    teacher = ReplayTeacher(load_rollouts(args.rollouts), args.model, args.ttft_s, args.tokens_per_s,
                            log_path=args.log).start(args.port)
    print(f"replaying {len(teacher.by_seed)} rollouts at {teacher.base_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        teacher.stop()


if __name__ == "__main__":
    main()
