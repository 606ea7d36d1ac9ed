"""Build tests/data/langmix_traces.jsonl: labelled chains of thought for the language-mixing filter.

Every trace is built from a real problem in ../shared/data (GSM8K, MATH-500 and
Minerva for English, CMATH for Chinese, Gaokao 2023 English for wrong-language
cases): the problem text and, where the dataset has one, its worked solution
become an R1-style trace. Half of them then get a passage in another language
put in (``mixed: true``); the clean half includes the hard cases a filter must
keep (Chinese with LaTeX and English variable names, English with accented
names and a short Chinese gloss). Every choice comes from
``random.Random(derive_seed(...))``, so the output is the same on every run:

    cd /work/main && .venv/bin/python tests/data/make_langmix.py

Fields: id, source, source_id, kind, mixed, language (the target, or None on
every other record so the prompt decides), prompt, reasoning, answer, completion.
"""
from __future__ import annotations

import json
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)

from transforms.core import derive_seed  # noqa: E402
from transforms.text.extract import boxed_contents  # noqa: E402

DATA = os.path.join(ROOT, "..", "shared", "data")
OUT = os.path.join(HERE, "langmix_traces.jsonl")

# -- English pieces -------------------------------------------------------------------

EN_OPENINGS = [
    "Okay, let's see.", "Alright, let me work through this problem.", "Let me start by understanding the problem.",
    "Hmm, let me read the question carefully.", "Let me think about this step by step.",
]
EN_CHECKS = [
    "Wait, let me double-check the arithmetic.\n\nYes, each step checks out.",
    "Let me verify that again. Going back over each step, the numbers are consistent.",
    "Hmm, is that right? Let me recompute it quickly. Yes, I get the same result.",
    "Let me make sure I didn't miss anything in the problem statement. No, that covers everything.",
    "Just to be safe, I'll check the result against the original conditions. It works.",
]
EN_CLEAN_EXTRAS = [  # hard negatives: accented names, borrowed words, a short gloss
    "José and Zoë would solve it the same way, so the method is sound.",
    "This is the classic chicken-and-rabbit puzzle (鸡兔同笼), so a system of equations works.",
    "The café example from earlier is a good sanity check, i.e. the totals must match.",
    "As a rule of thumb, the naïve approach works here, vice versa would not.",
    "We can reason a priori that the answer must be positive (即正数).",
    "François would call this the déjà vu step, since we already did a similar computation.",
    "She drives from Los Angeles to El Paso and back, so the distance doubles.",
    "Maria de la Cruz pays the same price per item, so the totals agree.",
    "The total, per se, is not what the question asks for; the difference is.",
]

# -- foreign passages put into English traces -----------------------------------------

ZH_PARAGRAPHS = [
    "我们先计算每天剩下的数量，然后再乘以单价，这样就能得到总的收入。",
    "让我换一种方法来验证：把所有的量加起来，再减去已经用掉的部分，结果应该和上面一致。",
    "嗯，这里需要注意单位的换算，先把所有的量都换成同一个单位再计算。",
    "等一下，我好像算错了。重新检查一下每一步的计算过程，确认没有遗漏。",
    "所以我们可以列出方程，然后解这个方程得到未知数的值。",
    "这一步的关键是找出题目中的等量关系，然后代入已知条件求解。",
    "根据题意，总数等于各部分之和，因此我们只需要把它们相加即可。",
    "先算出一共有多少，再算出每一份是多少，最后得到答案。",
    "好的，现在我们来检查一下结果是否符合题目的所有条件。",
    "这说明我们的假设是正确的，可以继续往下计算。",
]
ZH_SHORT = ["所以答案就是这个数。", "我们再验算一遍。", "这里要小心计算。", "答案应该是正确的。"]
JA_SENTENCES = [
    "次に、残りの数を計算してから、それを単価で掛けます。",
    "ここで単位をそろえる必要があるので、まず換算しましょう。",
    "もう一度確認すると、この計算は正しいことがわかります。",
    "したがって、方程式を立てて未知数を求めればよいです。",
]
FR_SENTENCES = [
    "Nous devons maintenant calculer le nombre total d'éléments restants.",
    "Vérifions encore une fois que le résultat est bien cohérent avec l'énoncé.",
    "Donc il faut d'abord trouver la valeur de chaque partie avant de les additionner.",
    "Calculons la somme des deux quantités puis divisons par le nombre de parts.",
    "Alors la réponse est obtenue en multipliant ce nombre par le prix unitaire.",
    "Il reste donc à soustraire ce qui a déjà été utilisé pour conclure.",
    "Je pense que cette méthode est plus simple et plus rapide pour ce problème.",
    "Attendez, je dois vérifier si cette valeur respecte toutes les conditions.",
    "Donc la réponse est bonne.",
]
DE_SENTENCES = [
    "Jetzt berechnen wir die Summe der beiden Zahlen und teilen sie durch zwei.",
    "Also müssen wir zuerst den Preis pro Stück bestimmen und dann multiplizieren.",
    "Ich glaube, dass diese Rechnung noch einmal überprüft werden sollte.",
    "Das Ergebnis stimmt mit allen Bedingungen der Aufgabe überein.",
    "Wir ziehen nun den bereits verbrauchten Teil von der Gesamtmenge ab.",
    "Das ist nicht ganz richtig hier.",
]
ES_SENTENCES = [
    "Ahora tenemos que calcular el número total de elementos que quedan.",
    "Entonces la respuesta se obtiene multiplicando este número por el precio.",
    "Vamos a comprobar que el resultado cumple todas las condiciones del problema.",
    "Primero hay que encontrar el valor de cada parte y luego sumarlas.",
    "Creo que este método es más sencillo para resolver el problema.",
    "Entonces la respuesta es correcta.",
]
RU_SENTENCES = [
    "Теперь нужно вычислить общее количество оставшихся предметов.",
    "Проверим ещё раз, что результат удовлетворяет всем условиям задачи.",
    "Значит, сначала найдём значение каждой части, а потом сложим их.",
]

# -- Chinese pieces ---------------------------------------------------------------------

ZH_OPENINGS = ["好的，我来看一下这道题。", "嗯，让我仔细读一下题目。", "我们一步一步来分析这道题。", "先理解一下题目的意思。"]
ZH_STEPS = [
    "设所求的量为 $x$，根据题意列出等式。",
    "题目中给出的数有 {nums}，我们要弄清楚它们之间的关系。",
    "设总数为 total，已经用掉的为 used，那么剩下的就是 total - used。",
    "用分数表示就是 $\\frac{{a}}{{b}}$ 的形式，其中 $a$ 和 $b$ 都是整数。",
    "如果把长度记作 $l$，单位是 cm，那么面积的单位就是平方厘米。",
    "这里可以用函数 $f(x)$ 来表示这个关系，再代入数值计算。",
    "线段 AB 和 BC 的长度之和就是全长。",
    "列式计算：$ {expr} $。",
    "注意单位要统一，比如 kg 和 g 之间需要换算。",
    "我们用最小公倍数 (LCM) 的方法来求解。",
    "可以用 Vieta's formulas 的思路来想，不过这里直接计算更简单。",
]
ZH_CHECKS = ["验算一下：把 {answer} 代回题目，条件都满足。", "再检查一遍计算过程，没有问题。",
             "等一下，我再确认一下这一步。嗯，是对的。"]
EN_PARAGRAPHS = [
    "Let me re-check the computation step by step to make sure nothing is off here.",
    "So the total number of items left is what the question is asking for, which we already have.",
    "Wait, I think I should approach this differently and set up an equation for the unknown first.",
    "Okay, now I need to subtract the part that was already used from the total amount.",
    "This means the answer should be the product of the two numbers we found above.",
    "First we find how much each part is worth, and then we add all of the parts together.",
]
EN_SENTENCES = [
    "So the remaining amount is what we want.", "Let me double check this step once more.",
    "Now we just need to add them together.", "That gives us the final number of pages.",
]


def read_jsonl(relpath: str):
    with open(os.path.join(DATA, relpath), encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def clean_gsm8k(solution: str):
    """(steps, answer) from a GSM8K rationale: calculator annotations removed."""
    body, _, answer = solution.partition("####")
    body = re.sub(r"<<[^>]*>>", "", body)
    return [line.strip() for line in body.strip().split("\n") if line.strip()], answer.strip()


def clean_solution(solution: str):
    """Paragraphs of a MATH/Minerva solution without Asymptote drawings."""
    solution = re.sub(r"\[asy\].*?\[/asy\]", "", solution, flags=re.S)
    return [p.strip() for p in re.split(r"\n\s*\n", solution) if p.strip()]


def english_trace(rng: random.Random, question: str, steps, answer: str, clean_extra: bool):
    """An R1-style English trace around a real problem and its worked steps."""
    paragraphs = [rng.choice(EN_OPENINGS), f"The problem says: {question.strip()}"]
    paragraphs += steps
    if clean_extra:
        paragraphs.insert(rng.randint(2, len(paragraphs)), rng.choice(EN_CLEAN_EXTRAS))
    paragraphs.append(rng.choice(EN_CHECKS))
    return paragraphs, f"So the final answer is $\\boxed{{{answer}}}$."


def chinese_trace(rng: random.Random, question: str, answer: str):
    """A Chinese trace with LaTeX, units and English variable names around a CMATH problem."""
    nums = re.findall(r"\d+(?:\.\d+)?", question)
    expr = " + ".join(nums[:2]) + f" = {answer}" if len(nums) >= 2 else f"x = {answer}"
    steps = rng.sample(ZH_STEPS, 4)
    paragraphs = [rng.choice(ZH_OPENINGS), f"题目是：{question}"]
    paragraphs += [s.format(nums="、".join(nums) or "若干", expr=expr) for s in steps]
    paragraphs.append(rng.choice(ZH_CHECKS).format(answer=answer))
    return paragraphs, f"所以答案是 $\\boxed{{{answer}}}$。"


def insert(rng: random.Random, paragraphs, passage: str, inline: bool):
    """Put ``passage`` in as its own paragraph, or at the end of a middle paragraph."""
    at = rng.randint(2, len(paragraphs) - 1)
    if inline:
        sep = "" if re.search(r"[\u4e00-\u9fff]$", paragraphs[at]) else " "
        paragraphs[at] = paragraphs[at] + sep + passage
    else:
        paragraphs.insert(at, passage)
    return paragraphs


ENGLISH_MIXES = [  # (kind, pool, inline)
    ("en+zh_paragraph", ZH_PARAGRAPHS, False),
    ("en+zh_sentence", ZH_PARAGRAPHS, True),
    ("en+fr_sentence", FR_SENTENCES, True),
    ("en+de_sentence", DE_SENTENCES, True),
    ("en+es_sentence", ES_SENTENCES, True),
    ("en+ja_sentence", JA_SENTENCES, True),
    ("en+ru_sentence", RU_SENTENCES, True),
    ("en+zh_short", ZH_SHORT, True),
]
CHINESE_MIXES = [("zh+en_paragraph", EN_PARAGRAPHS, False), ("zh+en_sentence", EN_SENTENCES, True)]


def record(source, source_id, kind, mixed, language, prompt, paragraphs, answer, index):
    reasoning = "\n\n".join(paragraphs)
    return dict(id=f"{source}-{source_id}-{kind}", source=source, source_id=str(source_id), kind=kind,
                mixed=mixed, language=language if index % 2 == 0 else None, prompt=prompt,
                reasoning=reasoning, answer=answer, completion=f"<think>\n{reasoning}\n</think>\n\n{answer}")


def english_problems():
    """(source, id, question, steps, answer) from GSM8K, MATH-500 and Minerva."""
    out = []
    for i, row in enumerate(read_jsonl("gsm8k/test.jsonl")[:90]):
        steps, answer = clean_gsm8k(row["answer"])
        out.append(("gsm8k", i, row["question"], steps, answer))
    for i, row in enumerate(read_jsonl("math500/test.jsonl")[:60]):
        steps = clean_solution(row["solution"])
        if 1 <= len(steps) <= 6 and len(row["solution"]) < 1500:
            out.append(("math500", i, row["problem"], steps, row["answer"]))
    for i, row in enumerate(read_jsonl("qwen_math_eval/minerva_math/test.jsonl")[:30]):
        steps = clean_solution(row["solution"])
        if 1 <= len(steps) <= 6 and len(row["solution"]) < 1500:
            boxed = boxed_contents(row["solution"])
            out.append(("minerva_math", i, row["problem"], steps, boxed[-1] if boxed else ""))
    return out


def build():
    records = []
    for index, (source, sid, question, steps, answer) in enumerate(english_problems()):
        rng = random.Random(derive_seed("langmix", source, sid))
        mixed = index % 2 == 1
        paragraphs, final = english_trace(rng, question, steps, answer, clean_extra=not mixed and index % 4 == 0)
        kind = "en_clean_extra" if not mixed and index % 4 == 0 else "en_clean"
        if mixed:
            kind, pool, inline = ENGLISH_MIXES[(index // 2) % len(ENGLISH_MIXES)]
            paragraphs = insert(rng, paragraphs, rng.choice(pool), inline)
        records.append(record(source, sid, kind, mixed, "en", question, paragraphs, final, index))
    for index, row in enumerate(read_jsonl("qwen_math_eval/cmath/test.jsonl")[:110]):
        rng = random.Random(derive_seed("langmix", "cmath", index))
        paragraphs, final = chinese_trace(rng, row["question"], row["answer"])
        mixed = index % 2 == 1
        kind = "zh_clean"
        if mixed:
            kind, pool, inline = CHINESE_MIXES[(index // 2) % len(CHINESE_MIXES)]
            paragraphs = insert(rng, paragraphs, rng.choice(pool), inline)
        records.append(record("cmath", index, kind, mixed, "zh", row["question"], paragraphs, final, index))
    records += wrong_language_records()
    return records


def wrong_language_records():
    """Whole traces in the wrong language: English reasoning for a Chinese prompt and back."""
    out = []
    gaokao = read_jsonl("qwen_math_eval/gaokao2023en/test.jsonl")[:10]
    cmath = read_jsonl("qwen_math_eval/cmath/test.jsonl")[200:210]
    for index, (zh_row, en_row) in enumerate(zip(cmath, gaokao)):
        rng = random.Random(derive_seed("langmix", "wrong", index))
        paragraphs, final = english_trace(rng, en_row["question"], [rng.choice(EN_PARAGRAPHS)], zh_row["answer"],
                                          clean_extra=False)
        out.append(record("cmath", 200 + index, "zh_prompt+en_trace", True, "zh", zh_row["question"],
                          paragraphs, final, index))
        paragraphs, final = chinese_trace(rng, zh_row["question"], zh_row["answer"])
        out.append(record("gaokao2023en", index, "en_prompt+zh_trace", True, "en", en_row["question"],
                          paragraphs, final, index))
    return out


def main():
    records = build()
    with open(OUT, "w", encoding="utf-8") as fh:
        for row in records:
            fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    mixed = sum(r["mixed"] for r in records)
    print(f"wrote {len(records)} traces ({mixed} mixed) to {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
