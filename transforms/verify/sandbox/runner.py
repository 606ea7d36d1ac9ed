"""Code verification: Python solutions run against tests in a bubblewrap sandbox.

Every run is its own process tree in its own namespaces (bubblewrap): no network
(``--unshare-net``: only a loopback that is down), its own PID namespace (killing
bubblewrap kills everything in it, daemons included: ``--die-with-parent``), a
private ``/tmp`` and work directory (tmpfs capped in size and files), a read-only system
(``/usr``, the Python installation and the virtualenv, nothing else of the host),
a clean environment, no controlling terminal (``--new-session``) and no way back to
privileges (no capabilities, no-new-privs), and a seccomp filter denying the system
calls only an escape would want (new namespaces, mounts, ptrace, BPF, keyrings,
io_uring, socket families other than Unix and IP …, see
``transforms/verify/sandbox/seccomp.py``). Inside, a small trusted harness
(``transforms/verify/sandbox/harness.py``) sets resource limits (CPU, address space,
file size, processes, open files, no core dumps) and, when the sandbox was started
by root, drops to an unprivileged user of its own (one per calling thread, so the
process limit of one run never starves another), before any solution code runs.
Memory and processes are bounded per run, not per process: by a cgroup of the run
where the machine delegates one, else by process limits that add up
(:mod:`transforms.verify.sandbox.limits`).

The parent bounds each run by wall clock (it kills bubblewrap, which takes the
whole tree with it), caps what it reads from stdout, stderr and the result
channel, reads the result lines as hostile (bounded JSON:
:mod:`transforms.verify.untrusted`), and computes the verdict itself by
comparing outputs with the expected ones (:mod:`transforms.verify.sandbox.compare`),
which never enter the sandbox: an exit code, a printed "PASS" or an object
claiming to equal anything never counts. If the sandbox can't start (no
bubblewrap, no namespaces), code records are ``infra_unavailable``, never passed
or failed. The command line is built in
:mod:`transforms.verify.sandbox.bwrap`; the tests and the verdict are in
:mod:`transforms.verify.sandbox.suites`.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from typing import Dict, Iterator, List, Optional, Union

from transforms.verify.sandbox.bwrap import TMPFS_DIRS, bwrap_command, launcher
from transforms.verify.sandbox.config import (
    STATUS_EXITED,
    STATUS_OUTPUT,
    STATUS_SANDBOX,
    STATUS_TIMEOUT,
    RunResult,
    SandboxConfig,
    output_tail,
)
from transforms.verify.sandbox.limits import RunCgroup, find_cgroup_parent, process_limits, tmpfs_options
from transforms.verify.sandbox.seccomp import deny_filter
from transforms.verify.untrusted import read_json, read_lines

SANDBOX_VERSION = "bwrap-sandbox==2"
#: Unprivileged user ids the harness drops to when bubblewrap runs as root:
#: UID_BASE + the calling thread's kernel id, unique among running sandboxes.
UID_BASE = 1 << 30
#: How long the end of a run may take (killing and reaping its processes).
KILL_WAIT_S = 0.8


# -- the sandbox ---------------------------------------------------------------------


class Sandbox:
    """Runs one Python program per call in a fresh bubblewrap sandbox.

    ``unavailable()`` says why the sandbox can't run here (None when it can; probed
    once, on first use). ``cgroup_parent``: a cgroup v2 directory delegating
    ``memory`` and ``pids`` under which each run gets its own cgroup (default: this
    process's own cgroup if it delegates them; see
    :mod:`transforms.verify.sandbox.limits`). Thread-compatible: concurrent runs from
    several threads or processes are independent."""

    def __init__(self, config: SandboxConfig = SandboxConfig(), cgroup_parent: Optional[str] = None):
        self.config = config
        self.cgroup_parent = find_cgroup_parent(cgroup_parent)
        self._problem: Optional[str] = None
        self._probed = False

    def unavailable(self) -> Optional[str]:
        """None if sandboxed runs work here, else why not (checked once)."""
        if not self._probed:
            self._problem = self._probe()
            self._probed = True
        return self._problem

    def _probe(self) -> Optional[str]:
        needed = [self.config.bwrap] + (["unshare", "mount", "sh"] if os.geteuid() == 0 else [])
        missing = [name for name in needed if shutil.which(name) is None]
        if missing:
            return f"sandbox unavailable: {', '.join(map(repr, missing))} not found (bubblewrap, util-linux)"
        result = self.run("print(6 * 7)")
        if result.status == STATUS_EXITED and result.exit_code == 0 and result.stdout == b"42\n":
            return None
        return (f"sandbox unavailable: probe {result.status} (exit {result.exit_code}): "
                f"{result.detail or output_tail(result.stderr)}")

    def run(self, source: str, *, stdin: str = "", fn_name: Optional[str] = None,
            calls: Optional[list] = None, timeout_s: Optional[float] = None,
            tests: Optional[List[str]] = None, setup: str = "") -> RunResult:
        """Run ``source`` with ``stdin`` (stdin mode), call ``fn_name`` on each of
        ``calls`` (call mode), or run ``setup``, the source and each of the test
        sources ``tests`` in one namespace (suite mode); at most ``timeout_s``
        (default: the config's) seconds."""
        timeout_s = timeout_s or self.config.timeout_s
        try:
            cgroup = RunCgroup(self.cgroup_parent, self.config.memory_mb, self.config.max_processes) \
                if self.cgroup_parent else None
        except OSError as exc:
            return RunResult(STATUS_SANDBOX, None, b"", b"", [], 0.0, f"could not make the run's cgroup: {exc}")
        task = {
            "mode": "suite" if tests is not None else "call" if fn_name else "stdin",
            "source": source,
            "fn_name": fn_name,
            "calls": calls or [],
            "tests": tests or [],
            "setup": setup,
            "limits": process_limits(self.config, timeout_s, cgroup is not None),
            "nice": self.config.nice,
            "uid": UID_BASE + threading.get_native_id() if os.geteuid() == 0 else 0,
        }
        try:
            with tempfile.TemporaryFile() as task_file, tempfile.TemporaryFile() as stdin_file, \
                    tempfile.TemporaryFile() as filter_file, _tmpfs_dirs() as host_dirs:
                task_file.write(json.dumps(task).encode("utf-8"))
                task_file.seek(0)
                stdin_file.write(stdin.encode("utf-8"))
                stdin_file.seek(0)
                seccomp = deny_filter()
                if seccomp is not None:
                    filter_file.write(seccomp)
                    filter_file.seek(0)
                prefix = launcher(tmpfs_options(self.config), cgroup.procs if cgroup else None,
                                  list(host_dirs.values()))
                result = self._run(prefix, host_dirs, task_file.fileno(), stdin_file, timeout_s,
                                   filter_file.fileno() if seccomp is not None else None)
        except OSError as exc:  # no temporary files or directories: the machine, not the code
            result = RunResult(STATUS_SANDBOX, None, b"", b"", [], 0.0, f"could not prepare the run: {exc}")
        finally:
            oom = cgroup is not None and cgroup.oom_killed()
            if cgroup is not None:
                cgroup.close()
        if oom:
            result = result._replace(detail=result.detail or "memory_limit_exceeded")
        return result

    def _run(self, prefix: List[str], host_dirs: Dict[str, str], task_fd: int, stdin_file, timeout_s: float,
             seccomp_fd: Optional[int]) -> RunResult:
        result_r, result_w = os.pipe()
        status_r, status_w = os.pipe()
        command = prefix + self.command(task_fd, result_w, status_w, seccomp_fd, host_dirs)
        started = time.monotonic()
        passed = (task_fd, result_w, status_w) + ((seccomp_fd,) if seccomp_fd is not None else ())
        try:
            process = subprocess.Popen(
                command, stdin=stdin_file, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                pass_fds=passed, close_fds=True,
                env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}, start_new_session=True,
            )
        except OSError as exc:
            for fd in (result_r, result_w, status_r, status_w):
                os.close(fd)
            return RunResult(STATUS_SANDBOX, None, b"", b"", [], 0.0, f"could not start bubblewrap: {exc}")
        os.close(result_w)
        os.close(status_w)
        stdout, stderr = process.stdout, process.stderr
        assert stdout is not None and stderr is not None  # both piped
        streams = {stdout.fileno(): "stdout", stderr.fileno(): "stderr",
                   result_r: "result", status_r: "status"}
        data = {name: bytearray() for name in streams.values()}
        try:
            status = self._collect(streams, data, started + timeout_s)
        finally:
            _end(process, data["status"])
            stdout.close()
            stderr.close()
            os.close(result_r)
            os.close(status_r)
        elapsed = time.monotonic() - started
        return _result(status, process.returncode, data, elapsed)

    def _collect(self, streams: dict, data: dict, deadline: float) -> str:
        """Read every stream into ``data`` until all are closed, the deadline or the
        output cap; the run's status."""
        cap = self.config.max_output_kb << 10
        poller = select.poll()
        for fd in streams:
            poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        open_fds = set(streams)
        while open_fds:
            left = deadline - time.monotonic()
            if left <= 0:
                return STATUS_TIMEOUT
            for fd, _ in poller.poll(int(math.ceil(left * 1000))):
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    poller.unregister(fd)
                    open_fds.discard(fd)
                    continue
                buffer = data[streams[fd]]
                buffer += chunk
                if len(buffer) > cap and streams[fd] != "status":
                    del buffer[cap:]
                    return STATUS_OUTPUT
        return STATUS_EXITED

    def command(self, task_fd: int, result_fd: int, status_fd: int, seccomp_fd: Optional[int] = None,
                tmpfs_dirs: Optional[Dict[str, str]] = None) -> List[str]:
        """The bubblewrap command line of one run."""
        return bwrap_command(self.config, task_fd, result_fd, status_fd, seccomp_fd, tmpfs_dirs)


@contextlib.contextmanager
def _tmpfs_dirs() -> Iterator[Dict[str, str]]:
    """Host directories the launcher mounts a run's tmpfs on (in its private mount
    namespace: the host only ever sees them empty), removed afterwards; none when the
    parent isn't root (bubblewrap then makes them, without a file cap)."""
    if os.geteuid() != 0:
        yield {}
        return
    root = tempfile.mkdtemp(prefix="sandbox-tmpfs-")
    dirs = {path: os.path.join(root, name) for path, name in zip(TMPFS_DIRS, ("tmp", "shm", "work"))}
    try:
        for host in dirs.values():
            os.mkdir(host)
        yield dirs
    finally:
        for host in list(dirs.values()) + [root]:
            try:
                os.rmdir(host)
            except OSError:
                pass


def _end(process: subprocess.Popen, status_lines: Union[bytes, bytearray]) -> None:
    """Make sure the run is over, every process of it gone, and bubblewrap reaped.

    The sandbox's init (PID 1 of its namespace) is what matters: the kernel kills
    everything else in the namespace before the init exits. So the init is killed
    if the run is still going, and waited for in any case (bubblewrap may exit
    before the init's teardown has finished). It is reached through a pidfd, after
    checking it is in the sandbox's namespace, so a reused PID is never signalled."""
    pidfd = _open_init(_status_value(status_lines, "child-pid"), _status_value(status_lines, "pid-namespace"))
    if pidfd is not None:
        try:
            if process.poll() is None:
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            poller = select.poll()
            poller.register(pidfd, select.POLLIN)
            poller.poll(int(KILL_WAIT_S * 1000))  # readable once the init has exited
        except OSError:
            pass
        finally:
            os.close(pidfd)
    try:
        process.wait(KILL_WAIT_S)
    except subprocess.TimeoutExpired:
        process.kill()  # --die-with-parent takes the sandbox down with bubblewrap
        process.wait()


def _open_init(pid: Optional[int], namespace: Optional[int]) -> Optional[int]:
    """A pidfd of the sandbox's init, or None if it is gone (or the PID is not it)."""
    if not pid or not namespace:
        return None
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return None
    try:
        if os.readlink(f"/proc/{pid}/ns/pid") == f"pid:[{namespace}]":
            return pidfd
    except OSError:
        pass
    os.close(pidfd)
    return None


def _status_value(status_lines: Union[bytes, bytearray], key: str) -> Optional[int]:
    """A value bubblewrap reported on its JSON status descriptor (last one wins)."""
    value = None
    for line in bytes(status_lines).splitlines():
        doc = read_json(line)
        if isinstance(doc, dict) and type(doc.get(key)) is int:
            value = doc[key]
    return value


def _result(status: str, returncode: Optional[int], data: dict, elapsed: float) -> RunResult:
    """Interpret what a run left: bubblewrap's status lines, the harness's result lines."""
    exit_code = _status_value(data["status"], "exit-code")
    if exit_code is None:
        exit_code = returncode
    namespace = _status_value(data["status"], "pid-namespace")
    lines = bytes(data["result"]).split(b"\n")
    if lines[0] != b'"ready"' and status != STATUS_TIMEOUT:
        # a run cut by its time budget before the harness said "ready" timed out: it is
        # the code's budget that ran out, not the sandbox that failed to start
        detail = f"the sandbox did not start: {output_tail(bytes(data['stderr'])) or 'no harness'}"
        return RunResult(STATUS_SANDBOX, exit_code, bytes(data["stdout"]), bytes(data["stderr"]), [],
                         elapsed, detail, namespace)
    results, unreadable = read_lines(b"\n".join(lines[1:]))  # written where the solution can write too
    if exit_code is not None and exit_code > 128 and status == STATUS_EXITED:
        exit_code = -(exit_code - 128)  # bubblewrap reports a signal death as 128 + signal
    detail = f"{unreadable} unreadable result lines" if unreadable else ""
    return RunResult(status, exit_code, bytes(data["stdout"]), bytes(data["stderr"]), results, elapsed, detail,
                     namespace)
