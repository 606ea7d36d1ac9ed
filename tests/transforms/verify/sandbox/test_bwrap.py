"""The bubblewrap command line, without running it."""
import os
import subprocess
import sys

from transforms.verify.sandbox.bwrap import HARNESS_FILE, HARNESS_PATH, WORK_DIR, bwrap_command, launcher
from transforms.verify.sandbox.config import SandboxConfig
from transforms.verify.sandbox.limits import MAX_FILES, tmpfs_options


def test_command_isolates_and_runs_the_harness():
    args = bwrap_command(SandboxConfig(bwrap="my-bwrap", work_dir_mb=8), 5, 6, 7, seccomp_fd=8)
    assert args[0] == "my-bwrap"
    for flag in ("--unshare-net", "--unshare-pid", "--die-with-parent", "--new-session", "--clearenv"):
        assert flag in args
    assert args[args.index("--seccomp") + 1] == "8" and args[args.index("--json-status-fd") + 1] == "7"
    assert ["--ro-bind", HARNESS_FILE, HARNESS_PATH] == args[args.index(HARNESS_FILE) - 1:args.index(HARNESS_FILE) + 2]
    assert args[-6:] == [sys.executable, "-s", "-B", HARNESS_PATH, "5", "6"]
    assert args[args.index(WORK_DIR) - 2] == str(8 << 20)  # the work directory's tmpfs size
    assert os.path.isfile(HARNESS_FILE)
    assert "--seccomp" not in bwrap_command(SandboxConfig(), 5, 6, 7)


def test_tmpfs_mounted_by_the_launcher_are_bound():
    dirs = {"/tmp": "/h/tmp", "/dev/shm": "/h/shm", WORK_DIR: "/h/work"}
    args = bwrap_command(SandboxConfig(), 5, 6, 7, tmpfs_dirs=dirs)
    for path, host in dirs.items():
        assert ["--bind", host, path] == args[args.index(host) - 1:args.index(host) + 2]
    assert "--tmpfs" not in args


def test_launcher_joins_the_cgroup_then_runs_the_command(tmp_path):
    assert launcher("size=1", None, []) == []
    procs = tmp_path / "cgroup.procs"
    procs.write_text("")
    command = launcher(tmpfs_options(SandboxConfig(work_dir_mb=8)), str(procs), [])
    assert command[0] == "sh"  # no tmpfs to mount: no mount namespace
    out = subprocess.run(command + ["sh", "-c", "echo $$"], capture_output=True, text=True, check=True).stdout
    assert procs.read_text().strip() == out.strip()  # the command runs as the process that joined
    with_dirs = launcher("size=1", None, ["/h/tmp"])
    assert with_dirs[:4] == ["unshare", "--mount", "--propagation", "private"]
    assert f"nr_inodes={MAX_FILES}" in tmpfs_options(SandboxConfig())
