"""A small exact evaluator, written here independently of the generators, that the
arithmetic and linear-equation tests recompute answers with."""
import ast
from fractions import Fraction


def exact_value(text: str, x: Fraction = None) -> Fraction:
    """Exact value of an arithmetic text (+ - * /, unary minus, parentheses, variable x)."""

    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return Fraction(node.value)
        if isinstance(node, ast.Name) and node.id == "x" and x is not None:
            return x
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if isinstance(node, ast.BinOp):
            ops = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
                   ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b}
            return ops[type(node.op)](walk(node.left), walk(node.right))
        raise AssertionError(f"unexpected node {ast.dump(node)} in {text!r}")

    return walk(ast.parse(text, mode="eval"))
