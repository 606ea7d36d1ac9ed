"""The seccomp filter, read from inside a sandboxed run."""
import pytest

from transforms.verify.sandbox.seccomp import deny_filter


def test_seccomp_denies_namespaces_and_kernel_surfaces(roomy):
    """What the filter denies fails with EPERM (read from inside: the filter's own check;
    the attack suite judges escapes from outside)."""
    if deny_filter() is None:
        pytest.skip("no seccomp filter for this architecture")
    probe = ("import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
             "for name, call in [('unshare_user', lambda: libc.unshare(0x10000000)),\n"
             "                   ('unshare_net', lambda: libc.unshare(0x40000000)),\n"
             "                   ('clone_newuser', lambda: libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0)),\n"
             "                   ('io_uring', lambda: libc.syscall(425, 1, None)),\n"
             "                   ('bpf', lambda: libc.syscall(321, 0, None, 0)),\n"
             "                   ('mount', lambda: libc.mount(b'none', b'/tmp', b'tmpfs', 0, None))]:\n"
             "    print(name, call(), ctypes.get_errno())\n"
             "pid = os.fork()\nif pid == 0:\n    os._exit(7)\nprint('fork', os.waitpid(pid, 0)[1] >> 8)")
    result = roomy.run(probe)
    lines = dict(line.split(" ", 1) for line in result.stdout.decode().splitlines())
    assert lines == {"unshare_user": "-1 1", "unshare_net": "-1 1", "clone_newuser": "-1 1", "io_uring": "-1 1",
                     "bpf": "-1 1", "mount": "-1 1", "fork": "7"}, result
