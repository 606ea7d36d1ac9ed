"""Assert-style and ``check(candidate)``-style test suites (MBPP's ``test_list``,
HumanEval's ``test``): the test sources as the sandbox's ``suite`` mode runs them.

The tests come from the dataset, never from a model; they are parsed here (``ast``,
never evaluated) so that each ``assert a == b`` becomes ``assert __strict_eq__(a, b)``:
the harness's comparison, which an object claiming to equal anything does not pass
(:func:`transforms.verify.sandbox.harness.strict_eq`). A test that does not parse is
sent as written (the run then fails it with its ``SyntaxError``)."""
from __future__ import annotations

import ast
from typing import List

STRICT_EQ = "__strict_eq__"


class _StrictAsserts(ast.NodeTransformer):
    def visit_Assert(self, node: ast.Assert):
        test = node.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
            call = ast.Call(func=ast.Name(id=STRICT_EQ, ctx=ast.Load()),
                            args=[test.left, test.comparators[0]], keywords=[])
            node.test = ast.copy_location(call, test)
        self.generic_visit(node)
        return node


def strict_asserts(source: str) -> str:
    """``source`` with every ``assert a == b`` turned into ``assert __strict_eq__(a, b)``."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return source
    try:
        return ast.unparse(ast.fix_missing_locations(_StrictAsserts().visit(tree)))
    except (ValueError, RecursionError):
        return source


def check_suite(check_source: str, entry_point: str) -> List[str]:
    """HumanEval's test: its source (defining ``check``) and a call of
    ``check(<entry point>)``, as one test."""
    if not entry_point.isidentifier():
        raise ValueError(f"tests: entry_point {entry_point!r} is not a Python name")
    return [strict_asserts(check_source) + f"\n\ncheck({entry_point})\n"]


def assert_suite(asserts: List[str]) -> List[str]:
    """MBPP's ``test_list``: one test per assert statement."""
    return [strict_asserts(test) for test in asserts]
