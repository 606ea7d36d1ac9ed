"""The first code that runs inside the code sandbox (see transforms/verify/sandbox/runner.py).

Trusted, standard library only. In order, before any untrusted code runs:

1. read the task (a JSON document on an inherited file descriptor): the solution's
   source, the mode (``stdin``, ``call`` or ``suite``), the calls or the test
   sources, the limits and the user id;
2. set the resource limits (soft = hard, so the solution can't raise them) and
   a lower CPU priority;
3. drop to the given unprivileged user when started as root (the parent runs
   bubblewrap as root; the process limit only binds a non-root user);
4. say ``ready`` on the result descriptor (without it the parent knows the sandbox
   itself failed, and reports infra_unavailable);
5. run the solution: as ``__main__`` reading stdin (``stdin`` mode), or import it and
   call the named function on each argument list (``call`` mode), writing one JSON
   line per call ``{"i": n, "value": ...}`` or ``{"i": n, "error": "..."}``; or
   (``suite`` mode: assert-style and ``check(candidate)``-style tests, whose expected
   values are in the test code) run the setup source (the tests' imports), then the
   solution, then each test source in the solution's namespace, writing
   ``{"i": n, "passed": true}`` or ``{"i": n, "error": "..."}`` per test, every
   failure (``SystemExit`` included) caught. ``__strict_eq__`` (what the parent
   rewrote each ``assert a == b`` of the tests into) compares plain values
   (numbers, strings, bytes, None and containers of them; subclasses of those made
   the builtin first) with ``==`` and anything else only with a value of its own
   type, so an object that claims to equal everything doesn't pass an assert.

In ``stdin`` and ``call`` mode nothing here decides a verdict: the parent compares the
outputs with the expected ones, which never enter the sandbox. In ``suite`` mode the
tests' own asserts decide, inside the sandbox, in the solution's process: a solution
written to forge the result channel could fake a pass (see suites.py).
"""
import json
import os
import resource
import sys
import types

HARNESS_FAILED = 125


def apply_limits(limits: dict, nice: int) -> None:
    """Resource limits (soft = hard) and a lower CPU priority than the parent's, so the
    parent's wall clock keeps ticking even when the solution saturates every core."""
    for name, value in limits.items():
        resource.setrlimit(getattr(resource, name), (value, value))
    os.nice(nice)


def drop_identity(uid: int) -> None:
    """Become ``uid`` (groups cleared) if root; refuse to go on as root."""
    if os.getuid() == 0 or os.geteuid() == 0:
        if not uid:
            os._exit(HARNESS_FAILED)
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    if os.getuid() == 0 or os.geteuid() == 0 or os.getgid() == 0:
        os._exit(HARNESS_FAILED)


def write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]


def new_module(name: str) -> types.ModuleType:
    """An empty module registered as ``name`` (so pickling by reference, as
    multiprocessing does, finds the solution's functions)."""
    module = types.ModuleType(name)
    module.__file__ = "solution.py"
    sys.modules[name] = module
    return module


def run_script(code) -> None:
    sys.argv = ["solution.py"]
    exec(code, new_module("__main__").__dict__)


def find_function(namespace: dict, fn_name: str):
    """``fn_name`` at module level, or as a method of a ``Solution`` class (LeetCode style)."""
    if callable(namespace.get(fn_name)):
        return namespace[fn_name]
    holder = namespace.get("Solution")
    if isinstance(holder, type) and callable(getattr(holder, fn_name, None)):
        return getattr(holder(), fn_name)
    raise LookupError(f"no function {fn_name!r} in the solution")


def run_calls(code, fn_name: str, calls: list, result_fd: int) -> None:
    dumps, write = json.dumps, write_all  # bound before the solution can patch modules
    namespace = new_module("solution").__dict__
    exec(code, namespace)
    function = find_function(namespace, fn_name)
    for i, args in enumerate(calls):
        try:
            value = function(**args) if isinstance(args, dict) else function(*args)
            line = dumps({"i": i, "value": value})
        except Exception as exc:  # the call failed, or its value isn't JSON
            line = dumps({"i": i, "error": type(exc).__name__})
        write(result_fd, line.encode("utf-8") + b"\n")


_SCALARS = (bool, int, float, complex, str, bytes, type(None))
_SCALAR_BASES: tuple = (bool, int, float, complex, str, bytes)
_CONTAINERS: tuple = (list, tuple, set, frozenset)


def plain(value, depth: int = 0) -> bool:
    """A number, string, bytes, None, or a list/tuple/set/dict of them (exact types)."""
    kind = type(value)
    if kind in _SCALARS:
        return True
    if depth > 50:
        return False
    if kind in _CONTAINERS:
        return all(plain(item, depth + 1) for item in value)
    if kind is dict:
        return all(plain(k, depth + 1) and plain(v, depth + 1) for k, v in value.items())
    return False


def plainify(value, depth: int = 0):
    """A value with every subclass of a builtin (``collections.Counter``, a named
    tuple, a ``str`` subclass) made that builtin, recursively; anything else as is."""
    if depth > 50 or type(value) in _SCALARS:
        return value
    for scalar in _SCALAR_BASES:
        if isinstance(value, scalar):
            return scalar(value)
    if isinstance(value, dict):
        return {plainify(k, depth + 1): plainify(v, depth + 1) for k, v in dict.items(value)}
    for container in _CONTAINERS:
        if isinstance(value, container):
            return container(plainify(item, depth + 1) for item in container.__iter__(value))
    return value


def strict_eq(left, right) -> bool:
    """``left == right`` once both are made plain (:func:`plainify`); values that are
    not plain then only against their own type."""
    plain_left, plain_right = plainify(left), plainify(right)
    if plain(plain_left) and plain(plain_right):
        return bool(plain_left == plain_right)
    return type(left) is type(right) and bool(left == right)


def run_suite(code, setup: str, tests: list, result_fd: int) -> None:
    dumps, write, equal = json.dumps, write_all, strict_eq  # bound before the solution runs
    compiled = [compile(test, f"test_{i}.py", "exec") for i, test in enumerate(tests)]
    namespace = new_module("__main__").__dict__
    if setup:
        exec(compile(setup, "setup.py", "exec"), namespace)
    exec(code, namespace)
    for i, test in enumerate(compiled):
        namespace["__strict_eq__"] = equal
        try:
            exec(test, namespace)
            line = dumps({"i": i, "passed": True})
        except BaseException as exc:  # noqa: B036 - a failed assert, an error, an exit: this test failed
            line = dumps({"i": i, "error": type(exc).__name__})
        write(result_fd, line.encode("utf-8") + b"\n")


def main() -> None:
    task_fd, result_fd = int(sys.argv[1]), int(sys.argv[2])
    with os.fdopen(task_fd, "rb") as fh:
        task = json.loads(fh.read())
    apply_limits(task["limits"], task["nice"])
    drop_identity(task["uid"])
    write_all(result_fd, b'"ready"\n')
    code = compile(task["source"], "solution.py", "exec")
    if task["mode"] == "call":
        run_calls(code, task["fn_name"], task["calls"], result_fd)
    elif task["mode"] == "suite":
        run_suite(code, task["setup"], task["tests"], result_fd)
    else:
        os.close(result_fd)
        run_script(code)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
