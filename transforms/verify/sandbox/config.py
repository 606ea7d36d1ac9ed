"""What one sandboxed run is given and gives back: the limits (:class:`SandboxConfig`,
``curate.verify.code`` in the run config) and the outcome as seen from outside
(:class:`RunResult`, one of the ``STATUS_*`` values)."""
from __future__ import annotations

import dataclasses
import typing
from typing import Any, List, Optional

#: How a run ended, as the parent saw it.
STATUS_EXITED, STATUS_TIMEOUT, STATUS_OUTPUT, STATUS_SANDBOX = (
    "exited", "timeout", "output_limit", "sandbox_error")


@dataclasses.dataclass(frozen=True)
class SandboxConfig:
    """Limits of one sandboxed run (``curate.verify.code`` in the run config)."""

    timeout_s: float = 10.0  # wall clock per run: one stdin test, or all calls of a call-based suite
    memory_mb: int = 1024  # memory of the whole run, all its processes together (sandbox/limits.py)
    max_processes: int = 64  # processes and threads of the run (with a cgroup; else fewer: limits.py)
    max_open_files: int = 64
    max_file_mb: int = 16  # largest file a run may write
    work_dir_mb: int = 64  # size of the work directory, /tmp and /dev/shm (each a tmpfs, files capped)
    max_output_kb: int = 1024  # stdout, stderr and results kept per run; more ends the run
    nice: int = 10  # CPU priority below the parent's (0-19), so a busy run never delays its own kill
    max_tests: int = 100  # tests run per rollout (the first ones); more are not run
    rollout_timeout_s: float = 60.0  # wall clock for all the runs of one rollout
    float_tolerance: float = 1e-6  # relative/absolute tolerance when outputs are numbers
    bwrap: str = "bwrap"  # the bubblewrap executable

    def __post_init__(self):
        if self.timeout_s <= 0 or self.rollout_timeout_s <= 0:
            raise ValueError("timeout_s and rollout_timeout_s: must be > 0")
        for name in ("memory_mb", "max_processes", "max_open_files", "max_file_mb", "work_dir_mb",
                     "max_output_kb", "max_tests"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be >= 1")
        if not 0 <= self.nice <= 19:
            raise ValueError("nice: must be in [0, 19]")
        if self.float_tolerance < 0:
            raise ValueError("float_tolerance: must be >= 0")


class RunResult(typing.NamedTuple):
    """What one sandboxed run did, as seen from outside."""

    status: str  # exited | timeout | output_limit | sandbox_error
    exit_code: Optional[int]  # the solution's exit status (negative: killed by that signal)
    stdout: bytes
    stderr: bytes
    results: List[Any]  # call mode: the JSON lines the harness wrote after "ready"
    elapsed_s: float
    detail: str = ""
    pid_namespace: Optional[int] = None  # inode of the run's PID namespace (as bubblewrap reported it)



def output_tail(data: bytes, limit: int = 300) -> str:
    """The end of a run's output, as text (for reasons and details)."""
    return data.decode("utf-8", "replace").strip()[-limit:]
