"""Code verification: Python solutions run against tests in a bubblewrap sandbox.

Every run is its own process tree in its own namespaces (bubblewrap): no network
(``--unshare-net``: only a loopback that is down), its own PID namespace (killing
bubblewrap kills everything in it, daemons included: ``--die-with-parent``), a
private ``/tmp`` and work directory (size-capped tmpfs), a read-only system
(``/usr``, the Python installation and the virtualenv, nothing else of the host),
a clean environment, no controlling terminal (``--new-session``) and no way back to
privileges (no capabilities, no-new-privs), and a seccomp filter denying the system
calls only an escape would want (new namespaces, mounts, ptrace, BPF, keyrings,
io_uring …, see ``transforms/verify/sandbox/seccomp.py``). Inside, a small trusted harness
(``transforms/verify/sandbox/harness.py``) sets resource limits (CPU, address space,
file size, processes, open files, no core dumps) and, when the sandbox was started
by root, drops to an unprivileged user of its own (one per calling thread, so the
process limit of one run never starves another), before any solution code runs.

The parent bounds each run by wall clock (it kills bubblewrap, which takes the
whole tree with it), caps what it reads from stdout, stderr and the result
channel, and computes the verdict itself by comparing outputs with the expected
ones, which never enter the sandbox: an exit code, a printed "PASS" or an object
claiming to equal anything never counts. If the sandbox can't start (no
bubblewrap, no namespaces), code records are ``infra_unavailable``, never passed
or failed.

Tests (a problem's ``tests`` JSON) come in the common formats:

* APPS/TACO: ``{"inputs": [...], "outputs": [...]}`` (stdin/stdout), with
  ``"fn_name"`` for call-based tests (``inputs`` are argument lists);
* LiveCodeBench-like: a list of ``{"input", "output", "testtype"}`` (or
  ``{"tests": [...], "fn_name": ...}``), ``testtype`` ``stdin`` or ``functional``.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import typing
from typing import Any, List, Optional, Tuple

from transforms.verify.sandbox.seccomp import deny_filter

SANDBOX_VERSION = "bwrap-sandbox==1"
HARNESS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "harness.py")
#: Paths inside the sandbox.
WORK_DIR = "/home/sandbox"
HARNESS_PATH = "/run/harness.py"
#: Unprivileged user ids the harness drops to when bubblewrap runs as root:
#: UID_BASE + the calling thread's kernel id, unique among running sandboxes.
UID_BASE = 1 << 30
NOBODY = 65534
#: How long the end of a run may take (killing and reaping its processes).
KILL_WAIT_S = 0.8
_STATUS_EXITED, _STATUS_TIMEOUT, _STATUS_OUTPUT, _STATUS_SANDBOX = (
    "exited", "timeout", "output_limit", "sandbox_error")


@dataclasses.dataclass(frozen=True)
class SandboxConfig:
    """Limits of one sandboxed run (``curate.verify.code`` in the run config)."""

    timeout_s: float = 10.0  # wall clock per run: one stdin test, or all calls of a call-based suite
    memory_mb: int = 1024  # address space per process
    max_processes: int = 64  # processes and threads of the run's user
    max_open_files: int = 64
    max_file_mb: int = 16  # largest file a run may write
    work_dir_mb: int = 64  # size of the work directory, /tmp and /dev/shm (each a tmpfs)
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


class CodeTests(typing.NamedTuple):
    """Normalized tests: ``stdin`` cases are (input text, expected output text);
    ``call`` cases are (argument list or dict, expected value)."""

    kind: str  # stdin | call
    cases: List[Tuple[Any, Any]]
    fn_name: Optional[str] = None


# -- the sandbox ---------------------------------------------------------------------


class Sandbox:
    """Runs one Python program per call in a fresh bubblewrap sandbox.

    ``unavailable()`` says why the sandbox can't run here (None when it can; probed
    once, on first use). Thread-compatible: concurrent runs from several threads or
    processes are independent."""

    def __init__(self, config: SandboxConfig = SandboxConfig()):
        self.config = config
        self._problem: Optional[str] = None
        self._probed = False

    def unavailable(self) -> Optional[str]:
        """None if sandboxed runs work here, else why not (checked once)."""
        if not self._probed:
            self._problem = self._probe()
            self._probed = True
        return self._problem

    def _probe(self) -> Optional[str]:
        if shutil.which(self.config.bwrap) is None:
            return f"sandbox unavailable: {self.config.bwrap!r} (bubblewrap) not found"
        result = self.run("print(6 * 7)")
        if result.status == _STATUS_EXITED and result.exit_code == 0 and result.stdout == b"42\n":
            return None
        return (f"sandbox unavailable: probe {result.status} (exit {result.exit_code}): "
                f"{result.detail or _tail(result.stderr)}")

    def run(self, source: str, *, stdin: str = "", fn_name: Optional[str] = None,
            calls: Optional[list] = None, timeout_s: Optional[float] = None) -> RunResult:
        """Run ``source`` with ``stdin`` (stdin mode), or call ``fn_name`` on each of
        ``calls`` (call mode); at most ``timeout_s`` (default: the config's) seconds."""
        timeout_s = timeout_s or self.config.timeout_s
        task = {
            "mode": "call" if fn_name else "stdin",
            "source": source,
            "fn_name": fn_name,
            "calls": calls or [],
            "limits": self._limits(timeout_s),
            "nice": self.config.nice,
            "uid": UID_BASE + threading.get_native_id() if os.geteuid() == 0 else 0,
        }
        with tempfile.TemporaryFile() as task_file, tempfile.TemporaryFile() as stdin_file, \
                tempfile.TemporaryFile() as filter_file:
            task_file.write(json.dumps(task).encode("utf-8"))
            task_file.seek(0)
            stdin_file.write(stdin.encode("utf-8"))
            stdin_file.seek(0)
            seccomp = deny_filter()
            if seccomp is not None:
                filter_file.write(seccomp)
                filter_file.seek(0)
            return self._run(task_file.fileno(), stdin_file, timeout_s,
                             filter_file.fileno() if seccomp is not None else None)

    def _limits(self, timeout_s: float) -> dict:
        c = self.config
        return {
            "RLIMIT_AS": c.memory_mb << 20,
            "RLIMIT_CPU": int(math.ceil(timeout_s)) + 1,
            "RLIMIT_FSIZE": c.max_file_mb << 20,
            "RLIMIT_NOFILE": c.max_open_files,
            "RLIMIT_NPROC": c.max_processes,
            "RLIMIT_CORE": 0,
        }

    def _run(self, task_fd: int, stdin_file, timeout_s: float, seccomp_fd: Optional[int]) -> RunResult:
        result_r, result_w = os.pipe()
        status_r, status_w = os.pipe()
        started = time.monotonic()
        passed = (task_fd, result_w, status_w) + ((seccomp_fd,) if seccomp_fd is not None else ())
        try:
            process = subprocess.Popen(
                self.command(task_fd, result_w, status_w, seccomp_fd),
                stdin=stdin_file, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                pass_fds=passed, close_fds=True,
                env={"PATH": "/usr/bin:/bin"}, start_new_session=True,
            )
        except OSError as exc:
            for fd in (result_r, result_w, status_r, status_w):
                os.close(fd)
            return RunResult(_STATUS_SANDBOX, None, b"", b"", [], 0.0, f"could not start bubblewrap: {exc}")
        os.close(result_w)
        os.close(status_w)
        streams = {process.stdout.fileno(): "stdout", process.stderr.fileno(): "stderr",
                   result_r: "result", status_r: "status"}
        data = {name: bytearray() for name in streams.values()}
        try:
            status = self._collect(streams, data, started + timeout_s)
        finally:
            _end(process, data["status"])
            process.stdout.close()
            process.stderr.close()
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
                return _STATUS_TIMEOUT
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
                    return _STATUS_OUTPUT
        return _STATUS_EXITED

    def command(self, task_fd: int, result_fd: int, status_fd: int, seccomp_fd: Optional[int] = None) -> List[str]:
        """The bubblewrap command line of one run."""
        size = str(self.config.work_dir_mb << 20)
        args = [self.config.bwrap, "--die-with-parent", "--new-session", "--json-status-fd", str(status_fd),
                "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                "--hostname", "sandbox"]
        if seccomp_fd is not None:
            args += ["--seccomp", str(seccomp_fd)]
        if os.geteuid() == 0:  # the harness drops to its own user: keep only what that needs
            args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        else:
            args += ["--unshare-user", "--disable-userns", "--uid", str(NOBODY), "--gid", str(NOBODY)]
        args += ["--proc", "/proc", "--dev", "/dev",
                 "--perms", "1777", "--size", size, "--tmpfs", "/dev/shm",
                 "--perms", "1777", "--size", size, "--tmpfs", "/tmp"]
        args += _mkdirs(os.path.dirname(WORK_DIR))
        args += ["--perms", "1777", "--size", size, "--tmpfs", WORK_DIR]
        args += _system_binds()
        args += ["--perms", "0755", "--dir", os.path.dirname(HARNESS_PATH),
                 "--ro-bind", HARNESS_FILE, HARNESS_PATH, "--chdir", WORK_DIR, "--clearenv"]
        for name, value in _sandbox_env().items():
            args += ["--setenv", name, value]
        return args + [sys.executable, "-s", "-B", HARNESS_PATH, str(task_fd), str(result_fd)]


def _end(process: subprocess.Popen, status_lines: bytes) -> None:
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


def _status_value(status_lines: bytes, key: str) -> Optional[int]:
    """A value bubblewrap reported on its JSON status descriptor (last one wins)."""
    value = None
    for line in bytes(status_lines).splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and isinstance(doc.get(key), int):
            value = doc[key]
    return value


def _result(status: str, returncode: Optional[int], data: dict, elapsed: float) -> RunResult:
    """Interpret what a run left: bubblewrap's status lines, the harness's result lines."""
    exit_code = _status_value(data["status"], "exit-code")
    if exit_code is None:
        exit_code = returncode
    namespace = _status_value(data["status"], "pid-namespace")
    lines = bytes(data["result"]).split(b"\n")
    if lines[0] != b'"ready"':
        detail = f"the sandbox did not start: {_tail(bytes(data['stderr'])) or 'no harness'}"
        return RunResult(_STATUS_SANDBOX, exit_code, bytes(data["stdout"]), bytes(data["stderr"]), [],
                         elapsed, detail, namespace)
    results = []
    for line in lines[1:]:
        try:
            results.append(json.loads(line))
        except ValueError:
            continue
    if exit_code is not None and exit_code > 128 and status == _STATUS_EXITED:
        exit_code = -(exit_code - 128)  # bubblewrap reports a signal death as 128 + signal
    return RunResult(status, exit_code, bytes(data["stdout"]), bytes(data["stderr"]), results, elapsed, "",
                     namespace)


def _tail(data: bytes, limit: int = 300) -> str:
    return data.decode("utf-8", "replace").strip()[-limit:]


def _mkdirs(path: str) -> List[str]:
    """bubblewrap arguments creating ``path`` and its parents, world-readable."""
    args = []
    parts = [p for p in path.split("/") if p]
    for i in range(1, len(parts) + 1):
        args += ["--perms", "0755", "--dir", "/" + "/".join(parts[:i])]
    return args


def _system_binds() -> List[str]:
    """Read-only binds of the system and the Python installation, nothing else."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = "/" + name
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    if os.path.exists("/etc/ld.so.cache"):
        args += ["--perms", "0755", "--dir", "/etc", "--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    roots = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                                           os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))))}
    for root in sorted(roots):
        if root in ("/", "/usr") or root.startswith("/usr/"):
            continue
        args += _mkdirs(os.path.dirname(root)) + ["--ro-bind", root, root]
    if os.path.realpath(sys.prefix) != sys.prefix:  # a venv reached through a symlink
        args += ["--symlink", os.path.realpath(sys.prefix), sys.prefix]
    return args


def _sandbox_env() -> dict:
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": WORK_DIR,
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONIOENCODING": "utf-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


# -- tests, code and comparison ---------------------------------------------------------

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.S)


def extract_code(text: str) -> Optional[str]:
    """The solution in a response: the last ```python block of the final answer (the
    text after ``</think>``), else its last fenced block; None without one."""
    if not text:
        return None
    final = text.rpartition("</think>")[2] if "</think>" in text else text
    blocks = _FENCE.findall(final)
    if not blocks:
        return None
    python = [body for lang, body in blocks if lang.lower() in ("python", "py", "python3")]
    return (python or [body for _, body in blocks])[-1]


def parse_tests(spec) -> CodeTests:
    """A CodeTests from a problem's ``tests`` (JSON text or already decoded).

    Raises ValueError for a spec it can't read (the record is then unverifiable)."""
    if isinstance(spec, str):
        spec = json.loads(spec)
    fn_name = None
    if isinstance(spec, dict) and "tests" in spec:
        fn_name, spec = spec.get("fn_name"), spec["tests"]
    if isinstance(spec, dict):
        inputs, outputs = spec.get("inputs"), spec.get("outputs")
        if not isinstance(inputs, list) or not isinstance(outputs, list) or len(inputs) != len(outputs):
            raise ValueError("tests: expected 'inputs' and 'outputs' lists of the same length")
        fn_name = spec.get("fn_name") or None
        if fn_name:
            return CodeTests("call", [(_call_args(i), o) for i, o in zip(inputs, outputs)], str(fn_name))
        return CodeTests("stdin", [(_text(i), _text(o)) for i, o in zip(inputs, outputs)])
    if isinstance(spec, list) and all(isinstance(t, dict) and "input" in t and "output" in t for t in spec):
        functional = [t.get("testtype") == "functional" for t in spec]
        if any(functional):
            if not all(functional) or not fn_name:
                raise ValueError("tests: functional tests need 'fn_name' and may not mix with stdin tests")
            return CodeTests("call", [(_lines_as_args(t["input"]), _json_value(t["output"])) for t in spec],
                             str(fn_name))
        return CodeTests("stdin", [(_text(t["input"]), _text(t["output"])) for t in spec])
    raise ValueError("tests: unknown format (expected inputs/outputs or a list of input/output tests)")


def _text(value) -> str:
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value)


def _call_args(value):
    return value if isinstance(value, (list, dict)) else [value]


def _json_value(text):
    try:
        return json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return text


def _lines_as_args(text: str) -> list:
    """LiveCodeBench functional input: one JSON value per line, one per argument."""
    return [_json_value(line) for line in str(text).splitlines() if line.strip()]


def outputs_match(actual: str, expected: str, tolerance: float = 1e-6) -> bool:
    """stdout against the expected output: the same lines (trailing whitespace and
    blank lines ignored), or the same whitespace-separated tokens, numbers equal
    within ``tolerance``."""
    def lines(text):
        return [line.rstrip() for line in text.strip().splitlines()]

    if lines(actual) == lines(expected):
        return True
    got, want = actual.split(), expected.split()
    return len(got) == len(want) and all(_tokens_match(g, w, tolerance) for g, w in zip(got, want))


def _tokens_match(got: str, want: str, tolerance: float) -> bool:
    if got == want:
        return True
    try:
        a, b = float(got), float(want)
    except ValueError:
        return False
    return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)


def values_match(actual, expected, tolerance: float = 1e-6) -> bool:
    """A call's JSON value against the expected one: equal, numbers within
    ``tolerance``, lists and dicts item by item; an expected ``[x]`` also accepts
    ``x`` (APPS wraps call outputs in a list)."""
    if _same_value(actual, expected, tolerance):
        return True
    return isinstance(expected, list) and len(expected) == 1 and _same_value(actual, expected[0], tolerance)


def _same_value(a, b, tolerance: float) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_value(x, y, tolerance) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_value(a[k], b[k], tolerance) for k in a)
    return type(a) is type(b) and a == b


def run_tests(source: str, suite: CodeTests, sandbox: Sandbox) -> Tuple[str, str]:
    """(verdict, reason) of a solution on a test suite, decided here from the outputs.

    ``correct`` only when every test ran to a clean exit with the expected output;
    ``timeout`` when a run hit the wall clock; ``infra_unavailable`` when the sandbox
    could not run it; ``incorrect`` otherwise (wrong output, runtime error, output
    limit). Stdin tests stop at the first failure; all of them together get at most
    ``rollout_timeout_s``."""
    cases = suite.cases[: sandbox.config.max_tests]
    if not cases:
        return "unverifiable", "no_tests"
    problem = sandbox.unavailable()
    if problem:
        return "infra_unavailable", problem
    tolerance = sandbox.config.float_tolerance
    if suite.kind == "call":
        result = sandbox.run(source, fn_name=suite.fn_name, calls=[args for args, _ in cases])
        failure = _run_failure(result)
        if failure:
            return failure
        values = {r["i"]: r for r in result.results if isinstance(r, dict) and type(r.get("i")) is int}
        for i, (_, expected) in enumerate(cases):
            got = values.get(i)
            if got is None or "value" not in got:
                error = got.get("error", "no result") if isinstance(got, dict) else "no result"
                return "incorrect", f"test {i + 1}/{len(cases)}: {error}"
            if not values_match(got["value"], expected, tolerance):
                return "incorrect", f"test {i + 1}/{len(cases)}: wrong_answer"
        return "correct", f"passed {len(cases)}/{len(cases)} tests"
    deadline = time.monotonic() + sandbox.config.rollout_timeout_s
    for i, (stdin, expected) in enumerate(cases):
        left = min(sandbox.config.timeout_s, deadline - time.monotonic())
        if left <= 0:
            return "timeout", f"rollout_time_limit_exceeded after {i}/{len(cases)} tests"
        result = sandbox.run(source, stdin=stdin, timeout_s=left)
        failure = _run_failure(result, f"test {i + 1}/{len(cases)}: ")
        if failure:
            return failure
        if not outputs_match(result.stdout.decode("utf-8", "replace"), expected, tolerance):
            return "incorrect", f"test {i + 1}/{len(cases)}: wrong_answer"
    return "correct", f"passed {len(cases)}/{len(cases)} tests"


def _run_failure(result: RunResult, where: str = "") -> Optional[Tuple[str, str]]:
    """The verdict of a run that didn't end cleanly, else None."""
    if result.status == _STATUS_SANDBOX:
        return "infra_unavailable", f"{where}{result.detail}"
    if result.status == _STATUS_TIMEOUT:
        return "timeout", f"{where}time_limit_exceeded ({result.elapsed_s:.1f}s)"
    if result.status == _STATUS_OUTPUT:
        return "incorrect", f"{where}output_limit_exceeded"
    if result.exit_code != 0:
        last = _tail(result.stderr, 120).splitlines()
        return "incorrect", f"{where}runtime_error (exit {result.exit_code}){': ' + last[-1] if last else ''}"
    return None
