"""Where the tool's log lines go: stderr, at the level ``--log-level`` / ``--quiet`` ask for.

Our stages' lines (progress, tokens/s) come from the ``transforms``, ``pipelines``
and ``publish`` loggers; Beam's own stay at WARNING (ERROR under ``--quiet``).

Every line, ours and Beam's (with its traceback), goes through a
:class:`RedactFilter`: secrets from the environment in any form and credentials in
URLs become ``***`` (``transforms.core.redact``); :func:`protect` adds the variables a
config names, :func:`scrub` is the same for text printed without logging.
"""
from __future__ import annotations

import logging
import sys
from typing import Iterable, List, Optional, Tuple

from transforms.core.redact import Redactor, env_secrets

#: The loggers of this repository's packages.
OURS = ("transforms", "pipelines", "publish")


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (test runners swap it)."""

    def __init__(self):
        super().__init__()
        self.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


class RedactFilter(logging.Filter):
    """Redacts a log record's message, arguments and traceback (see the module docstring).

    The secrets are read from the environment when a line is logged (the variables
    ``env_names`` and any that look like credentials); the Redactor is rebuilt only when
    they changed."""

    def __init__(self, env_names: Iterable[str] = ()):
        super().__init__()
        self.env_names: List[str] = sorted(set(env_names))
        self._secrets: Optional[Tuple[str, ...]] = None
        self._redactor = Redactor()

    def redactor(self) -> Redactor:
        secrets = tuple(env_secrets(self.env_names))
        if secrets != self._secrets:
            self._secrets, self._redactor = secrets, Redactor(secrets)
        return self._redactor

    def filter(self, record: logging.LogRecord) -> bool:
        redactor = self.redactor()
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string: log it as it is
            message = str(record.msg)
        record.msg, record.args = redactor.text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redactor.text(record.exc_text)
        if record.stack_info:
            record.stack_info = redactor.text(record.stack_info)
        return True


def _filters() -> List[RedactFilter]:
    """The RedactFilters on our handlers and the root logger's."""
    handlers = [h for name in OURS for h in logging.getLogger(name).handlers] + logging.getLogger().handlers
    return [f for h in handlers for f in h.filters if isinstance(f, RedactFilter)]


def _guard(handler: logging.Handler) -> None:
    if not any(isinstance(f, RedactFilter) for f in handler.filters):
        handler.addFilter(RedactFilter())


def setup(level: int, quiet: bool = False) -> None:
    """Send our loggers' lines at ``level`` and above to stderr (set again on every call:
    one process may run several commands); every handler redacts secrets."""
    for name in OURS:
        log = logging.getLogger(name)
        handlers = [h for h in log.handlers if isinstance(h, StderrHandler)]
        if not log.handlers:
            handlers = [StderrHandler()]
            log.addHandler(handlers[0])
        for handler in handlers:
            handler.setLevel(level)
        for any_handler in log.handlers:
            _guard(any_handler)
        log.setLevel(level)
        log.propagate = False
    root = logging.getLogger()
    if not root.handlers:  # Beam's lines (and tracebacks) would go to logging's last resort, unredacted
        fallback = StderrHandler()
        fallback.setLevel(logging.WARNING)
        root.addHandler(fallback)
    for root_handler in root.handlers:
        _guard(root_handler)
    logging.getLogger("apache_beam").setLevel(logging.ERROR if quiet else logging.NOTSET)


def protect(env_names: Iterable[str]) -> None:
    """Redact the values of these environment variables too (a config's ``api_key_env``)."""
    names = list(env_names)
    for log_filter in _filters():
        log_filter.env_names = sorted(set(log_filter.env_names) | set(names))


def scrub(text: str) -> str:
    """``text`` redacted as the log lines are (for messages printed without logging)."""
    names = sorted({n for f in _filters() for n in f.env_names})
    return Redactor.from_env(names).text(text) or text
