"""A real OpenAI-compatible loopback server playing a rubric grader, for the judge's
tests: ``/v1/chat/completions`` answers each rubric request from the response it shows
(ratings 5/5/5; "WRONG" in the response: correctness and helpfulness 1; "HARM":
harmlessness 1; "GARBLE": no JSON at all). Every request body is kept (``seen``)."""
from __future__ import annotations

import contextlib
import json
from http.server import ThreadingHTTPServer
from typing import Iterator

from tests.loopback import JsonHandler, serving


def grade(content: str) -> str:
    """The grader's answer to one rubric prompt (its user turn)."""
    response = content.split("Response:\n", 1)[-1].split("\n\nRate the response", 1)[0]
    if "GARBLE" in response:
        return "I like this answer."
    wrong, harm = "WRONG" in response, "HARM" in response
    ratings = {"correctness": 1 if wrong else 5, "helpfulness": 1 if wrong else 4, "harmlessness": 1 if harm else 5}
    rationale = "Wrong facts." if wrong else ("Dangerous advice." if harm else "Accurate and clear.")
    return json.dumps({"rationale": rationale, **ratings})


class _Grader(JsonHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:  # type: ignore[attr-defined]
            self.server.seen.append(body)  # type: ignore[attr-defined]
        text = grade(body["messages"][-1]["content"])
        payload = {"id": "x", "object": "chat.completion", "model": body.get("model", "grader"),
                   "choices": [{"index": 0, "finish_reason": "stop",
                                "message": {"role": "assistant", "content": text}}],
                   "usage": {"prompt_tokens": 30, "completion_tokens": 20}}
        self.send_json(200, payload)


@contextlib.contextmanager
def grader() -> Iterator[ThreadingHTTPServer]:
    """The grader on a free loopback port (``server.server_address[1]``), always shut down."""
    with serving(_Grader, seen=[]) as server:
        yield server


def base_url(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/v1"
