"""math-verify in a child process the parent can kill: bounded in time and memory.

Beam-free on purpose: the child runs ``python -m transforms.verify.mathcheck`` and imports
only this module, :mod:`transforms.verify.untrusted`, the standard library and
math-verify (no Beam, no pipeline code),
so it starts in about half a second and stays small.

Protocol: one JSON document per line. The parent writes ``[gold, pred, cpu_budget_s]``
to the child's stdin; the child answers on its stdout with ``["ok", verdict, reason]``
or ``["error", message]``, and says ``["ready"]`` once after importing math-verify.
Stray prints of libraries go to stderr (the child moves its stdout aside first).

Bounds, none of them signal-based in the parent:

* wall clock: the parent waits at most ``timeout_s`` for a reply, then kills the
  child (SIGKILL) and answers ``timeout``; the next call starts a new child;
* CPU: before each request the child caps its own CPU time at ``cpu_budget_s`` more
  seconds (``RLIMIT_CPU``), so a busy child ends itself (SIGXCPU) even if the parent
  died and can't kill it;
* memory: ``RLIMIT_AS`` of ``memory_limit_mb`` in the child; a MemoryError is a
  ``timeout`` verdict (a resource bound, never ``incorrect``);
* start-up: ``start_timeout_s``; a child that can't start makes the verifier
  unavailable for a back-off period (1 s, doubling to 60 s) instead of being
  retried on every record.

Safety: math-verify is only used with ``LatexExtractionConfig`` (an ANTLR LaTeX
grammar); its ``ExprExtractionConfig`` path calls sympy's ``parse_expr`` (which
``eval``s) and is never used, and neither ``sympify`` nor ``parse_expr`` is called
here. Parsed gold and predicted answers are cached in the child (a problem's gold is
parsed once for all its samples) and verdicts in the parent.
"""
from __future__ import annotations

import collections
import importlib.metadata
import json
import logging
import math
import os
import resource
import select
import signal
import subprocess
import sys
import time
from typing import IO, Any, Optional, Tuple

from transforms.verify.untrusted import UNREADABLE, read_json

#: CPU seconds a child may spend on one request beyond the parent's wall-clock
#: bound; the kernel ends it there even if the parent died and can't kill it.
CPU_GRACE_S = 5.0
#: Parsed answers the child keeps (gold and predicted, each).
PARSE_CACHE_SIZE = 4096
#: Verdicts the parent keeps per (gold, pred).
VERDICT_CACHE_SIZE = 8192
#: Back-off after a failed start: first wait, and the longest.
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 60.0
_PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def math_verify_version() -> str:
    return f"math-verify=={importlib.metadata.version('math-verify')}"


def _error_text(exc: BaseException, limit: int = 300) -> str:
    """``Type: message``, cut to ``limit`` characters (a message may quote a 100k answer)."""
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= limit else text[:limit] + "…"


class _LRU:
    """A small least-recently-used mapping (one per owner, never module-global)."""

    def __init__(self, size: int):
        self.size = size
        self._items: collections.OrderedDict = collections.OrderedDict()

    def get(self, key):
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        return None

    def put(self, key, value) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self.size:
            self._items.popitem(last=False)


# -- the child's side -------------------------------------------------------------


class Comparer:
    """Compares two bare LaTeX answers with math-verify, caching what it parsed.

    Runs with math-verify's signal timeouts off: use it only inside the child
    process (or in a test), never in a pipeline worker."""

    def __init__(self, cache_size: int = PARSE_CACHE_SIZE):
        from math_verify import LatexExtractionConfig

        self._config = [LatexExtractionConfig()]
        self._gold = _LRU(cache_size)
        self._pred = _LRU(cache_size)

    def _parse(self, text: str, cache: _LRU):
        from math_verify import parse

        parsed = cache.get(text)
        if parsed is None:
            parsed = parse(f"${text}$", extraction_config=self._config, parsing_timeout=None)
            cache.put(text, parsed)
        return parsed

    def compare(self, gold: str, pred: str) -> Tuple[str, str]:
        """(verdict, reason) of ``pred`` against ``gold``."""
        from math_verify import verify

        try:
            gold_parsed = self._parse(gold, self._gold)
        except MemoryError:
            raise
        except Exception as exc:
            return "unverifiable", f"gold_unparseable: {_error_text(exc)}"
        if not gold_parsed:
            return "unverifiable", "gold_unparseable"
        try:
            pred_parsed = self._parse(pred, self._pred)
        except MemoryError:
            raise
        except Exception as exc:
            return "incorrect", f"answer_unparseable: {_error_text(exc)}"
        if not pred_parsed:
            return "incorrect", "answer_unparseable"
        if verify(gold_parsed, pred_parsed, timeout_seconds=None):
            return "correct", "math_verify_equal"
        return "incorrect", "math_verify_not_equal"


def limit_cpu(budget_s: float) -> None:
    """Let this process use at most ``budget_s`` more CPU seconds (then SIGXCPU ends it)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(math.ceil(usage.ru_utime + usage.ru_stime + budget_s))
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def serve(requests, reply_fd: int, memory_limit_mb: int) -> None:
    """The child's loop: answer each request line until EOF (the parent went away)."""
    if memory_limit_mb:
        limit = memory_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    logging.getLogger("math_verify").setLevel(logging.CRITICAL)
    logging.getLogger("latex2sympy2_extended").setLevel(logging.CRITICAL)
    comparer = Comparer()
    comparer.compare("\\frac{1}{2}", "0.5")  # math-verify initializes lazily: not on the first real request

    def reply(*parts) -> None:
        data = (json.dumps(parts) + "\n").encode("utf-8")
        while data:
            data = data[os.write(reply_fd, data):]

    reply("ready")
    for line in requests:
        gold, pred, cpu_budget_s = json.loads(line)
        limit_cpu(cpu_budget_s)
        try:
            reply("ok", *comparer.compare(gold, pred))
        except MemoryError:
            reply("ok", "timeout", f"memory_limit_exceeded: {memory_limit_mb} MB")
        except RecursionError as exc:
            reply("ok", "incorrect", f"answer_too_deep: {_error_text(exc)}")
        except Exception as exc:  # reported to the parent as this comparison's error
            reply("error", _error_text(exc))


def main() -> None:
    """Entry point of the child: ``python -m transforms.verify.mathcheck MEMORY_LIMIT_MB``."""
    reply_fd = os.dup(1)
    os.dup2(2, 1)  # anything printed by a library goes to stderr, not into the replies
    serve(sys.stdin.buffer, reply_fd, int(sys.argv[1]))


# -- the parent's side ------------------------------------------------------------


#: Verdicts a child's ``ok`` reply may carry.
CHILD_VERDICTS = ("correct", "incorrect", "unverifiable", "timeout")
#: The longest reply line read from the child.
MAX_REPLY_BYTES = 64 << 10


def _well_formed(reply) -> bool:
    """``["ok", verdict, reason]`` or ``["error", message]`` with strings."""
    if not isinstance(reply, list) or not reply or not all(isinstance(part, str) for part in reply):
        return False
    if reply[0] == "ok":
        return len(reply) == 3 and reply[1] in CHILD_VERDICTS
    return reply[0] == "error" and len(reply) == 2


class VerifierUnavailable(RuntimeError):
    """The math-verify child process could not be started."""


class VerifierError(RuntimeError):
    """math-verify failed on one comparison (the child crashed or raised)."""


class MathVerifierProcess:
    """One math-verify child process, started lazily, bounded per call by wall clock.

    ``verify(gold, pred, timeout_s)`` returns ``(verdict, reason)``; past
    ``timeout_s`` the child is killed (a new one starts on the next call) and the
    verdict is ``"timeout"``. Start-up is bounded separately by ``start_timeout_s``
    and does not count against ``timeout_s``; after a failed start, calls raise
    ``VerifierUnavailable`` at once until the back-off has passed. Raises
    ``VerifierError`` when math-verify raised or the child died on a comparison.
    Use as a context manager or call ``close()``. Nothing outlives the parent: the
    child exits at EOF on its stdin, and its CPU time per request is capped.
    Thread-compatible, not thread-safe: one instance per thread or DoFn.
    """

    def __init__(self, start_timeout_s: float = 60.0, memory_limit_mb: int = 2048):
        self.start_timeout_s = start_timeout_s
        self.memory_limit_mb = memory_limit_mb
        self.version = math_verify_version()
        self.starts = 0  # children started (restarts included)
        self._process: Optional[subprocess.Popen] = None
        self._buffer = b""
        self._cache = _LRU(VERDICT_CACHE_SIZE)
        self._retry_at = 0.0  # monotonic time before which no start is tried
        self._backoff_s = 0.0
        self._last_failure = ""

    @property
    def pid(self) -> Optional[int]:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the child if none is running; raise VerifierUnavailable on failure."""
        if self._process is not None and self._process.poll() is None:
            return
        self._discard()
        now = time.monotonic()
        if now < self._retry_at:
            raise VerifierUnavailable(
                f"math-verify child unavailable (next try in {self._retry_at - now:.1f}s): {self._last_failure}")
        try:
            self._spawn()
        except VerifierUnavailable as exc:
            self._backoff_s = min(BACKOFF_MAX_S, self._backoff_s * 2 or BACKOFF_FIRST_S)
            self._retry_at = time.monotonic() + self._backoff_s
            self._last_failure = str(exc)
            raise
        self._backoff_s = 0.0

    def _spawn(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_PROJECT_ROOT, env.get("PYTHONPATH")) if p)
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "transforms.verify.mathcheck", str(self.memory_limit_mb)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, close_fds=True,
                start_new_session=True,  # a Ctrl-C for the pipeline is not the child's
            )
        except OSError as exc:
            raise VerifierUnavailable(f"could not start math-verify: {_error_text(exc)}") from exc
        self._process, self._buffer = process, b""
        self.starts += 1
        try:
            ready = self._read_reply(time.monotonic() + self.start_timeout_s) == ["ready"]
        except (OSError, ValueError):
            ready = False
        if not ready:
            code = self._discard()
            raise VerifierUnavailable(
                f"math-verify child died or was not ready within {self.start_timeout_s:g}s (exit code {code})")

    def verify(self, gold: str, pred: str, timeout_s: float) -> Tuple[str, str]:
        """(verdict, reason) for ``pred`` against ``gold``, within ``timeout_s`` seconds."""
        cached = self._cache.get((gold, pred))
        if cached is not None:
            return cached
        self.start()
        request = (json.dumps([gold, pred, timeout_s + CPU_GRACE_S]) + "\n").encode("utf-8")
        try:
            stdin, _ = self._pipes()
            stdin.write(request)
            stdin.flush()
            reply = self._read_reply(time.monotonic() + timeout_s)
        except (OSError, ValueError) as exc:
            code = self._discard()
            if code in (-signal.SIGXCPU, -signal.SIGKILL):  # its CPU limit, or the OOM killer
                return "timeout", f"math_verify_killed: signal {-code}"
            raise VerifierError(f"math-verify child died (exit code {code}): {_error_text(exc)}") from exc
        if reply is None:
            self._discard()
            return "timeout", f"math_verify_timeout: over {timeout_s:g}s"
        if not _well_formed(reply):
            self._discard()
            raise VerifierError(f"math-verify child sent a malformed reply: {repr(reply)[:120]}")
        if reply[0] == "error":
            raise VerifierError(reply[1])
        result = (reply[1], reply[2])
        if result[0] in ("correct", "incorrect", "unverifiable"):
            self._cache.put((gold, pred), result)
        return result

    def _pipes(self) -> Tuple[IO[bytes], IO[bytes]]:
        """The running child's stdin and stdout (``_spawn`` pipes both)."""
        process = self._process
        assert process is not None and process.stdin is not None and process.stdout is not None
        return process.stdin, process.stdout

    def _read_reply(self, deadline: float) -> Optional[Any]:
        """The child's next reply line, or None past ``deadline``; OSError at EOF,
        ValueError for a line longer than ``MAX_REPLY_BYTES`` or not JSON (read with
        bounds: the child has parsed model text, so its replies are not trusted)."""
        fd = self._pipes()[1].fileno()
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        while b"\n" not in self._buffer:
            if len(self._buffer) > MAX_REPLY_BYTES:
                raise ValueError(f"math-verify reply over {MAX_REPLY_BYTES} bytes")
            left = deadline - time.monotonic()
            if left <= 0 or not poller.poll(int(math.ceil(left * 1000))):
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise OSError("math-verify child closed its output")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        reply = read_json(line, max_depth=2, max_bytes=MAX_REPLY_BYTES)
        if reply is UNREADABLE:
            raise ValueError(f"math-verify reply unreadable: {_error_text(ValueError(line[:100]), 160)}")
        return reply

    def close(self) -> None:
        """Stop the child (EOF on its input, then kill) and reap it."""
        if self._process is not None and self._process.poll() is None:
            try:
                self._pipes()[0].close()
                self._process.wait(1.0)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._discard()

    def _discard(self) -> Optional[int]:
        """Kill and reap the current child, if any, and forget it; its exit code."""
        process, self._process, self._buffer = self._process, None, b""
        if process is None:
            return None
        if process.poll() is None:
            process.kill()
        try:
            code = process.wait(5.0)
        except subprocess.TimeoutExpired:
            code = None
        for pipe in (process.stdin, process.stdout):
            if pipe is None:  # never: both are piped
                continue
            try:
                pipe.close()
            except OSError:
                pass
        return code

    def __enter__(self) -> "MathVerifierProcess":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __del__(self):
        if getattr(self, "_process", None) is not None:
            self._discard()


if __name__ == "__main__":
    main()
