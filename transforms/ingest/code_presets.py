"""Code problems' layouts: the prompt and the tests (as the JSON spec the sandbox
reads, :mod:`transforms.verify.sandbox.suites`) of one record of each code preset.

==================  ==========================================================================
preset              fields → prompt, tests
==================  ==========================================================================
``humaneval``       ``prompt`` (a signature and docstring); ``test`` defining ``check(candidate)``
                    and ``entry_point`` → ``{"check", "entry_point", "prefix": prompt}``
``mbpp``            ``prompt`` (sanitized) or ``text`` (full), with the first of ``test_list``
                    shown (it names the function); ``test_list`` asserts, ``test_imports``
                    (and full MBPP's ``test_setup_code``) → ``{"asserts", "setup"}``
``apps``, ``taco``  ``question`` (+ ``starter_code``); ``input_output`` JSON
                    (``inputs``/``outputs``, ``fn_name`` for call-based problems), as is
``livecodebench``   ``question_content`` (+ ``starter_code``); ``public_test_cases`` and
                    ``private_test_cases`` (JSON, or LiveCodeBench's base64 zlib pickle of
                    that JSON, read without unpickling any object), ``func_name`` from
                    ``metadata`` → ``{"tests": [...], "fn_name"}``
``codecontests``    ``description``; ``public_tests``, ``private_tests``, ``generated_tests``
                    (``{"input": [...], "output": [...]}``) → ``{"inputs", "outputs"}``
==================  ==========================================================================

Each raises ``BadRecord`` (from :mod:`transforms.ingest.presets`, passed in) for a
record it can't use."""
from __future__ import annotations

import base64
import io
import json
import pickletools
import zlib
from typing import Any, Callable, Dict, Optional, Tuple

#: Largest decompressed LiveCodeBench test-case field read.
MAX_TESTS_BYTES = 64 << 20
#: Fields each code preset reads (besides the prompt): kept out of the metadata.
CODE_FIELDS: Dict[str, Tuple[str, ...]] = {
    "humaneval": ("test", "entry_point"),
    "mbpp": ("test_list", "test_imports", "test_setup_code", "challenge_test_list"),
    "apps": ("input_output", "starter_code"),
    "taco": ("input_output", "starter_code"),
    "livecodebench": ("public_test_cases", "private_test_cases", "starter_code"),
    "codecontests": ("public_tests", "private_tests", "generated_tests"),
}
#: Prompt and id candidates of each code preset.
CODE_PRESET_FIELDS: Dict[str, Dict[str, Tuple[str, ...]]] = {
    "humaneval": {"prompt": ("prompt",), "id": ("task_id",)},
    "mbpp": {"prompt": ("prompt", "text"), "id": ("task_id",)},
    "apps": {"prompt": ("question",), "id": ("problem_id", "id"), "difficulty": ("difficulty",)},
    "taco": {"prompt": ("question",), "id": ("problem_id", "id"), "difficulty": ("difficulty",)},
    "livecodebench": {"prompt": ("question_content",), "id": ("question_id",), "difficulty": ("difficulty",)},
    "codecontests": {"prompt": ("description",), "id": ("name",), "difficulty": ("difficulty",)},
}


def _text_field(record: dict, name: str, bad, required: bool = True) -> Optional[str]:
    value = record.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise bad(name, "missing_field", "no tests")
        return None
    if not isinstance(value, str):
        raise bad(name, "wrong_type", f"expected a string, got {type(value).__name__}")
    return value


def _str_list(record: dict, name: str, bad) -> list:
    value = record.get(name)
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad(name, "wrong_type", "expected a list of strings")
    return value


def _with_starter(prompt: str, record: dict) -> str:
    starter = record.get("starter_code")
    if isinstance(starter, str) and starter.strip():
        return f"{prompt}\n\nStart from this code:\n```python\n{starter.rstrip()}\n```"
    return prompt


def _humaneval(record: dict, prompt: str, bad) -> Tuple[str, Any]:
    test = _text_field(record, "test", bad)
    entry = _text_field(record, "entry_point", bad)
    assert test is not None and entry is not None
    if not entry.strip().isidentifier():
        raise bad("entry_point", "bad_value", f"{entry!r} is not a Python name")
    return prompt, {"check": test, "entry_point": entry.strip(), "prefix": prompt}


def _mbpp(record: dict, prompt: str, bad) -> Tuple[str, Any]:
    asserts = _str_list(record, "test_list", bad)
    if not asserts:
        raise bad("test_list", "missing_field", "no tests")
    setup = "\n".join(_str_list(record, "test_imports", bad))
    extra = record.get("test_setup_code")
    if isinstance(extra, str) and extra.strip():
        setup = f"{setup}\n{extra}" if setup else extra
    shown = f"{prompt}\n\nYour code should pass tests like this one:\n```python\n{asserts[0]}\n```"
    return shown, {"asserts": asserts, "setup": setup}


def _apps(record: dict, prompt: str, bad) -> Tuple[str, Any]:
    text = _text_field(record, "input_output", bad)
    try:
        spec = json.loads(text or "")
    except ValueError as exc:
        raise bad("input_output", "bad_value", f"not JSON: {exc}") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("inputs"), list):
        raise bad("input_output", "bad_value", "expected {\"inputs\": [...], \"outputs\": [...]}")
    return _with_starter(prompt, record), spec


def decode_lcb_tests(text: str) -> Any:
    """LiveCodeBench test cases: JSON, or base64 of zlib of a pickle of that JSON text.

    The pickle is read with ``pickletools`` (its opcodes, never executed): only a pickled
    string is accepted."""
    text = text.strip()
    if text[:1] in ("[", "{"):
        return json.loads(text)
    inflate = zlib.decompressobj()
    raw = inflate.decompress(base64.b64decode(text, validate=True), MAX_TESTS_BYTES)
    if inflate.unconsumed_tail:
        raise ValueError(f"test cases over {MAX_TESTS_BYTES >> 20} MB decompressed")
    ops = list(pickletools.genops(io.BytesIO(raw)))
    strings = [arg for op, arg, _ in ops
               if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE") and isinstance(arg, str)]
    if any(op.name in ("GLOBAL", "STACK_GLOBAL", "REDUCE", "INST", "OBJ", "NEWOBJ", "NEWOBJ_EX", "BUILD")
           for op, _, _ in ops) or len(strings) != 1:
        raise ValueError("not a pickled JSON string")
    return json.loads(strings[0])


def _livecodebench(record: dict, prompt: str, bad) -> Tuple[str, Any]:
    tests: list = []
    for name in ("public_test_cases", "private_test_cases"):
        value = record.get(name)
        if isinstance(value, str) and value.strip():
            try:
                value = decode_lcb_tests(value)
            except (ValueError, zlib.error) as exc:
                raise bad(name, "bad_value", f"unreadable test cases: {exc}") from None
        if value is None or value == "":
            continue
        if not isinstance(value, list):
            raise bad(name, "wrong_type", "expected a list of test cases")
        tests.extend(value)
    if not tests:
        raise bad("public_test_cases|private_test_cases", "missing_field", "no tests")
    meta = record.get("metadata")
    if isinstance(meta, str):
        try:
            meta = json.loads(meta) if meta.strip() else {}
        except ValueError:
            meta = {}
    fn_name = meta.get("func_name") if isinstance(meta, dict) else None
    spec: Dict[str, Any] = {"tests": tests}
    if fn_name:
        spec["fn_name"] = fn_name
    return _with_starter(prompt, record), spec


def _codecontests(record: dict, prompt: str, bad) -> Tuple[str, Any]:
    inputs: list = []
    outputs: list = []
    for name in ("public_tests", "private_tests", "generated_tests"):
        value = record.get(name)
        if value is None:
            continue
        if not isinstance(value, dict) or not isinstance(value.get("input"), list) \
                or not isinstance(value.get("output"), list) or len(value["input"]) != len(value["output"]):
            raise bad(name, "bad_value", "expected {\"input\": [...], \"output\": [...]} of one length")
        inputs.extend(value["input"])
        outputs.extend(value["output"])
    if not inputs:
        raise bad("public_tests|private_tests|generated_tests", "missing_field", "no tests")
    return prompt, {"inputs": inputs, "outputs": outputs}


_BUILDERS: Dict[str, Callable[[dict, str, Any], Tuple[str, Any]]] = {
    "humaneval": _humaneval, "mbpp": _mbpp, "apps": _apps, "taco": _apps,
    "livecodebench": _livecodebench, "codecontests": _codecontests,
}


def code_problem(preset: str, record: dict, prompt: str, bad) -> Tuple[str, str]:
    """(the prompt shown, the tests as JSON text) of a record of a code preset;
    ``bad(field, reason, detail)`` makes the exception raised for a bad record."""
    shown, spec = _BUILDERS[preset](record, prompt, bad)
    return shown, json.dumps(spec, ensure_ascii=False, sort_keys=True)
