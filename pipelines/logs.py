"""Where the tool's log lines go: stderr, at the level ``--log-level`` / ``--quiet`` ask for.

Our stages' lines (progress, tokens/s) come from the ``transforms``, ``pipelines``
and ``publish`` loggers; Beam's own stay at WARNING (ERROR under ``--quiet``).
"""
from __future__ import annotations

import logging
import sys

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


def setup(level: int, quiet: bool = False) -> None:
    """Send our loggers' lines at ``level`` and above to stderr (set again on every call:
    one process may run several commands)."""
    for name in OURS:
        log = logging.getLogger(name)
        handlers = [h for h in log.handlers if isinstance(h, StderrHandler)]
        if not log.handlers:
            handlers = [StderrHandler()]
            log.addHandler(handlers[0])
        for handler in handlers:
            handler.setLevel(level)
        log.setLevel(level)
        log.propagate = False
    logging.getLogger("apache_beam").setLevel(logging.ERROR if quiet else logging.NOTSET)
