"""HumanEval's and MBPP's reference solutions as the sandbox runs them, and mutants
of them, read from the real files in ``../shared/data`` through the ingest presets
(exactly as a user's source loads them). Used by the sandbox tests and by
``benchmarks/code_references.py``."""
from __future__ import annotations

import ast
import json
import os
from typing import Iterator, List, NamedTuple, Optional

from transforms.core.ids import stable_hash
from transforms.ingest.config import SourceConfig
from transforms.ingest.presets import to_problem
from transforms.verify.sandbox.suites import CodeTests, parse_tests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data")
SETS = {"humaneval": "humaneval/HumanEval.jsonl", "mbpp": "mbpp/sanitized-mbpp.jsonl"}


class Reference(NamedTuple):
    task_id: str
    code: str  # the reference solution as a response would give it
    suite: CodeTests  # the problem's tests, from the preset's ``tests`` JSON
    tests_json: str


def references(name: str) -> Iterator[Reference]:
    """Every problem of the set, through its preset, with its reference solution."""
    source = SourceConfig(name=name, path=SETS[name], preset=name)
    with open(os.path.join(DATA, SETS[name]), encoding="utf-8") as fh:
        for line, text in enumerate(fh, start=1):
            row = json.loads(text)
            problem = to_problem(row, source, SETS[name], line, 1, "test")
            assert problem.tests is not None
            code = row["canonical_solution"] if name == "humaneval" else row["code"]
            yield Reference(problem.source_id, code, parse_tests(problem.tests), problem.tests)


def chosen(name: str, count: int) -> List[Reference]:
    """``count`` problems of the set chosen by a hash of their id (the same every run)."""
    return sorted(references(name), key=lambda r: stable_hash("code-references", r.task_id))[:count]


_MUTATE = '''

def __mutant__(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, str):
        return value + "?"
    if isinstance(value, (list, tuple)):
        return type(value)(list(value)[1:] if value else [0])
    if isinstance(value, (set, frozenset, dict)):
        return type(value)() if value else type(value)({0: 0} if isinstance(value, dict) else {0})
    return 0 if value is None else None
'''


class _Returns(ast.NodeTransformer):
    def __init__(self):
        self.changed = 0

    def visit_Return(self, node):
        self.changed += 1
        value = node.value or ast.Constant(value=None)
        node.value = ast.Call(func=ast.Name(id="__mutant__", ctx=ast.Load()), args=[value], keywords=[])
        return node


class _FirstOperator(ast.NodeTransformer):
    SWAP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Add, ast.Lt: ast.GtE, ast.Gt: ast.LtE,
            ast.LtE: ast.Gt, ast.GtE: ast.Lt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}

    def __init__(self):
        self.changed = 0

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if not self.changed and type(node.op) in self.SWAP:
            node.op = self.SWAP[type(node.op)]()
            self.changed = 1
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        if not self.changed and type(node.ops[0]) in self.SWAP:
            node.ops = [self.SWAP[type(node.ops[0])]()] + node.ops[1:]
            self.changed = 1
        return node


def mutant(ref: Reference, how: str = "return") -> Optional[str]:
    """The reference with every return value changed (``return``) or its first
    arithmetic or comparison operator swapped (``operator``), as a whole program
    (the suite's prefix included, so the suite is run without it); None when there
    is nothing to change."""
    program = f"{ref.suite.prefix}\n{ref.code}" if ref.suite.prefix else ref.code
    tree = ast.parse(program)
    changer = _Returns() if how == "return" else _FirstOperator()
    tree = changer.visit(tree)
    if not changer.changed:
        return None
    return ast.unparse(ast.fix_missing_locations(tree)) + (_MUTATE if how == "return" else "")


# -- answers a scripted teacher gives: code that really runs, or a mutant of it ----------

THINKING = ("Let me read the task carefully and work out what the function has to return.\n\n"
            "I will write the function step by step, then check it against the example in the task.")


def scripted_answer(ref: Reference, seed: int) -> str:
    """A completion for ``ref``'s problem: its reference solution (even seeds) or a
    mutant of it (odd seeds), in a ```python block after the thinking."""
    code = mutant(ref, "return") if seed % 2 else None
    if code is None:
        code = f"{ref.suite.prefix}\n{ref.code}" if ref.suite.prefix else ref.code
    return f"<think>\n{THINKING}\n</think>\n\nHere is the solution.\n\n```python\n{code.strip()}\n```\n"


def first_problems(name: str, count: int) -> dict:
    """The first ``count`` problems of a set: {the prompt the teacher is shown: Reference}."""
    source = SourceConfig(name=name, path=SETS[name], preset=name)
    out = {}
    with open(os.path.join(DATA, SETS[name]), encoding="utf-8") as fh:
        for (line, text), ref in zip(enumerate(fh, start=1), references(name)):
            if line > count:
                break
            out[to_problem(json.loads(text), source, SETS[name], line, 1, "test").prompt] = ref
    return out
