"""Tests of the procedural problem generators and the countdown checker.

Answers are recomputed here independently of the generators: arithmetic and
linear equations by a small exact evaluator written in this file (equations by
substituting the gold root with Fraction), countdown by check_countdown on the
stored solution, unit rates by the formula named in the metadata.
"""
import ast
import json
import random
import re
from fractions import Fraction

import pytest

from transforms.core import derive_seed
from transforms.ingest.generators import (
    GENERATORS,
    MAX_EXPRESSION_CHARS,
    _COUNTDOWN_LEVELS,
    check_countdown,
    format_number,
    generate_problems,
)

NAMES = ["arithmetic", "linear_equation", "countdown", "unit_rate"]
ANSWER_FORMAT = re.compile(r"-?[0-9]+(/[0-9]+)?")


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


def explicit_products(equation_side: str) -> str:
    """``3x`` → ``3*x``, ``4(x`` → ``4*(x`` so Python can parse a side of an equation."""
    return re.sub(r"([0-9])\s*(x|\()", r"\1*\2", equation_side)


# -- the API contract ----------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_problem_shape_and_json_metadata(name):
    problems = generate_problems(name, 12, seed=5, difficulties=[1, 2, 3])
    assert [p["id"] for p in problems] == [f"{name}-{i}" for i in range(12)]
    assert [p["difficulty"] for p in problems] == ["1", "2", "3"] * 4
    for problem in problems:
        assert set(problem) == {"id", "prompt", "answer", "difficulty", "metadata"}
        assert problem["prompt"].strip() and ANSWER_FORMAT.fullmatch(problem["answer"])
        assert json.loads(json.dumps(problem["metadata"])) == problem["metadata"]


@pytest.mark.parametrize("name", NAMES)
def test_problem_i_is_drawn_from_its_own_derived_seed(name):
    first = generate_problems(name, 1, seed=11, difficulties=[2])[0]
    rng = random.Random(derive_seed(11, name, 0))
    assert GENERATORS[name](0, rng, 2) == first


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_problems_other_seed_others(name):
    first = generate_problems(name, 30, seed=1, difficulties=[1, 2, 3])
    assert generate_problems(name, 30, seed=1, difficulties=[1, 2, 3]) == first
    other = generate_problems(name, 30, seed=2, difficulties=[1, 2, 3])
    assert [p["prompt"] for p in other] != [p["prompt"] for p in first]


@pytest.mark.parametrize("name", NAMES)
def test_more_problems_keep_the_earlier_ones(name):
    short = generate_problems(name, 10, seed=3, difficulties=[1, 3])
    long = generate_problems(name, 20, seed=3, difficulties=[1, 3])
    assert long[:10] == short


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("levels", [[1], [1, 2, 3]])
def test_prompts_are_distinct(name, levels):
    problems = generate_problems(name, 500, seed=0, difficulties=levels)
    assert len({p["prompt"] for p in problems}) == 500


def test_collisions_are_redrawn_deterministically():
    # 3000 level-1 sums/differences collide often (~15k possible): all must be redrawn.
    problems = generate_problems("arithmetic", 3000, seed=9, difficulties=[1])
    assert len({p["prompt"] for p in problems}) == 3000
    assert generate_problems("arithmetic", 3000, seed=9, difficulties=[1]) == problems


def test_exhausted_generator_raises(monkeypatch):
    def constant(index, rng, difficulty):
        return {"id": f"arithmetic-{index}", "prompt": "What is 1 + 1?", "answer": "2",
                "difficulty": str(difficulty), "metadata": {}}

    monkeypatch.setitem(GENERATORS, "arithmetic", constant)
    assert len(generate_problems("arithmetic", 1, seed=0, difficulties=[1])) == 1
    with pytest.raises(ValueError, match="no new prompt"):
        generate_problems("arithmetic", 2, seed=0, difficulties=[1])


def test_unknown_generator_lists_valid_names():
    with pytest.raises(ValueError) as error:
        generate_problems("calculus", 3, seed=0, difficulties=[1])
    for name in NAMES:
        assert name in str(error.value)


@pytest.mark.parametrize("name, count, levels", [
    ("arithmetic", -1, [1]), ("arithmetic", 3, []), ("countdown", 3, [0]), ("arithmetic", 3, [-1]),
    ("arithmetic", 3, [1, 4]), ("arithmetic", 3, ["2"]),
])
def test_bad_count_or_difficulties_raise(name, count, levels):
    with pytest.raises(ValueError):
        generate_problems(name, count, seed=0, difficulties=levels)


def test_arithmetic_level_zero_is_single_digit_sums_and_differences():
    problems = generate_problems("arithmetic", 60, seed=4, difficulties=[0])
    assert len({p["prompt"] for p in problems}) == 60
    for problem in problems:
        a, op, b = re.fullmatch(r"What is (\d) ([+-]) (\d)\?", problem["prompt"]).groups()
        assert int(problem["answer"]) == (int(a) + int(b) if op == "+" else int(a) - int(b)) >= 0
        assert problem["difficulty"] == "0"


def test_zero_count_gives_no_problems():
    assert generate_problems("countdown", 0, seed=0, difficulties=[1]) == []


@pytest.mark.parametrize("value, text", [
    (Fraction(5), "5"), (Fraction(-4), "-4"), (Fraction(14, 6), "7/3"),
    (Fraction(7, -3), "-7/3"), (0, "0"),
])
def test_format_number(value, text):
    assert format_number(value) == text


# -- answers are right ---------------------------------------------------------

@pytest.mark.parametrize("level", [1, 2, 3])
def test_arithmetic_answers(level):
    for problem in generate_problems("arithmetic", 300, seed=4, difficulties=[level]):
        expression = problem["metadata"]["expression"]
        assert problem["prompt"] == f"What is {expression}?"
        value = exact_value(expression)
        assert value.denominator == 1 and problem["answer"] == str(value.numerator)


def test_arithmetic_level1_is_trivial():
    for problem in generate_problems("arithmetic", 300, seed=4, difficulties=[1]):
        match = re.fullmatch(r"What is ([0-9]{1,2}) ([+-]) ([0-9]{1,2})\?", problem["prompt"])
        assert match, problem["prompt"]
        assert int(problem["answer"]) >= 0


def test_arithmetic_levels_grow():
    def operators(level):
        problems = generate_problems("arithmetic", 200, seed=4, difficulties=[level])
        return {op for p in problems for op in "*/()" if op in p["prompt"]}

    assert operators(1) == set()
    assert operators(2) == {"*"}
    assert operators(3) == set("*/()")


@pytest.mark.parametrize("level", [1, 2, 3])
def test_linear_equation_root_satisfies_equation(level):
    for problem in generate_problems("linear_equation", 300, seed=6, difficulties=[level]):
        equation = problem["metadata"]["equation"]
        assert problem["prompt"] == f"Solve for x: {equation}."
        root = Fraction(problem["answer"])
        assert format_number(root) == problem["answer"]  # reduced
        left, right = (explicit_products(side) for side in equation.split(" = "))
        assert exact_value(left, root) == exact_value(right, root)
        assert exact_value(left, root + 1) != exact_value(right, root + 1)


def test_linear_equation_levels():
    answers = {level: [p["answer"] for p in generate_problems(
        "linear_equation", 200, seed=6, difficulties=[level])] for level in (1, 2, 3)}
    assert all("/" not in answer for answer in answers[1])
    assert any("/" in answer for answer in answers[2] + answers[3])
    level3 = generate_problems("linear_equation", 50, seed=6, difficulties=[3])
    assert all("(" in p["prompt"] for p in level3)


@pytest.mark.parametrize("level, sizes", [(1, {3}), (2, {4}), (3, {5, 6})])
def test_countdown_solutions_are_valid(level, sizes):
    seen_sizes = set()
    for problem in generate_problems("countdown", 300, seed=8, difficulties=[level]):
        meta = problem["metadata"]
        assert meta["verifier"] == "countdown"
        assert problem["answer"] == str(meta["target"])
        assert check_countdown(meta["solution"], meta["numbers"], meta["target"]) == (True, "ok")
        assert meta["target"] not in meta["numbers"]
        assert f"numbers {meta['numbers']}," in problem["prompt"]
        assert f"equals {meta['target']}." in problem["prompt"]
        seen_sizes.add(len(meta["numbers"]))
    assert seen_sizes == sizes


def test_countdown_levels_always_have_a_qualifying_target():
    # countdown() redraws until the target fits; the all-"+" fold must always fit.
    for sizes, largest, max_target, _ in _COUNTDOWN_LEVELS.values():
        assert max(sizes) * largest <= max_target


def unit_rate_formula(meta: dict) -> Fraction:
    kind = meta["kind"]
    if kind == "scale":
        return Fraction(meta["t1"], meta["q1"]) * meta["q2"]
    if kind == "reverse":
        return meta["t2"] / Fraction(meta["t1"], meta["q1"])
    if kind == "inverse":
        return Fraction(meta["a1"] * meta["b1"], meta["a2"])
    assert kind == "joint"
    return Fraction(meta["t1"], meta["a1"] * meta["b1"]) * meta["a2"] * meta["b2"]


@pytest.mark.parametrize("level, kinds", [
    (1, {"scale"}), (2, {"reverse", "inverse"}), (3, {"joint"}),
])
def test_unit_rate_answers(level, kinds):
    seen_kinds = set()
    for problem in generate_problems("unit_rate", 300, seed=10, difficulties=[level]):
        meta = problem["metadata"]
        value = unit_rate_formula(meta)
        assert value.denominator == 1 and problem["answer"] == str(value.numerator)
        numbers_in_prompt = sorted(int(n) for n in re.findall(r"[0-9]+", problem["prompt"]))
        given = sorted(v for k, v in meta.items() if k != "kind")
        assert numbers_in_prompt == given, problem["prompt"]
        seen_kinds.add(meta["kind"])
    assert seen_kinds == kinds


def test_unit_rate_uses_varied_templates():
    problems = generate_problems("unit_rate", 200, seed=10, difficulties=[1, 2, 3])
    prompts = [p["prompt"] for p in problems]
    for word in ("km", "$", "grams", "pages", "liters", "workers"):
        assert any(word in prompt for prompt in prompts), word


# -- check_countdown -----------------------------------------------------------

NUMBERS = [25, 3, 7, 7]


@pytest.mark.parametrize("expression, target", [
    ("25 + 3 * 7", 46),
    ("(25 - 7) / 3", 6),
    ("(25 + 3 / 7) * 7", 178),  # exact through a fractional intermediate
    ("7 * 7 - 25 + 3", 27),
    ("  (7+7) * 3 - 25 ", 17),
    ("25 × 7 ÷ 7", 25),
    ("25 \\times 3 - 7", 68),
    ("25 + 3 * 7 = 46", 46),
    ("46 = 25 + 3 * 7", 46),
    ("25", 25),
])
def test_check_countdown_accepts(expression, target):
    assert check_countdown(expression, NUMBERS, target) == (True, "ok")


@pytest.mark.parametrize("expression, target, code", [
    ("25 + 3 * 7", 47, "wrong_result"),
    ("25 + 3 * 7 = 47", 46, "wrong_result"),
    ("25 / 3", 8, "wrong_result"),  # no integer division
    ("25 + 25", 50, "number_reused"),
    ("7 * 7 * 7", 343, "number_reused"),
    ("25 + 4", 29, "unknown_number"),
    ("__import__('os')", 0, "not_allowed"),
    ("__import__('os').system('true')", 0, "not_allowed"),
    ("2**99999", 0, "not_allowed"),
    ("25 ** 3", 15625, "not_allowed"),
    ("x + 3", 3, "not_allowed"),
    ("(25).real + 3", 28, "not_allowed"),
    ("-3 + 25", 22, "not_allowed"),
    ("25 // 3", 8, "not_allowed"),
    ("25 % 7", 4, "not_allowed"),
    ("3.0 + 25", 28, "not_allowed"),
    ("True + 25", 26, "not_allowed"),
    ("[25][0]", 25, "not_allowed"),
    ("lambda: 25", 25, "not_allowed"),
    ("25 / (7 - 7)", 0, "division_by_zero"),
    ("25 +", 25, "syntax_error"),
    ("25 == 25", 25, "syntax_error"),
    ("a = 25", 25, "not_allowed"),
    ("25 = 3 + 7", 10, "wrong_result"),
    ("25 + 3 = 7 + 7", 28, "syntax_error"),
    ("", 25, "empty"),
    ("   ", 25, "empty"),
    ("+".join(["7"] * 200), 1400, "too_long"),
    ("(" * 150 + "25" + ")" * 150, 25, "too_long"),
])
def test_check_countdown_rejects(expression, target, code):
    ok, reason = check_countdown(expression, NUMBERS, target)
    assert not ok
    assert reason.split(":")[0] == code, reason


def test_check_countdown_limits_are_just_above_real_answers():
    deep = "(" * 100 + "25" + ")" * 100
    assert len(deep) <= MAX_EXPRESSION_CHARS
    assert check_countdown(deep, NUMBERS, 25) == (True, "ok")
    assert check_countdown(None, NUMBERS, 25)[0] is False


def test_check_countdown_never_runs_code(tmp_path):
    marker = tmp_path / "ran"
    expression = f"open({str(marker)!r}, 'w').write('x')"
    assert check_countdown(expression, NUMBERS, 1)[0] is False
    assert not marker.exists()
