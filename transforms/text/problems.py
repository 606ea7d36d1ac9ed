"""Beam-free rules that judge a problem before anything is sampled for it.

Each rule looks at a problem's text (and its gold answer and options) and returns
``None`` (fine) or a short detail saying what it found. The reasons, in the order
:func:`screen` applies them:

- ``figure``: the text points at a figure, diagram, graph or picture that is not in
  it ("as shown in the figure", "the diagram below", "Figure 2", an image tag). An
  Asymptote block (``[asy]``, MATH's way of drawing the figure in the text) counts as
  the figure being there.
- ``proof``: it asks to prove or show something and has no final value to check (no
  gold answer, or one that only says "proof").
- ``multi_part``: it has parts, ``(a) … (b) …``, ``(1) … (2) …``, ``(i) … (ii) …`` or
  "part a/part b", each marker at a line start or after a sentence end (not an equation
  label such as "equation (1)").
- ``mcq_without_options``: it asks "which of the following" (or its gold answer is a
  lone option letter) but neither ``choices`` nor the text lists two options.
- ``missing_answer``: no gold answer.
- ``unparseable_answer``: a gold answer with unbalanced ``{}``, an odd number of ``$``,
  nothing left once ``$`` and ``\\boxed{}`` are taken off, a placeholder ("proof",
  "see solution", "n/a"), or longer than ``max_answer_chars``.
- ``answer_leaked``: the text gives the gold answer away: "the answer is X", ``\\boxed{X}``
  or ``#### X`` in the question, or "show that … X" with X in the same sentence.

Only the text is read (never evaluated): no sympy here.
"""
from __future__ import annotations

import re
from typing import Optional, Sequence

from transforms.text.extract import boxed_contents

#: The reasons, in the order they are checked.
REASONS = ("figure", "proof", "multi_part", "mcq_without_options", "missing_answer",
           "unparseable_answer", "answer_leaked")

_FIGURE = re.compile(
    r"(?:\b(?:in|see|from|using|use|on)\s+the\s+(?:accompanying\s+|following\s+|adjacent\s+|given\s+)?"
    r"(?:figure|diagram)s?\b"
    r"|\b(?:in|see|from|on)\s+the\s+(?:accompanying|following|adjacent|given)\s+"
    r"(?:picture|image|drawing|illustration|graph)"
    r"|\bthe\s+(?:figure|diagram|picture|image|drawing|graph)\s+(?:below|above|shows|on\s+the\s+(?:right|left))"
    r"|\b(?:figure|diagram|picture|graph|image|drawing)\s+(?:shown|given|drawn)\s+(?:below|above)"
    r"|\b(?:shown|drawn|depicted|pictured|illustrated)\s+in\s+the\s+(?:figure|diagram|picture|graph|image)"
    r"|\b(?:figure|fig\.)\s*\d+"
    r"|<image>|<img\b|!\[[^\]]*\]\()", re.IGNORECASE)
_ASY = re.compile(r"\[asy\]", re.IGNORECASE)
_PROOF = re.compile(r"\b(?:prove|proof|show\s+that|demonstrate\s+that|justify\s+that)\b", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"^\W*(?:\\text\{\s*)?(?:proof|see\s+(?:the\s+)?(?:solution|proof|above|below)|"
                          r"n/?a|none|null|qed|omitted|-+)\s*\}?\W*$", re.IGNORECASE)
#: A part marker where a part starts: line start or after ., ?, ! or : (then spaces).
_PART_START = r"(?:^|\n|[.?!:;]\s)\s*(?:part\s*)?\(?{label}\)"
_PART_PAIRS = (("a", "b"), ("1", "2"), ("i", "ii"))
_PART_WORDS = re.compile(r"\bpart\s*\(?(?:a|1|i)\)?\b.*\bpart\s*\(?(?:b|2|ii)\)?\b", re.IGNORECASE | re.DOTALL)
_WHICH = re.compile(r"\bwhich\s+(?:one\s+)?of\s+the\s+following\b|\bchoose\s+the\s+(?:correct|best)\b|"
                    r"\bselect\s+the\s+(?:correct|best)\b", re.IGNORECASE)
_OPTION = re.compile(r"(?:\(|\\textbf\{\(|\b)([A-K])(?:\)|\.|:|\)\s*\})\s*\S")
_LETTER = re.compile(r"^\W*\(?\\?(?:text(?:bf)?\{)?\(?([A-K])\)?\}?\W*$")
#: What a part asks: a question mark or an instruction.
_ASKS = re.compile(r"\?|\b(?:find|determine|compute|calculate|evaluate|prove|show|what|how|explain|"
                   r"estimate|express|give|write|solve|simplify|sketch|derive)\b", re.IGNORECASE)
_CUED = re.compile(r"(?:\banswer\s+(?:is|:)|####)\s*\$?\\?(?:boxed\{)?\s*([^\s$.,;]+)", re.IGNORECASE)
#: A sentence that starts by asking to show something ("Show that …", "Prove that …").
_SENTENCE = re.compile(r"(?:^|[.?!:\n]\s*)((?:show|prove|verify|demonstrate)\s+that[^.?!\n]*)", re.IGNORECASE)


def _squash(text: str) -> str:
    """Text compared for leaks: $, spaces and ``\\left``/``\\right`` taken off."""
    return re.sub(r"\\left|\\right|\$|\s+", "", text or "")


def strip_answer(answer: str) -> str:
    """The gold answer without surrounding ``$`` and an outer ``\\boxed{}``."""
    text = (answer or "").strip().strip("$").strip()
    boxed = boxed_contents(text)
    if boxed and text.startswith("\\boxed"):
        text = boxed[-1].strip()
    return text


def figure(prompt: str) -> Optional[str]:
    if _ASY.search(prompt):
        return None
    found = _FIGURE.search(prompt)
    return f"refers to a figure: {found.group(0)!r}" if found else None


def proof(prompt: str, answer: Optional[str]) -> Optional[str]:
    found = _PROOF.search(prompt)
    if not found:
        return None
    stripped = strip_answer(answer or "")
    if not stripped or _PLACEHOLDER.match(stripped):
        return f"asks for a proof ({found.group(0)!r}) and has no final answer to check"
    return None


def multi_part(prompt: str) -> Optional[str]:
    """Two part markers in order, each followed by a question or an instruction before
    the next marker (a list of conditions, "(i) no two ... (ii) every ...", is no parts)."""
    for first, second in _PART_PAIRS:
        one = re.search(_PART_START.format(label=re.escape(first)), prompt, re.IGNORECASE)
        if not one:
            continue
        two = re.search(_PART_START.format(label=re.escape(second)), prompt[one.end():], re.IGNORECASE)
        if two is None:
            continue
        part_one = prompt[one.end():one.end() + two.start()]
        part_two = prompt[one.end() + two.end():]
        if _ASKS.search(part_one) and _ASKS.search(part_two):
            return f"has parts ({first}) and ({second}), each asking something"
    if _PART_WORDS.search(prompt):
        return "has parts (part a, part b)"
    return None


def mcq_without_options(prompt: str, answer: Optional[str], choices: Sequence[str]) -> Optional[str]:
    if choices:
        return None
    asks = _WHICH.search(prompt)
    letter = _LETTER.match(answer or "")
    if letter and re.search(r"(?<![\\\w])" + letter.group(1) + r"(?!\w)", prompt):
        letter = None  # the letter names something in the text (a point, a person): not an option
    if not asks and not letter:
        return None
    if len(set(_OPTION.findall(prompt))) >= 2:
        return None
    why = f"asks {asks.group(0)!r}" if asks else f"its answer is the option letter {(answer or '').strip()!r}"
    return f"multiple choice ({why}) without its options"


def unparseable_answer(answer: str, max_chars: int) -> Optional[str]:
    text = answer.strip()
    if text.count("{") != text.count("}") or _unbalanced(text):
        return "unbalanced braces"
    if len(re.findall(r"(?<!\\)\$", text)) % 2:
        return "an odd number of $"
    stripped = strip_answer(text)
    if not stripped:
        return "empty once $ and \\boxed{} are taken off"
    if _PLACEHOLDER.match(stripped):
        return f"a placeholder, not an answer: {stripped[:40]!r}"
    if len(stripped) > max_chars:
        return f"{len(stripped)} characters (over {max_chars})"
    return None


def _unbalanced(text: str) -> bool:
    depth = 0
    for char in re.sub(r"\\[{}]", "", text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return True
    return depth != 0


def answer_leaked(prompt: str, answer: str) -> Optional[str]:
    gold = _squash(strip_answer(answer))
    if not gold:
        return None
    for cued in _CUED.finditer(prompt):
        if _squash(cued.group(1)).rstrip("}") == gold:
            return f"the question states the answer: {cued.group(0)!r}"
    for boxed in boxed_contents(prompt):
        if _squash(boxed) == gold:
            return "the question holds the answer in \\boxed{}"
    spaced = r"(?<![\w.])" + r"\s*".join(map(re.escape, gold)) + r"(?![\w.]|\.\d)"
    for sentence in _SENTENCE.findall(prompt):
        if re.search(spaced, re.sub(r"\\left|\\right|\$", "", sentence)):
            return f"the question asks to show the answer: {sentence.strip()[:80]!r}"
    return None


def screen(prompt: str, answer: Optional[str], choices: Sequence[str], *, enabled: Sequence[str] = REASONS,
           needs_answer: bool = True, max_answer_chars: int = 400) -> Optional[tuple]:
    """(reason, detail) of the first enabled rule a problem fails, or None.
    ``needs_answer``: the problem is checked against a gold answer (not code tests, not
    a knowledge prompt), so the answer rules apply."""
    prompt = prompt or ""
    gold = (answer or "").strip()
    checks = (
        ("figure", lambda: figure(prompt)),
        ("proof", lambda: proof(prompt, answer) if needs_answer else None),
        ("multi_part", lambda: multi_part(prompt)),
        ("mcq_without_options", lambda: mcq_without_options(prompt, answer, choices)),
        ("missing_answer", lambda: "no gold answer" if needs_answer and not gold else None),
        ("unparseable_answer", lambda: unparseable_answer(gold, max_answer_chars) if needs_answer and gold else None),
        ("answer_leaked", lambda: answer_leaked(prompt, gold) if needs_answer and gold else None),
    )
    for reason, check in checks:
        if reason in enabled:
            detail = check()
            if detail:
                return reason, detail
    return None
