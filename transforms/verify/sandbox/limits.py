"""Limits of one sandboxed run as a whole: memory and processes over all of its
processes together, and files in its tmpfs directories.

Memory and processes: a process's resource limits bind that process only, so a run
that forks gets its limit once per process. Two ways to bound the run instead:

* **a cgroup** (v2), where the machine delegates one: every run gets its own child
  cgroup with ``memory.max`` = ``memory_mb`` (no swap, the whole group killed on
  OOM) and ``pids.max`` = ``max_processes``; kernel memory (inodes, page tables,
  pipes) counts too. The parent is this process's own cgroup when its
  ``cgroup.subtree_control`` enables ``memory`` and ``pids`` (a delegated
  subtree), or the directory passed as ``Sandbox(cgroup_parent=...)``. Nothing
  else of the machine's cgroups is touched. Each process keeps ``RLIMIT_AS`` =
  ``memory_mb`` and ``RLIMIT_NPROC`` = ``max_processes``.
* **otherwise, process limits that add up**: at most :data:`FALLBACK_PROCESSES`
  processes and threads (``RLIMIT_NPROC``, per run: every run has its own user;
  never more than ``max_processes``, nor more than ``memory_mb //``
  :data:`MIN_PROCESS_MB`), each with ``memory_mb`` divided by that cap of address
  space (``RLIMIT_AS``), so all of them together never map more than
  ``memory_mb``. The default 1024 MB gives 6 processes or threads of 170 MB each
  (numpy's import alone needs about 144 MB of address space, so 8 × 128 MB was too
  few; ``multiprocessing.Pool(2)`` is 6 tasks): a solution that needs more in one
  process fails where it passed before; raise ``memory_mb`` (2048: 6 × 341 MB) or
  delegate a cgroup.
  Threads count against the cap (the kernel counts tasks) but share their
  process's address space.

Files: each tmpfs of a run (the work directory, ``/tmp``, ``/dev/shm``) holds at most
:data:`MAX_FILES` inodes besides its ``work_dir_mb`` of data, so empty files can't
fill kernel memory. bubblewrap can't set ``nr_inodes``, so when the parent is root
the run starts in a private mount namespace (``unshare --mount``) where ``mount``
makes the three tmpfs, which bubblewrap then binds; the mounts vanish with the
run. An unprivileged parent (bubblewrap in a user namespace) has no such cap.
"""
from __future__ import annotations

import math
import os
import threading
import time
from typing import Dict, Optional

#: Inodes per tmpfs of a run (files, directories and links together).
MAX_FILES = 4096
#: Without a cgroup: the processes and threads a run may have at most ...
FALLBACK_PROCESSES = 6
#: ... and the address space each of them gets at least (fewer processes if need be).
MIN_PROCESS_MB = 64
#: How long the end of a run waits for its cgroup to empty.
CGROUP_WAIT_S = 1.0


def process_limits(config, timeout_s: float, cgroup: bool) -> Dict[str, int]:
    """The resource limits the harness sets on itself (soft = hard) before any
    solution code runs: per process with a cgroup, split so they add up without one."""
    if cgroup:
        processes, memory_mb = config.max_processes, config.memory_mb
    else:
        processes = max(1, min(config.max_processes, FALLBACK_PROCESSES, config.memory_mb // MIN_PROCESS_MB))
        memory_mb = config.memory_mb // processes
    return {
        "RLIMIT_AS": memory_mb << 20,
        "RLIMIT_CPU": int(math.ceil(timeout_s)) + 1,
        "RLIMIT_FSIZE": config.max_file_mb << 20,
        "RLIMIT_NOFILE": config.max_open_files,
        "RLIMIT_NPROC": processes,
        "RLIMIT_CORE": 0,
    }


def tmpfs_options(config) -> str:
    """``mount -o`` options of each tmpfs of a run."""
    return f"size={config.work_dir_mb << 20},nr_inodes={MAX_FILES},mode=1777"


# -- cgroups ---------------------------------------------------------------------------


def _read(path: str) -> str:
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return ""


def delegates(directory: str) -> bool:
    """Whether ``directory`` is a cgroup v2 whose children get ``memory`` and ``pids``."""
    enabled = _read(os.path.join(directory, "cgroup.subtree_control")).split()
    return "memory" in enabled and "pids" in enabled and os.access(directory, os.W_OK)


def own_cgroup(proc: str = "/proc/self") -> Optional[str]:
    """This process's cgroup v2 directory, or None (no cgroup v2 mounted, or a v1 machine)."""
    relative = next((line[3:].strip() for line in _read(f"{proc}/cgroup").splitlines()
                     if line.startswith("0::")), None)
    if relative is None:
        return None
    for line in _read(f"{proc}/mountinfo").splitlines():
        fields = line.split()
        if " - cgroup2 " not in line or len(fields) < 5:
            continue
        root, mount_point = fields[3], fields[4]
        if relative == root or relative.startswith(root.rstrip("/") + "/"):
            return os.path.join(mount_point, relative[len(root.rstrip("/")):].lstrip("/")).rstrip("/")
    return None


def find_cgroup_parent(explicit: Optional[str] = None) -> Optional[str]:
    """Where runs get their cgroups: ``explicit`` or this process's own cgroup, when
    it delegates memory and pids; else None."""
    candidate = explicit or own_cgroup()
    return candidate if candidate and delegates(candidate) else None


class RunCgroup:
    """The cgroup of one run: made with its limits, emptied and removed by ``close``."""

    def __init__(self, parent: str, memory_mb: int, max_processes: int):
        name = f"sandbox-{os.getpid()}-{threading.get_native_id()}-{time.monotonic_ns()}"
        self.path = os.path.join(parent, name)
        os.mkdir(self.path)
        try:
            self._write("memory.max", str(memory_mb << 20))
            self._write("pids.max", str(max_processes))
            for name, value in (("memory.swap.max", "0"), ("memory.oom.group", "1")):
                if os.path.exists(os.path.join(self.path, name)):
                    self._write(name, value)
        except OSError:
            self.close()
            raise

    @property
    def procs(self) -> str:
        """The file a process writes its PID to, to join."""
        return os.path.join(self.path, "cgroup.procs")

    def _write(self, name: str, value: str) -> None:
        with open(os.path.join(self.path, name), "w") as fh:
            fh.write(value)

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process of the run for its memory limit."""
        for line in _read(os.path.join(self.path, "memory.events")).splitlines():
            key, _, count = line.partition(" ")
            if key == "oom_kill" and count.strip() not in ("", "0"):
                return True
        return False

    def close(self) -> None:
        """Kill what is left in the group (``cgroup.kill``), wait until it is empty,
        remove it (best effort: a group that won't empty is left, not waited on forever)."""
        kill = os.path.join(self.path, "cgroup.kill")
        if os.path.exists(kill):
            try:
                self._write("cgroup.kill", "1")
            except OSError:
                pass
        deadline = time.monotonic() + CGROUP_WAIT_S
        while True:
            try:
                os.rmdir(self.path)
                return
            except OSError:
                populated = "populated 1" in _read(os.path.join(self.path, "cgroup.events"))
                if not populated or time.monotonic() > deadline:
                    return
                time.sleep(0.01)
