"""A seccomp filter for the code sandbox: the system calls no solution needs and that
only widen the kernel's attack surface fail with EPERM.

Denied: new namespaces (``unshare``, ``setns``, ``clone`` with ``CLONE_NEWUSER``
or another namespace flag), mounts and the new mount API, ``chroot``/``pivot_root``,
``ptrace``, kernel keyrings, BPF, perf events, userfaultfd, io_uring, kernel
modules, kexec, reboot, swap, accounting and handle-based opens; and sockets of any
family but Unix, IPv4 and IPv6 (``socket``/``socketpair`` fail with EAFNOSUPPORT, as
on a kernel without that family: no vsock to the hypervisor, no netlink, packet,
crypto API, Bluetooth …; the network namespace has no route anyway). ``clone3`` fails
with ENOSYS (its flags sit in memory a filter can't read), so the C library falls
back to ``clone``, whose flags are checked. Calls of another architecture or ABI
(x32) are denied too.

The filter is a classic BPF program (``struct sock_filter``), built here for
x86_64 only; on other machines :func:`deny_filter` returns None and the sandbox
runs without this layer (namespaces, resource limits and privilege drop still
apply). bubblewrap installs it with ``--seccomp FD`` just before it runs the
harness.
"""
from __future__ import annotations

import errno
import platform
import struct
from typing import List, Optional, Tuple

AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000
#: Namespace flags of clone(): CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME.
CLONE_NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 \
    | 0x00000080

#: x86_64 numbers of the denied calls.
DENIED_X86_64 = {
    "unshare": 272, "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161,
    "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "keyctl": 250, "add_key": 248,
    "request_key": 249, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323, "io_uring_setup": 425,
    "io_uring_enter": 426, "io_uring_register": 427, "init_module": 175, "finit_module": 313,
    "delete_module": 176, "kexec_load": 246, "kexec_file_load": 320, "reboot": 169, "swapon": 167,
    "swapoff": 168, "acct": 163, "open_by_handle_at": 304, "name_to_handle_at": 303, "open_tree": 428,
    "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442,
}
CLONE_X86_64 = 56
CLONE3_X86_64 = 435
SOCKET_X86_64, SOCKETPAIR_X86_64 = 41, 53
#: The socket families a solution may open: AF_UNIX (multiprocessing, asyncio), AF_INET, AF_INET6.
SOCKET_FAMILIES = (1, 2, 10)

# classic BPF opcodes
_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_JSET_K = 0x45  # BPF_JMP | BPF_JSET | BPF_K
_RET_K = 0x06  # BPF_RET | BPF_K
# seccomp return values and struct seccomp_data offsets
_ALLOW = 0x7FFF0000
_KILL_PROCESS = 0x80000000
_ERRNO = 0x00050000
_NR, _ARCH, _ARG0_LOW = 0, 4, 16


def _op(code: int, k: int, jt: int = 0, jf: int = 0) -> Tuple[int, int, int, int]:
    return code, jt, jf, k


def _families(number: int, allowed: Tuple[int, ...]) -> List[Tuple[int, int, int, int]]:
    """Instructions letting system call ``number`` through only for the ``allowed``
    socket families (its first argument); other calls skip them."""
    count = len(allowed)
    block = [_op(_JEQ_K, number, jf=count + 3), _op(_LD_W_ABS, _ARG0_LOW)]
    for i, family in enumerate(allowed):  # jt: past the rest and the error, onto the allow
        block.append(_op(_JEQ_K, family, jt=count - i))
    return block + [_op(_RET_K, _ERRNO | errno.EAFNOSUPPORT), _op(_RET_K, _ALLOW)]


def _program(arch: int, denied: List[int], clone: int, clone3: int,
             sockets: Tuple[Tuple[int, Tuple[int, ...]], ...] = ()) -> List[Tuple[int, int, int, int]]:
    """The instructions: check the architecture and ABI, then each denied number, the
    socket families of ``sockets`` ((call, allowed families) pairs), clone's flags."""
    eperm, enosys = _ERRNO | errno.EPERM, _ERRNO | errno.ENOSYS
    head = [
        _op(_LD_W_ABS, _ARCH),
        _op(_JEQ_K, arch, jt=1),  # the expected architecture: skip the kill
        _op(_RET_K, _KILL_PROCESS),
        _op(_LD_W_ABS, _NR),
        _op(_JGE_K, X32_SYSCALL_BIT, jf=1),  # the x32 ABI: deny
        _op(_RET_K, eperm),
    ]
    body = []
    for number in denied:  # jt=0: fall into the EPERM return just after; jf=1: skip it
        body += [_op(_JEQ_K, number, jf=1), _op(_RET_K, eperm)]
    body += [_op(_JEQ_K, clone3, jf=1), _op(_RET_K, enosys)]
    for number, allowed in sockets:
        body += _families(number, allowed)
    body += [
        _op(_JEQ_K, clone, jf=3),
        _op(_LD_W_ABS, _ARG0_LOW),  # clone's flags (the low 32 bits hold every namespace flag)
        _op(_JSET_K, CLONE_NAMESPACES, jf=1),
        _op(_RET_K, eperm),
        _op(_RET_K, _ALLOW),
    ]
    return head + body


def deny_filter() -> Optional[bytes]:
    """The filter as bubblewrap's ``--seccomp`` reads it, or None off x86_64."""
    if platform.machine() not in ("x86_64", "AMD64"):
        return None
    sockets = ((SOCKET_X86_64, SOCKET_FAMILIES), (SOCKETPAIR_X86_64, (1,)))
    program = _program(AUDIT_ARCH_X86_64, sorted(DENIED_X86_64.values()), CLONE_X86_64, CLONE3_X86_64, sockets)
    return b"".join(struct.pack("<HBBI", *instruction) for instruction in program)
