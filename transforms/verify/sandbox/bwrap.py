"""The bubblewrap command line of one sandboxed run: its own namespaces, a read-only
system (``/usr``, the Python installation and the virtualenv, nothing else of the
host), size- and file-capped tmpfs work directories, a clean environment, and the
trusted harness (``harness.py`` beside this file) mounted read-only as the program to
run; and the launcher in front of it that joins the run's cgroup and mounts those
tmpfs (:mod:`transforms.verify.sandbox.limits`)."""
from __future__ import annotations

import os
import sys
from typing import Dict, List, Optional

from transforms.verify.sandbox.config import SandboxConfig

HARNESS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "harness.py")
#: Paths inside the sandbox.
WORK_DIR = "/home/sandbox"
HARNESS_PATH = "/run/harness.py"
NOBODY = 65534


#: The tmpfs directories of a run, as the sandbox sees them.
TMPFS_DIRS = ("/tmp", "/dev/shm", WORK_DIR)

#: Run by ``sh -c`` in front of bubblewrap: $1 the tmpfs options, $2 the cgroup's
#: ``cgroup.procs`` (or ""), $3 the number of directories, then those directories,
#: then the command. Joins the cgroup first (so everything after is in it), then
#: mounts the tmpfs, then becomes bubblewrap (same PID: --die-with-parent still binds).
LAUNCHER = (
    'set -e; options=$1; procs=$2; count=$3; shift 3; '
    'if [ -n "$procs" ]; then echo $$ > "$procs"; fi; '
    'while [ "$count" -gt 0 ]; do mount -n -t tmpfs -o "$options" sandbox "$1"; shift; count=$((count - 1)); done; '
    'exec "$@"'
)


def launcher(options: str, procs: Optional[str], host_dirs: List[str]) -> List[str]:
    """The command in front of bubblewrap: a private mount namespace (``unshare
    --mount``, when there are tmpfs to mount) and ``sh -c LAUNCHER``; empty when there
    is nothing to do."""
    if not procs and not host_dirs:
        return []
    prefix = ["unshare", "--mount", "--propagation", "private"] if host_dirs else []
    return prefix + ["sh", "-c", LAUNCHER, "sandbox-launcher", options, procs or "", str(len(host_dirs)), *host_dirs]


def bwrap_command(config: SandboxConfig, task_fd: int, result_fd: int, status_fd: int,
                  seccomp_fd: Optional[int] = None, tmpfs_dirs: Optional[Dict[str, str]] = None) -> List[str]:
    """The bubblewrap command line of one run. ``tmpfs_dirs`` maps each of
    :data:`TMPFS_DIRS` to the host directory its tmpfs was mounted on (by the
    launcher); without it, bubblewrap makes them (size-capped only)."""
    size = str(config.work_dir_mb << 20)

    def tmpfs(path: str) -> List[str]:
        if tmpfs_dirs:
            return ["--bind", tmpfs_dirs[path], path]
        return ["--perms", "1777", "--size", size, "--tmpfs", path]

    args = [config.bwrap, "--die-with-parent", "--new-session", "--json-status-fd", str(status_fd),
            "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--hostname", "sandbox"]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    if os.geteuid() == 0:  # the harness drops to its own user: keep only what that needs
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-user", "--disable-userns", "--uid", str(NOBODY), "--gid", str(NOBODY)]
    args += ["--proc", "/proc", "--dev", "/dev"] + tmpfs("/dev/shm") + tmpfs("/tmp")
    args += _mkdirs(os.path.dirname(WORK_DIR))
    args += tmpfs(WORK_DIR)
    args += _system_binds()
    args += ["--perms", "0755", "--dir", os.path.dirname(HARNESS_PATH),
             "--ro-bind", HARNESS_FILE, HARNESS_PATH, "--chdir", WORK_DIR, "--clearenv"]
    for name, value in _sandbox_env().items():
        args += ["--setenv", name, value]
    return args + [sys.executable, "-s", "-B", HARNESS_PATH, str(task_fd), str(result_fd)]


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
        # one malloc arena: a thread's own arena reserves 64 MB of address space, which
        # the per-process limit counts (the limits module)
        "MALLOC_ARENA_MAX": "1",
    }
