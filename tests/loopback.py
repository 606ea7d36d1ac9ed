"""Loopback HTTP servers for tests: a quiet request handler that answers JSON, and a
server on a free 127.0.0.1 port run in a thread of the test process."""
from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, Iterator, Optional, Type


class JsonHandler(BaseHTTPRequestHandler):
    """A handler that logs nothing and answers with :meth:`send_json`."""

    def send_json(self, status: int, payload, headers: Optional[Dict[str, str]] = None) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serving(handler: Type[BaseHTTPRequestHandler], **state) -> Iterator[ThreadingHTTPServer]:
    """``handler`` served on a free loopback port in a daemon thread, with a ``lock`` and
    ``state`` as attributes of the server; always shut down."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.lock = threading.Lock()  # type: ignore[attr-defined]
    for name, value in state.items():
        setattr(server, name, value)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
