"""The bubblewrap command line of one sandboxed run: its own namespaces, a read-only
system (``/usr``, the Python installation and the virtualenv, nothing else of the
host), size-capped tmpfs work directories, a clean environment, and the trusted
harness (``harness.py`` beside this file) mounted read-only as the program to run."""
from __future__ import annotations

import os
import sys
from typing import List, Optional

from transforms.verify.sandbox.config import SandboxConfig

HARNESS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "harness.py")
#: Paths inside the sandbox.
WORK_DIR = "/home/sandbox"
HARNESS_PATH = "/run/harness.py"
NOBODY = 65534


def bwrap_command(config: SandboxConfig, task_fd: int, result_fd: int, status_fd: int,
                  seccomp_fd: Optional[int] = None) -> List[str]:
    """The bubblewrap command line of one run."""
    size = str(config.work_dir_mb << 20)
    args = [config.bwrap, "--die-with-parent", "--new-session", "--json-status-fd", str(status_fd),
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
