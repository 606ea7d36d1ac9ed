"""math-verify in a child process the parent can kill: bounded in time and memory.

Beam-free on purpose: the child runs ``python -m transforms.verify.mathchild``
(:mod:`transforms.verify.mathchild`, its side of the protocol) and imports only that
module, the standard library and math-verify (no Beam, no pipeline code), so it
starts in about half a second and stays small.

Protocol: one JSON document per line. The parent writes ``[gold, pred, cpu_budget_s]``
to the child's stdin; the child answers on its stdout with ``["ok", verdict, reason]``
or ``["error", message]``, and says ``["ready"]`` once after importing math-verify.
A batch is one round trip (:meth:`MathVerifierProcess.verify_many`): its requests are
written together and the replies read in order, each within its own bound.
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
parsed once for all its samples) and verdicts in the parent, timeouts included.
"""
from __future__ import annotations

import importlib.metadata
import json
import math
import os
import select
import signal
import subprocess
import sys
import time
from typing import IO, Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union, cast

from transforms.verify.mathchild import _LRU, PARSE_CACHE_SIZE, Comparer, _error_text, limit_cpu, main, serve
from transforms.verify.untrusted import UNREADABLE, read_json

__all__ = ["Comparer", "MathVerifierProcess", "PARSE_CACHE_SIZE", "VerifierError", "VerifierUnavailable",
           "limit_cpu", "main", "math_verify_version", "serve"]

#: CPU seconds a child may spend on one request beyond the parent's wall-clock
#: bound; the kernel ends it there even if the parent died and can't kill it.
CPU_GRACE_S = 5.0
#: Verdicts the parent keeps per (gold, pred).
VERDICT_CACHE_SIZE = 8192
#: Back-off after a failed start: first wait, and the longest.
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 60.0
_PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def math_verify_version() -> str:
    return f"math-verify=={importlib.metadata.version('math-verify')}"


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


#: Bytes of requests written at once: under a pipe's capacity (64 KiB on Linux), so
#: a write never waits on a child busy with an earlier request.
MAX_WRITE_BYTES = 48 << 10
#: One comparison's result: (verdict, reason), or the error it met.
Result = Union[Tuple[str, str], "VerifierUnavailable", "VerifierError"]


def _request_line(gold: str, pred: str, timeout_s: float) -> bytes:
    return (json.dumps([gold, pred, timeout_s + CPU_GRACE_S]) + "\n").encode("utf-8")


def _group(todo: List[Tuple[Tuple[str, str], float]], start: int) -> List[Tuple[Tuple[str, str], float]]:
    """The requests from ``start`` on that fit one write (at least one)."""
    size, end = 0, start
    while end < len(todo):
        (gold, pred), _ = todo[end]
        size += len(gold.encode("utf-8")) + len(pred.encode("utf-8")) + 64
        if end > start and size > MAX_WRITE_BYTES:
            break
        end += 1
    return todo[start:end]


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
                [sys.executable, "-m", "transforms.verify.mathchild", str(self.memory_limit_mb)],
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
        result = self.verify_many([(gold, pred, timeout_s)])[0]
        if isinstance(result, Exception):
            raise result
        return result

    def verify_many(self, requests: Sequence[Tuple[str, str, float]]) -> List[Result]:
        """One result per ``(gold, pred, timeout_s)``, in order: ``(verdict, reason)``,
        or the ``VerifierUnavailable`` / ``VerifierError`` that comparison met.

        One round trip for the batch: the requests not in the cache (each distinct
        pair once) are written together, in groups that fit the pipe, and the
        replies read one by one, each within its own ``timeout_s`` from the reply
        before it. A comparison past its bound kills the child; it is ``timeout``
        and the rest of the batch goes to a new child. Every verdict is cached,
        timeouts included (the same pair is never tried twice by one worker)."""
        results: List[Optional[Result]] = [None] * len(requests)
        pending: Dict[Tuple[str, str], List[int]] = {}
        for i, (gold, pred, _) in enumerate(requests):
            cached = self._cache.get((gold, pred))
            if cached is not None:
                results[i] = cached
            else:
                pending.setdefault((gold, pred), []).append(i)
        todo = [(key, requests[indices[0]][2]) for key, indices in pending.items()]
        done = 0
        while done < len(todo):
            try:
                self.start()
            except VerifierUnavailable as exc:
                for key, _ in todo[done:]:
                    for i in pending[key]:
                        results[i] = exc
                break
            group = _group(todo, done)
            for key, result in zip((key for key, _ in group), self._round_trip(group)):
                for i in pending[key]:
                    results[i] = result
                done += 1
                if not isinstance(result, Exception):
                    self._cache.put(key, result)
                if self._process is None:  # killed (timeout) or dead: the rest go to a new child
                    break
        return cast(List[Result], results)

    def _round_trip(self, group: List[Tuple[Tuple[str, str], float]]) -> Iterator[Result]:
        """The results of one group of requests, written at once (the group fits the
        pipe: the write never blocks on a busy child), read one by one; stops after
        the child was killed or died."""
        data = b"".join(_request_line(gold, pred, timeout_s) for (gold, pred), timeout_s in group)
        try:
            stdin, _ = self._pipes()
            stdin.write(data)
            stdin.flush()
        except (OSError, ValueError) as exc:
            yield self._died(exc)
            return
        for _, timeout_s in group:
            try:
                reply = self._read_reply(time.monotonic() + timeout_s)
            except (OSError, ValueError) as exc:
                yield self._died(exc)
                return
            if reply is None:
                self._discard()
                yield "timeout", f"math_verify_timeout: over {timeout_s:g}s"
                return
            if not _well_formed(reply):
                self._discard()
                yield VerifierError(f"math-verify child sent a malformed reply: {repr(reply)[:120]}")
                return
            yield VerifierError(reply[1]) if reply[0] == "error" else (reply[1], reply[2])

    def _died(self, exc: BaseException) -> Result:
        """The result of a comparison the child died on (it is discarded)."""
        code = self._discard()
        if code in (-signal.SIGXCPU, -signal.SIGKILL):  # its CPU limit, or the OOM killer
            return "timeout", f"math_verify_killed: signal {-code}"
        return VerifierError(f"math-verify child died (exit code {code}): {_error_text(exc)}")

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
