"""The child's side of :mod:`transforms.verify.mathcheck`: math-verify compares two bare
LaTeX answers, one request line at a time (``python -m transforms.verify.mathchild
MEMORY_LIMIT_MB``).

Beam-free on purpose: it imports only this module, the standard library and
math-verify, so it starts in about half a second and stays small. Its CPU time per request and its memory are capped
with ``setrlimit`` (never signal-based timers); math-verify's own ``signal.alarm``
timeouts are off (``parsing_timeout=None``, ``timeout_seconds=None``), which is why
it only ever runs here, in a process the parent can kill.
"""
from __future__ import annotations

import collections
import json
import logging
import math
import os
import resource
import sys
from typing import Tuple

#: Parsed answers the child keeps (gold and predicted, each).
PARSE_CACHE_SIZE = 4096


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
    """Entry point of the child: ``python -m transforms.verify.mathchild MEMORY_LIMIT_MB``."""
    reply_fd = os.dup(1)
    os.dup2(2, 1)  # anything printed by a library goes to stderr, not into the replies
    serve(sys.stdin.buffer, reply_fd, int(sys.argv[1]))


if __name__ == "__main__":
    main()
