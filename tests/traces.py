"""Chains of thought built from real text (../shared/data), shared by the filter and text tests:
English GSM8K and MATH-500 reasoning, Chinese CMATH reasoning, and passages to mix in."""
import json
import os
import re

from tests.factories import verified
from transforms.text.length import estimate_tokens

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data")
LABELLED = os.path.join(ROOT, "tests", "data", "langmix_traces.jsonl")


def _rows(relpath, limit):
    with open(os.path.join(DATA, relpath), encoding="utf-8") as fh:
        return [json.loads(line) for _, line in zip(range(limit), fh)]


GSM8K = _rows("gsm8k/test.jsonl", 3)
CMATH = _rows("qwen_math_eval/cmath/test.jsonl", 3)
MATH500 = _rows("math500/test.jsonl", 3)


def gsm8k_reasoning(row) -> str:
    """A real GSM8K rationale as R1-style reasoning (calculator notes removed)."""
    body = re.sub(r"<<[^>]*>>", "", row["answer"].partition("####")[0]).strip()
    return (f"Okay, let me work through this.\n\nThe problem says: {row['question']}\n\n{body}\n\n"
            "Wait, let me double-check the arithmetic. Yes, every step checks out.")


EN_REASONING = gsm8k_reasoning(GSM8K[0])
LONG_REASONING = "\n\n".join(gsm8k_reasoning(row) for row in GSM8K) + "\n\n" + MATH500[0]["solution"]
EN_ANSWER = "Janet makes $\\boxed{18}$ dollars every day."
ZH_REASONING = (
    f"好的，我来看一下这道题。\n\n题目是：{CMATH[0]['question']}\n\n"
    "设剩下没有看的页数为 $x$，根据题意 $x = 99 - 90$。\n\n"
    "设总页数为 total，已经看过的为 used，那么剩下的就是 total - used，也就是 $\\frac{99-90}{1} = 9$。\n\n"
    "验算一下：$90 + 9 = 99$，和题目一致。")
ZH_ANSWER = "所以答案是 $\\boxed{9}$。"
ZH_PARAGRAPH = "我们先计算每天剩下的鸡蛋数量，然后再乘以单价，这样就能得到总的收入。"
FR_SENTENCE = "Nous devons maintenant calculer le nombre total d'œufs vendus au marché."
EN_PARAGRAPH = "Let me re-check the computation step by step to make sure nothing is off here."


def trace(reasoning, answer, **kw):
    """A VerifiedRollout with token counts as a tokenizer would roughly give them."""
    kw.setdefault("completion", f"<think>\n{reasoning}\n</think>\n\n{answer}")
    kw.setdefault("prompt_tokens", estimate_tokens(kw["prompt"]))
    kw.setdefault("completion_tokens", estimate_tokens(kw["completion"]))
    return verified(reasoning=reasoning, answer=answer, **kw)


def en_trace(reasoning=EN_REASONING, answer=EN_ANSWER, **kw):
    kw.setdefault("prompt", GSM8K[0]["question"])
    return trace(reasoning, answer, **kw)


def zh_trace(reasoning=ZH_REASONING, answer=ZH_ANSWER, **kw):
    kw.setdefault("language", "zh")
    kw.setdefault("prompt", CMATH[0]["question"])
    return trace(reasoning, answer, **kw)


def insert_paragraph(reasoning, passage, at=2):
    paragraphs = reasoning.split("\n\n")
    return "\n\n".join(paragraphs[:at] + [passage] + paragraphs[at:])


LOOP = "Wait, let me check that again. " * 12
MATH_SOLUTION = MATH500[1]["solution"]
ZH_WITH_ENGLISH_VARS = ZH_REASONING + "\n\n线段 AB 的长度是 5 cm，用 f(x) 表示，按最小公倍数 (LCM) 来算。"
