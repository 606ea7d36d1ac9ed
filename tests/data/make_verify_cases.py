"""Build tests/data/verify_cases.jsonl: labelled rollouts for the verifier's
precision/recall test, from real problems in ../shared/data.

Every case is a real problem with its dataset reference answer and a response in
a style real models write (R1 ``<think>`` traces, "The final answer is
$\\boxed{…}$. I hope it is correct.", GSM8K ``#### N``, "**Answer:** …", bare
"Therefore, the answer is …", truncated thinking, multiple-choice letters). The
label is known by construction, never by running the verifier:

* ``correct``: the dataset's own solution, or the reference answer itself or a
  form of it that is equal by a rule checked here (thousands separators, trailing
  ``.0``, ``\\dfrac``/``a/b``/terminating decimals for ``\\frac``, ``\\left(``
  dropped, ``\\text{}`` unwrapped, degree sign dropped, ``x = `` in front, a
  dollar sign or unit word, reordered set elements, a set-builder set written as
  its interval);
* ``incorrect``: the reference with one digit changed (cases where that could
  keep the value, such as a power of 1, are skipped), another option letter, or
  another word;
* ``no_answer``: thinking cut off before any answer, or a refusal.

Deterministic (seeded with derive_seed); run it from the project root:

    .venv/bin/python tests/data/make_verify_cases.py
"""
from __future__ import annotations

import ast
import json
import os
import random
import re
import sys
from fractions import Fraction

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from transforms.core import derive_seed, stable_hash  # noqa: E402
from transforms.text.extract import boxed_contents  # noqa: E402

DATA = os.path.join(ROOT, "..", "shared", "data")
OUT = os.path.join(ROOT, "tests", "data", "verify_cases.jsonl")
SEED = 20240917

#: Response templates: {steps} is reasoning text, {ans} the stated answer.
STYLES = {
    "boxed_plain": "{steps}\n\nThe answer is $\\boxed{{{ans}}}$.",
    "r1_think": "<think>\n{steps}\n</think>\n\nThe final answer is $\\boxed{{{ans}}}$.",
    "r1_final_answer_block": "<think>\nOkay, let me work through this.\n{steps}\nWait, let me double-check that. "
                             "Yes, it holds.\n</think>\n\n**Final Answer**\n\\[\n\\boxed{{{ans}}}\n\\]",
    "minerva": "{steps}\nFinal Answer: The final answer is ${ans}$. I hope it is correct.",
    "therefore": "{steps}\nTherefore, the answer is ${ans}$.",
    "bold_answer": "{steps}\n\n**Answer:** ${ans}$",
    "answer_colon": "{steps}\nAnswer: ${ans}$",
    "two_boxes": "<think>\n{steps}\nAt first I got $\\boxed{{{other}}}$, but that was a slip.\n</think>\n\n"
                 "So the answer is $\\boxed{{{ans}}}$.",
}
#: Plain-number answers also appear without maths delimiters.
NUMBER_STYLES = {
    "gsm8k_hashes": "{steps}\n#### {ans}",
    "prose_therefore": "{steps}\nTherefore, the answer is {ans}.",
    "smol_so": "{steps} So the answer is {ans}.",
}
GENERIC_STEPS = [
    "Let me set up the problem carefully.\nI translate the conditions into equations and solve them step by step.",
    "First, I identify what is being asked.\nThen I compute the quantities involved and simplify.",
    "We work through the given information one piece at a time, keeping track of each quantity.",
]
NO_ANSWER_TEXTS = [
    "I'm sorry, but I can't solve this problem.",
    "This problem seems to be missing some information, so I cannot determine it.",
]


def read(path):
    with open(os.path.join(DATA, path), encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def rng_for(*parts) -> random.Random:
    return random.Random(derive_seed(SEED, *parts))


# -- equal and different forms of an answer ------------------------------------------


def _int_like(text: str):
    return re.fullmatch(r"-?\d+", text) is not None


def equal_forms(gold: str) -> list:
    """Forms of ``gold`` that are equal to it by a rule checked here: (form, how)."""
    forms = []
    if _int_like(gold):
        n = int(gold)
        if abs(n) >= 1000:
            forms.append((f"{n:,}", "thousands_separator"))
        forms.append((f"{n}.0", "trailing_zero"))
        forms.append((f"x = {n}", "variable_equals"))
    frac = re.fullmatch(r"(-?)\\frac\{(\d+)\}\{(\d+)\}", gold)
    if frac:
        sign, num, den = frac.groups()
        forms.append((f"{sign}\\dfrac{{{num}}}{{{den}}}", "dfrac"))
        forms.append((f"{sign}{num}/{den}", "slash_fraction"))
        value = Fraction(int(num), int(den))
        if set(_prime_factors(value.denominator)) <= {2, 5}:
            decimal = f"{float(value):.10f}".rstrip("0").rstrip(".")
            if Fraction(decimal) == value:
                forms.append((("-" if sign else "") + decimal, "terminating_decimal"))
    if gold.startswith("\\left(") and gold.endswith("\\right)"):
        forms.append(("(" + gold[len("\\left("):-len("\\right)")].strip() + ")", "no_sizing"))
    text = re.fullmatch(r"\\text\{([^{}]+)\}", gold)
    if text:
        forms.append((text.group(1), "unwrapped_text"))
    degrees = re.fullmatch(r"(\d+)\^\\circ", gold)
    if degrees:
        forms.append((degrees.group(1), "degree_sign_dropped"))
    items = re.fullmatch(r"\\\{([^{}]+)\\\}", gold)
    if items and "|" not in gold and len(items.group(1).split(",")) > 1:
        parts = [p.strip() for p in items.group(1).split(",")]
        forms.append(("\\{" + ", ".join(reversed(parts)) + "\\}", "set_reordered"))
    return forms


def _prime_factors(n: int) -> list:
    out, p = [], 2
    while n > 1 and p * p <= n:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return out + ([n] if n > 1 else [])


def different_form(gold: str, rng: random.Random):
    """``gold`` with one digit changed (a different value), or None when that could
    keep the value (a power of 0 or 1, a digit inside a subscript or base) or there
    is no digit."""
    if _int_like(gold):
        n = int(gold)
        return str(n + rng.choice([1, 2, -1, 10]))
    if re.fullmatch(r"-?\d+\.\d+", gold):
        whole, decimals = gold.split(".")
        return f"{whole}.{int(decimals) + 1:0{len(decimals)}d}" if not decimals.startswith("9") else f"{whole}.0{decimals}"
    if re.search(r"(?<![\d.])[01]\^|_\{?\d|\\log_|\d_\d", gold):
        return None
    digits = [m.start() for m in re.finditer(r"\d", gold)]
    if not digits:
        return None
    i = digits[-1]
    return gold[:i] + str((int(gold[i]) + 1) % 10) + gold[i + 1:]


# -- cases ----------------------------------------------------------------------------


def case(source, index, style, prompt, reference, response, label, domain="math", choices=None, note=""):
    return {
        "id": stable_hash(source, index, style, label, response, length=12),
        "source": source, "style": style, "domain": domain, "prompt": _shorten(prompt),
        "reference_answer": reference, "choices": choices or [], "response": response,
        "label": label, "note": note,
    }


def _shorten(prompt: str, limit: int = 400) -> str:
    """Prompts are context only (the verifier doesn't read them): keep the file small."""
    return prompt if len(prompt) <= limit else prompt[:limit] + " …"


def render(style: str, steps: str, ans: str, other: str = "0") -> str:
    """A response in ``style``: the steps (their first 800 characters, to keep the
    file small) and the stated answer."""
    template = STYLES.get(style) or NUMBER_STYLES[style]
    return template.format(steps=steps.strip()[:800], ans=ans, other=other)


def gsm8k_cases(rows):
    out = []
    for i, row in enumerate(rows):
        rng = rng_for("gsm8k", i)
        steps = re.sub(r"<<[^>]*>>", "", row["answer"].rsplit("####", 1)[0]).strip()
        gold = row["answer"].rsplit("####", 1)[1].strip().replace(",", "")
        styles = rng.sample(sorted(NUMBER_STYLES) + ["boxed_plain", "r1_think"], 2)
        for style in styles:
            out.append(case("gsm8k", i, style, row["question"], row["answer"], render(style, steps, gold), "correct"))
        forms = [(f"\\${gold}", "dollar_sign"), (f"{gold} dollars", "unit_word"), (f"{gold}.00", "trailing_zeros")]
        if abs(int(gold)) >= 1000:
            forms.append((f"{int(gold):,}", "thousands_separator"))
        form, how = rng.choice(forms)
        out.append(case("gsm8k", i, "prose_therefore", row["question"], row["answer"],
                        f"{steps}\nTherefore, the answer is {form}.", "correct", note=how))
        wrong = different_form(gold, rng)
        style = rng.choice(sorted(NUMBER_STYLES) + ["r1_think", "minerva"])
        out.append(case("gsm8k", i, style, row["question"], row["answer"], render(style, steps, wrong), "incorrect"))
        if i % 4 == 0:
            half = "\n".join(steps.splitlines()[: max(1, len(steps.splitlines()) // 2)])
            out.append(case("gsm8k", i, "truncated_think", row["question"], row["answer"],
                            f"<think>\n{half}\nHmm, so next I need", "no_answer"))
    return out


def latex_cases(source, rows, reference_of, steps_of, prompt_of, solution_of=None):
    out = []
    for i, row in enumerate(rows):
        rng = rng_for(source, i)
        reference = reference_of(row)
        gold = _bare(reference)
        steps = steps_of(row, rng)
        if solution_of is not None:
            out.append(case(source, i, "dataset_solution", prompt_of(row), reference, solution_of(row), "correct"))
        style = rng.choice(sorted(STYLES))
        out.append(case(source, i, style, prompt_of(row), reference,
                        render(style, steps, gold, other=different_form(gold, rng) or "0"), "correct"))
        forms = equal_forms(gold)
        if forms:
            form, how = rng.choice(forms)
            style = rng.choice(["r1_think", "boxed_plain", "minerva"])
            out.append(case(source, i, style, prompt_of(row), reference, render(style, steps, form), "correct",
                            note=how))
        wrong = different_form(gold, rng)
        if wrong is not None:
            style = rng.choice(sorted(STYLES))
            out.append(case(source, i, style, prompt_of(row), reference,
                            render(style, steps, wrong, other=gold), "incorrect"))
        if i % 5 == 0:
            out.append(case(source, i, "refusal", prompt_of(row), reference, rng.choice(NO_ANSWER_TEXTS),
                            "no_answer"))
    return out


def _bare(reference: str) -> str:
    """The reference as the bare answer a model would box (no $, last box, list joined)."""
    text = reference.strip()
    if text.startswith("[") and text.endswith("]"):
        text = ", ".join(ast.literal_eval(text))
    boxed = boxed_contents(text)
    if boxed:
        text = boxed[-1]
    return re.sub(r"\$\s*,\s*\$", ", ", text).strip("$ ").strip()


def _strip_box(solution: str) -> str:
    """The steps of a dataset solution: its text before the first ``\\boxed``."""
    return solution.split("\\boxed{", 1)[0].rstrip(" $\\[(=")


def mmlu_cases(rows):
    out = []
    for i, row in enumerate(rows):
        rng = rng_for("mmlu_stem", i)
        choices = row["choices"] if isinstance(row["choices"], list) else ast.literal_eval(row["choices"])
        gold = int(row["answer"])
        letter = "ABCDEFGHIJ"[gold]
        wrong = rng.choice([c for c in "ABCDEFGHIJ"[: len(choices)] if c != letter])
        prompt = row["question"] + "\n" + "\n".join(f"({c}) {t}" for c, t in zip("ABCDEFGHIJ", choices))
        reasoning = f"Let me consider each option.\nOption ({wrong}) does not fit the question."
        correct_styles = [
            f"<think>\n{reasoning}\n</think>\n\nThe answer is ({letter}).",
            f"{reasoning}\nAnswer: {letter}",
            f"{reasoning}\n\nThe final answer is $\\boxed{{{letter}}}$.",
            f"{reasoning}\nSo the answer is: {choices[gold]}",
        ]
        out.append(case("mmlu_stem", i, "choice", prompt, str(gold), rng.choice(correct_styles), "correct",
                        choices=choices))
        out.append(case("mmlu_stem", i, "choice", prompt, str(gold),
                        f"<think>\n{reasoning}\n</think>\n\nThe answer is ({wrong}).", "incorrect", choices=choices))
    return out


def generic_steps(row, rng):
    return rng.choice(GENERIC_STEPS)


def main() -> None:
    cases = []
    cases += gsm8k_cases(read("gsm8k/test.jsonl")[:45])
    math500 = read("math500/test.jsonl")[:70]
    cases += latex_cases("math500", math500, lambda r: r["answer"], lambda r, rng: _strip_box(r["solution"]),
                         lambda r: r["problem"], solution_of=lambda r: r["solution"])
    minerva = [r for r in read("qwen_math_eval/minerva_math/test.jsonl") if len(boxed_contents(r["solution"])) == 1]
    cases += latex_cases("minerva_math", minerva[:12], lambda r: r["solution"],
                         lambda r, rng: _strip_box(r["solution"]), lambda r: r["problem"])
    olympiad = [r for r in read("qwen_math_eval/olympiadbench/test.jsonl") if r["answer_type"] != "Expression"]
    cases += latex_cases("olympiadbench", olympiad[:15], lambda r: str(r["final_answer"]), generic_steps,
                         lambda r: r["question"])
    cases += latex_cases("gaokao2023en", read("qwen_math_eval/gaokao2023en/test.jsonl")[:20],
                         lambda r: r["answer"], generic_steps, lambda r: r["question"])
    for name in ("amc23", "aime24"):
        cases += latex_cases(name, read(f"qwen_math_eval/{name}/test.jsonl")[:12], lambda r: str(r["answer"]),
                             generic_steps, lambda r: r["question"])
    cases += latex_cases("cmath", read("qwen_math_eval/cmath/test.jsonl")[:12], lambda r: str(r["answer"]),
                         generic_steps, lambda r: r["question"])
    cases += mmlu_cases(read("qwen_math_eval/mmlu_stem/test.jsonl")[:25])
    cases += set_builder_cases()
    cases += gsm8k_hard_cases(read("gsm8k/test.jsonl")[100:140])
    cases += negative_cases([("math500", read("math500/test.jsonl")[:200], lambda r: r["answer"]),
                             ("gaokao2023en", read("qwen_math_eval/gaokao2023en/test.jsonl")[:100],
                              lambda r: r["answer"])])
    cases += cmath_chinese_cases(read("qwen_math_eval/cmath/test.jsonl")[100:124])
    cases += multi_answer_cases()
    with open(OUT, "w", encoding="utf-8") as fh:
        for c in cases:
            fh.write(json.dumps(c, ensure_ascii=False, sort_keys=True) + "\n")
    counts = {}
    for c in cases:
        counts[c["label"]] = counts.get(c["label"], 0) + 1
    print(f"wrote {len(cases)} cases to {OUT}: {counts}")


UNITS = ["dollars", "apples", "minutes", "pages", "miles"]


def gsm8k_hard_cases(rows):
    """Numbers with units, bold, percent and negative forms, right and wrong."""
    out = []
    for i, row in enumerate(rows):
        rng = rng_for("gsm8k-hard", i)
        steps = re.sub(r"<<[^>]*>>", "", row["answer"].rsplit("####", 1)[0]).strip()
        gold = row["answer"].rsplit("####", 1)[1].strip().replace(",", "")
        unit = rng.choice(UNITS)
        templates = [
            ("boxed_unit", "{steps}\n\nThe answer is $\\boxed{{{ans} \\text{{ {unit}}}}}$."),
            ("prose_unit", "{steps}\nSo the answer is {ans} {unit}."),
            ("bold_number", "{steps}\n\nThe answer is **{ans}**."),
            ("latex_unit_inline", "{steps}\nFinal answer: ${ans}\\,\\text{{{unit}}}$"),
        ]
        style, template = templates[i % len(templates)]
        wrong = different_form(gold, rng)
        out.append(case("gsm8k", f"hard-{i}", style, row["question"], row["answer"],
                        template.format(steps=steps, ans=gold, unit=unit), "correct"))
        out.append(case("gsm8k", f"hard-{i}", style, row["question"], row["answer"],
                        template.format(steps=steps, ans=wrong, unit=unit), "incorrect"))
    return out


def negative_cases(rows_by_source):
    """Negative references written with a Unicode minus sign (as some models do)."""
    out = []
    for source, rows, reference_of in rows_by_source:
        for i, row in enumerate(rows):
            gold = _bare(reference_of(row))
            if not re.fullmatch(r"-\d+", gold):
                continue
            unicode_minus = "\u2212" + gold[1:]
            out.append(case(source, f"neg-{i}", "r1_think", row.get("problem") or row.get("question"),
                            reference_of(row), render("r1_think", GENERIC_STEPS[0], unicode_minus), "correct",
                            note="unicode_minus"))
            out.append(case(source, f"neg-{i}", "therefore", row.get("problem") or row.get("question"),
                            reference_of(row), render("therefore", GENERIC_STEPS[1], gold[1:]), "incorrect",
                            note="sign_dropped"))
    return out


def cmath_chinese_cases(rows):
    """Chinese answers: 答案是 / 答案： / 最终答案为, with and without boxes."""
    templates = ["我们一步一步地计算。\n所以答案是 {ans}。", "先列出算式，再计算。\n答案：$\\boxed{{{ans}}}$",
                 "<think>\n先算总数，再减去用掉的。\n</think>\n\n最终答案为 {ans}。", "计算可得结果。\n答案是：{ans}"]
    out = []
    for i, row in enumerate(rows):
        rng = rng_for("cmath-zh", i)
        gold = str(row["answer"])
        template = templates[i % len(templates)]
        out.append(case("cmath", f"zh-{i}", "chinese_cue", row["question"], gold, template.format(ans=gold), "correct"))
        wrong = different_form(gold, rng) if re.fullmatch(r"-?\d+(\.\d+)?", gold) else None
        if wrong:
            out.append(case("cmath", f"zh-{i}", "chinese_cue", row["question"], gold, template.format(ans=wrong),
                            "incorrect"))
    return out


def multi_answer_cases():
    """References with several answers, stated in one box or in one box each."""
    rows = [(r["question"], str(r["final_answer"])) for r in read("qwen_math_eval/olympiadbench/test.jsonl")
            if r["is_multiple_answer"]][:12]
    rows += [(r["problem"], r["answer"]) for r in read("math500/test.jsonl") if r["answer"] in ("1,-2", "3, 5, 7")]
    rows += [(r["question"], r["answer"]) for r in read("qwen_math_eval/gaokao2023en/test.jsonl")
             if r["answer"] == "$48$, $384$"]
    out = []
    for i, (question, reference) in enumerate(rows):
        rng = rng_for("multi", i)
        items = [p.strip() for p in _split_top_level(_bare(reference))]
        if len(items) < 2:
            continue
        boxes = " and ".join(f"$\\boxed{{{item}}}$" for item in items)
        out.append(case("multi", i, "one_box_each", question, reference,
                        f"<think>\n{GENERIC_STEPS[2]}\n</think>\n\nThe answers are {boxes}.", "correct"))
        out.append(case("multi", i, "one_box", question, reference,
                        render("boxed_plain", GENERIC_STEPS[0], ", ".join(reversed(items))), "correct",
                        note="answers_reordered"))
        wrong_item = different_form(items[-1], rng)
        if wrong_item is not None:
            wrong = " and ".join(f"$\\boxed{{{item}}}$" for item in items[:-1] + [wrong_item])
            out.append(case("multi", i, "one_box_each", question, reference,
                            f"{GENERIC_STEPS[1]}\nThe answers are {wrong}.", "incorrect"))
        out.append(case("multi", i, "one_box", question, reference,
                        render("boxed_plain", GENERIC_STEPS[0], items[0]), "incorrect", note="answer_missing"))
    return out


def _split_top_level(text: str) -> list:
    items, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    return items + [text[start:]]


def set_builder_cases():
    """Gaokao set-builder references answered in interval notation (checked by hand)."""
    rows = {r["answer"]: r for r in read("qwen_math_eval/gaokao2023en/test.jsonl")}
    pairs = [("$\\{x|-2\\leq x < 1\\}$", "[-2, 1)", "correct"), ("$\\{x|-2\\leq x < 1\\}$", "(-2, 1)", "incorrect"),
             ("$\\{x|-2\\leq x < 1\\}$", "-2 \\le x < 1", "correct"), ("$\\{x|-2\\leq x < 1\\}$", "[-2, 1]", "incorrect")]
    out = []
    for i, (reference, answer, label) in enumerate(pairs):
        row = rows[reference]
        out.append(case("gaokao2023en", f"set-{i}", "r1_think", row["question"], reference,
                        render("r1_think", "We solve each inequality and intersect the sets.", answer), label,
                        note="set_builder_as_interval"))
    return out


if __name__ == "__main__":
    main()
