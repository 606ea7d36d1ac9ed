"""A scripted R1 teacher for the whole-corpus test: a real OpenAI-compatible HTTP server
on 127.0.0.1 (``tests/loopback.py``) that answers each problem of the real files in
``../shared/data``, read through the same presets a user's source uses, by its domain:

* code (HumanEval, MBPP): the reference solution or a mutant of it
  (``tests.code_support.scripted_answer``: even seeds right, odd seeds a mutant);
* maths (GSM8K, MATH-500, answers withheld or not): the file's answer in ``\\boxed{}``,
  except for one seed in ``WRONG_EVERY`` (the answer + 1, or a wrong expression), so
  a majority still forms and some answers are wrong;
* multiple choice (MMLU-STEM): the gold letter in ``\\boxed{}``, a wrong one on the same
  seeds;
* Countdown: an expression found by brute force from the numbers in the prompt;
* Knights and Knaves: a guess naming only the first inhabitant (always incomplete, so
  the verifier rejects it);
* an imported answer's chain-of-thought request: a short English chain of thought.

What the teacher knows comes from the files and the prompt; every verdict on what it
writes comes from the pipeline's own verifiers."""
from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
from fractions import Fraction
from typing import Dict, Iterator, List, NamedTuple, Optional

from tests.code_support import DATA, Reference, first_problems, scripted_answer
from tests.code_support import THINKING as CODE_THINKING
from tests.loopback import JsonHandler, serving
from transforms.core.verification import WITHHELD_KEY
from transforms.ingest.config import SourceConfig
from transforms.ingest.presets import to_problem

#: One sample in this many is answered wrong (by its seed).
WRONG_EVERY = 5
THINKING = ("First I read the problem and note what is given and what is asked.\n\n"
            "Then I work through it step by step and check the result against the question.")
#: Ways a chain of thought ends, picked by the seed (so the samples of a problem differ).
CHECKS = ("Checking once more, the result holds.", "A second look at every step agrees.",
          "Going back over the work, nothing changes.", "Testing the result against the question confirms it.",
          "Rereading the question, the reasoning stands.", "Each step follows from the one before.",
          "Nothing in the question was missed.")
#: The answer to a prompt the teacher doesn't know (the test checks none was asked).
UNKNOWN = "<think>\nHm.\n</think>\n\nNo idea."
COT_PREFIX = "Below are a request and the answer an assistant gave to it."
_COUNTDOWN = re.compile(r"Using the numbers \[([\d, ]+)\], write an arithmetic expression that equals (\d+)")
_KNIGHTS = re.compile(r"You meet \d+ inhabitants: ([A-Za-z]+)")


class Answer(NamedTuple):
    domain: str  # math | choice | code
    gold: str  # the file's answer (math, choice)
    ref: Optional[Reference] = None  # code


def _problems(name: str, relative: str, preset: str, count: int, **source) -> Iterator[tuple]:
    config = SourceConfig(name=name, path=relative, preset=preset, **source)
    with open(os.path.join(DATA, relative), encoding="utf-8") as fh:
        for line, text in enumerate(fh, start=1):
            if line > count:
                return
            yield to_problem(json.loads(text), config, relative, line, 1, "test")


def answers(limits: Dict[str, int]) -> Dict[str, Answer]:
    """{a problem's prompt: how to answer it} for the first ``limits[name]`` problems of
    each set (gsm8k, math500, mmlu_stem, humaneval, mbpp)."""
    out: Dict[str, Answer] = {}
    maths = (("gsm8k", "gsm8k/train.jsonl", "gsm8k", {}), ("math500", "math500/test.jsonl", "math",
                                                            {"verify": "majority"}))
    for name, relative, preset, extra in maths:
        for problem in _problems(name, relative, preset, limits.get(name, 0), **extra):
            meta = json.loads(problem.metadata or "{}")
            out[problem.prompt] = Answer("math", problem.reference_answer or meta[WITHHELD_KEY])
    for problem in _problems("mmlu_stem", "qwen_math_eval/mmlu_stem/test.jsonl", "mcq", limits.get("mmlu_stem", 0),
                             domain="stem"):
        out[problem.prompt] = Answer("choice", str(problem.reference_answer))
    for name in ("humaneval", "mbpp"):
        for prompt, ref in first_problems(name, limits.get(name, 0)).items():
            out[prompt] = Answer("code", "", ref)
    return out


def countdown_expression(numbers: List[int], target: int) -> Optional[str]:
    """An expression using every number once that equals ``target`` (brute force)."""
    def search(items: List[tuple]) -> Optional[str]:
        if len(items) == 1:
            return items[0][1] if items[0][0] == target else None
        for i, j in itertools.permutations(range(len(items)), 2):
            (a, ta), (b, tb) = items[i], items[j]
            rest = [items[k] for k in range(len(items)) if k not in (i, j)]
            options = [(a + b, f"({ta} + {tb})"), (a - b, f"({ta} - {tb})"), (a * b, f"({ta} * {tb})")]
            if b != 0:
                options.append((a / b, f"({ta} / {tb})"))
            for value, text in options:
                found = search(rest + [(value, text)])
                if found:
                    return found
        return None
    return search([(Fraction(n), str(n)) for n in numbers])


def _think(seed: int) -> str:
    return f"<think>\n{THINKING}\n\n{CHECKS[seed % len(CHECKS)]}\n</think>"


def _wrong_letter(letter: str) -> str:
    return "B" if letter == "A" else "A"


def reply_text(asked: str, seed: int, known: Dict[str, Answer]) -> str:
    """The teacher's completion for the last user turn ``asked``."""
    if asked.startswith(COT_PREFIX):
        return ("The request asks for a clear and useful answer. I consider what the person needs, "
                "which facts matter and how to say it plainly, and then I write the answer.")
    wrong = seed % WRONG_EVERY == 0
    countdown = _COUNTDOWN.search(asked)
    if countdown:
        numbers = [int(n) for n in countdown.group(1).split(",")]
        expression = countdown_expression(numbers, int(countdown.group(2)))
        return f"{_think(seed)}\n\nThe expression is \\boxed{{{expression}}}."
    knights = _KNIGHTS.search(asked)
    if knights:
        return f"{_think(seed)}\n\nI am not sure; \\boxed{{{knights.group(1)}: knight}}."
    answer = next((a for prompt, a in known.items() if prompt in asked), None)
    if answer is None:
        return UNKNOWN
    if answer.domain == "code":
        assert answer.ref is not None
        return scripted_answer(answer.ref, seed).replace(CODE_THINKING, f"{CODE_THINKING}\n\n{CHECKS[seed % len(CHECKS)]}")
    if answer.domain == "choice":
        letter = _wrong_letter(answer.gold) if wrong else answer.gold
        return f"{_think(seed)}\n\nThe answer is \\boxed{{{letter}}}."
    gold = f"{answer.gold} + 1" if wrong else answer.gold
    return f"{_think(seed)}\n\nThe final answer is $\\boxed{{{gold}}}$."


class _Teacher(JsonHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        asked = body["messages"][-1]["content"]
        text = reply_text(asked, int(body.get("seed") or 0), self.server.known)  # type: ignore[attr-defined]
        with self.server.lock:  # type: ignore[attr-defined]
            self.server.seen.append(asked)  # type: ignore[attr-defined]
            if text == UNKNOWN:
                self.server.unknown.append(asked)  # type: ignore[attr-defined]
        self.send_json(200, {"id": "x", "object": "chat.completion", "model": body.get("model"),
                             "choices": [{"index": 0, "finish_reason": "stop",
                                          "message": {"role": "assistant", "content": text}}],
                             "usage": {"prompt_tokens": len(asked.split()), "completion_tokens": len(text.split())}})


@contextlib.contextmanager
def teacher(limits: Dict[str, int]):
    """The scripted teacher on a free loopback port, knowing the first ``limits[name]``
    problems of each set; ``server.seen`` keeps every user turn asked, ``server.unknown``
    those it had no answer for."""
    with serving(_Teacher, known=answers(limits), seen=[], unknown=[]) as server:
        yield server


def base_url(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/v1"
