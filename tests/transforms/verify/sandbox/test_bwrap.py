"""The bubblewrap command line, without running it."""
import os
import sys

from transforms.verify.sandbox.bwrap import HARNESS_FILE, HARNESS_PATH, WORK_DIR, bwrap_command
from transforms.verify.sandbox.config import SandboxConfig


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
