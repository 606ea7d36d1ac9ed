"""Text parsing shared by sampling, verification and filters: the thinking/answer
split and final-answer extraction. Plain functions only.

Extraction looks for the answer the model *states*, strongest cue first:
``\\boxed{}`` (the last one), GSM8K's ``#### N``, an answer phrase ("the answer
is …", "Answer: …", "Final answer: …", the rightmost one wins), and, when allowed,
the last number in the text. In R1-style output the text after ``</think>`` is
searched first; the thinking is only searched for explicit cues (a number picked
out of unfinished reasoning is not an answer).
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
#: Other thinking markers models write: Sky-T1 / OpenThoughts' ``<|begin_of_thought|>…
#: <|end_of_thought|>`` (then ``<|begin_of_solution|>…<|end_of_solution|>``), read
#: like ``<think>…</think>`` when looking for the answer.
THOUGHT_MARKERS = ((THINK_OPEN, THINK_CLOSE), ("<|begin_of_thought|>", "<|end_of_thought|>"))
_SOLUTION_MARKERS = ("<|begin_of_solution|>", "<|end_of_solution|>")

#: "answer is", "final answer:", "**Answer:**", "answer =" (case-insensitive), and the
#: Chinese "答案是" / "答案为" / "答案：" (with "最终" or "所以" in front or not).
_ANSWER_CUE = re.compile(
    r"(?i)(?:\b(?:final\s+)?answer\b(?:\*\*)?\s*(?:is\b\s*[:=]?|[:=])|答案\s*(?:[是为]\s*[:：]?|[:：]))(?:\s*\*\*)?\s*"
)
_GSM8K_MARK = re.compile(r"####\s*([^\n]+)")
#: A number as written in prose: 1,234 / -3.5 / 3/4 / .5 / 50% (a leading minus
#: only when it can't be a subtraction, e.g. not in "23-15").
_NUMBER = (
    r"(?:(?<![\w.)\]}])-)?(?<![\w.])"
    r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:/\d+)?|\.\d+)(?![\w.]*\d)"
)
_LAST_NUMBER = re.compile(_NUMBER + r"%?")
_NUMBER_ONLY = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:/\d+)?|\.\d+)%?")
#: Where a stated answer ends: end of sentence, clause or line (outside brackets).
_CLAUSE_STOPS = ".;!?\n。；！？"
_MATH_SPANS = (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"))
_TEXT_WRAPPER = re.compile(r"^\\(?:text|textbf|textrm|mathrm|mathbf|mbox)\s*\{")
_TRAILING_UNIT = re.compile(
    r"^(.*?[\d}])\s*+(?:(?:\\[ ,;:!]|~)\s*+)*+\\(?:text|textrm|mathrm|mbox)\s*+\{[^{}]*+\}$", re.S
)
_CHOICE_LETTER = re.compile(r"^\(?([A-J])\)?$|^\(([A-J])\)\s+\S|^([A-J])[).:]\s+\S")
#: "(25 - 5) * 4 = 80", "3 \\times 4": numbers joined by operators, with brackets.
_ARITHMETIC = re.compile(
    r"(?<![\w.(])(?:\(\s*)*+\d++(?:(?:\s*\))*+\s*+(?:[-+*/×÷]|\\times|\\div|\\cdot)\s*+"
    r"(?:\(\s*)*+\d++)++(?:\s*\))*+(?:\s*=\s*\d+)?"
)
_ARITHMETIC_MACROS = re.compile(r"\\(?:times|cdot|div|left|right)\b")
#: Words that are maths, not units or prose, after a number ("2 pi").
_MATH_WORDS = {"pi", "sqrt", "times", "cdot"}


_BOXED_OPEN = re.compile(r"\\(?:boxed|fbox)\s*\{")
_BRACE = re.compile(r"[{}]")


def boxed_spans(text: str) -> List[Tuple[int, int]]:
    """(start, end) of the contents of every ``\\boxed{...}`` / ``\\fbox{...}`` in order,
    nested braces balanced; linear in the text (contents are not copied)."""
    if "\\" not in text or not _BOXED_OPEN.search(text):
        return []
    closing = _matching_braces(text)
    spans = []
    for match in _BOXED_OPEN.finditer(text):
        end = closing.get(match.end() - 1)
        if end is not None:
            spans.append((match.end(), end))
    return spans


def boxed_contents(text: str) -> List[str]:
    """Contents of every ``\\boxed{...}`` / ``\\fbox{...}`` in order, nested braces balanced.

    Boxes inside boxes are listed too, so the total size can grow with the square of
    the text for deeply nested boxes: hot paths use :func:`boxed_spans`."""
    return [text[start:end].strip() for start, end in boxed_spans(text)]


def outer_boxed_contents(text: str) -> List[str]:
    """Contents of every ``\\boxed{...}`` / ``\\fbox{...}`` not inside another one, in
    order: together never longer than ``text`` (linear, however deeply boxes nest)."""
    out, outer_end = [], -1
    for start, end in boxed_spans(text):
        if start >= outer_end:
            out.append(text[start:end].strip())
            outer_end = end
    return out


def _matching_braces(text: str) -> dict:
    """{index of "{": index of its "}"} for every balanced pair, in one pass."""
    pairs, opened = {}, []
    for match in _BRACE.finditer(text):
        i = match.start()
        if match.group() == "{":
            opened.append(i)
        elif opened:
            pairs[opened.pop()] = i
    return pairs


def answer_section(text: str) -> Tuple[Optional[str], str, bool]:
    """(thinking, final part, closed) of a response, for answer extraction: with a
    closed thinking block (``</think>`` or ``<|end_of_thought|>``, the last one) the
    final part is what follows it, solution markers left out; an unclosed one (a
    truncated completion) is all thinking (``closed`` False, final part empty); text
    without markers is all final part (thinking None). Linear in the text."""
    for _opener, closer in THOUGHT_MARKERS:
        at = text.rfind(closer)
        if at >= 0:
            final = text[at + len(closer):]
            for marker in _SOLUTION_MARKERS:
                if marker in final:
                    final = final.replace(marker, "\n")
            return text[:at], final, True
    for opener, _ in THOUGHT_MARKERS:
        if opener in text:
            return text, "", False
    return None, text, True


def final_boxed_answers(text: str) -> List[str]:
    """The distinct cleaned ``\\boxed{}`` answers of the final part of ``text`` (after
    ``</think>``; none for an unclosed ``<think>``), in order: a response that states
    several answers ("$\\boxed{2}$ and $\\boxed{3}$"). A box inside another box is
    part of that one's answer, not an answer of its own. Linear in the text."""
    _, text, closed = answer_section(text)
    if not closed:
        return []
    out: Dict[str, None] = {}  # ordered and O(1) to test: thousands of boxes stay linear
    outer_end = -1
    for start, end in boxed_spans(text):
        if start < outer_end:
            continue  # inside the previous outermost box
        outer_end = end
        cleaned = clean_answer(text[start:end], keep_expression=True)
        if cleaned:
            out.setdefault(cleaned)
    return list(out)


def split_reasoning(completion: str) -> Tuple[str, str]:
    """Split a completion into (reasoning, answer).

    R1-style output: the reasoning is inside ``<think>…</think>`` and the answer
    follows it. Untagged output: the last paragraph that states the final answer
    (a ``\\boxed{}`` or "the answer is") is the answer and what comes before it is
    the reasoning; a single paragraph stays the reasoning and its boxed value
    becomes the answer.
    """
    text = completion.strip()
    if THINK_CLOSE in text:
        head, _, tail = text.partition(THINK_CLOSE)
        head = head.replace(THINK_OPEN, "", 1) if THINK_OPEN in head else head
        return head.strip(), tail.strip()
    if THINK_OPEN in text:  # opened, never closed: all reasoning, no answer
        return text.replace(THINK_OPEN, "", 1).strip(), ""
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    for i in range(len(paragraphs) - 1, -1, -1):
        para = paragraphs[i]
        boxed = boxed_spans(para)
        if boxed or re.search(r"(?i)\banswer is\b", para):
            if i == 0:
                answer = f"\\boxed{{{para[boxed[-1][0]:boxed[-1][1]].strip()}}}" if boxed else para.strip()
                return text, answer
            return "\n\n".join(paragraphs[:i]).strip(), "\n\n".join(paragraphs[i:]).strip()
    return text, ""


def extract_answer(
    text: str, *, last_number_fallback: bool = True, keep_expression: bool = False
) -> Optional[str]:
    """The final answer stated in ``text``, cleaned (see ``clean_answer``), or None.

    With ``</think>`` (or ``<|end_of_thought|>``: :func:`answer_section`) the text
    after the last one is searched first (all cues, and
    the last number if ``last_number_fallback``); if it states nothing, the thinking
    is searched for explicit cues only. An unclosed ``<think>`` (a truncated
    completion) is all thinking: explicit cues only. ``keep_expression`` keeps a
    stated expression whole (a Countdown answer "(25 - 5) * 4 = 80" stays as is).
    """
    if not text:
        return None
    thinking, final, closed = answer_section(text)
    if not closed:
        return _extract_from(text, False, keep_expression)
    found = _extract_from(final, last_number_fallback, keep_expression)
    if found is not None or thinking is None:
        return found
    return _extract_from(thinking, False, keep_expression)


def last_arithmetic_expression(text: str) -> Optional[str]:
    """The last arithmetic expression (at least one operator, optionally "= N") in the
    final part of ``text`` — after ``</think>``; None for an unclosed ``<think>``.

    The fallback for Countdown answers stated without a cue ("… so (25 - 5) * 4 = 80")."""
    _, text, closed = answer_section(text)
    if not closed:
        return None
    found = _ARITHMETIC.findall(text)
    return found[-1].strip() if found else None


def _extract_from(segment: str, last_number_fallback: bool, keep_expression: bool) -> Optional[str]:
    """The strongest stated answer in one segment of text."""
    for finder in (_last_boxed, _last_gsm8k, _last_cued):
        found = finder(segment, keep_expression)
        if found:
            return found
    if last_number_fallback:
        numbers = _LAST_NUMBER.findall(segment)
        if numbers:
            return numbers[-1]
    return None


def _last_boxed(segment: str, keep_expression: bool) -> Optional[str]:
    for start, end in reversed(boxed_spans(segment)):  # a box cleaned to nothing holds no other box
        cleaned = clean_answer(segment[start:end], keep_expression=keep_expression)
        if cleaned:
            return cleaned
    return None


def _last_gsm8k(segment: str, keep_expression: bool) -> Optional[str]:
    for match in reversed(list(_GSM8K_MARK.finditer(segment))):
        cleaned = clean_answer(_first_clause(match.group(1)), keep_expression=keep_expression)
        if cleaned:
            return cleaned
    return None


def _last_cued(segment: str, keep_expression: bool) -> Optional[str]:
    """The rightmost answer phrase that is followed by an answer."""
    for match in reversed(list(_ANSWER_CUE.finditer(segment))):
        at = match.end()  # read in place: copying the rest for every cue would be quadratic
        stated = math_span_list(segment, at) or _math_span(segment, at) or _first_clause(segment, at)
        cleaned = clean_answer(stated, keep_expression=keep_expression)
        if cleaned:
            return cleaned
    return None


_SPAN_LIST = re.compile(r"\$(?!\$)([^$]+)\$((?:\s*(?:,|;|\bor\b|\band\b)\s*\$[^$]+\$)*)")
_SPAN_IN_LIST = re.compile(r"\$([^$]+)\$")


def math_span_list(text: str, pos: int = 0) -> Optional[str]:
    """Several ``$…$`` spans that ``text`` starts with (at ``pos``), joined by commas,
    "or" or "and" ("$5$ or $9$" → "5, 9"); a single span's contents; None if it
    doesn't start with one. Text after the last span (a unit, a remark) is left out."""
    match = _SPAN_LIST.match(text, pos)
    if not match:
        return None
    items = [match.group(1)] + _SPAN_IN_LIST.findall(match.group(2))
    return ", ".join(item.strip() for item in items)


def _math_span(text: str, pos: int = 0) -> Optional[str]:
    """The contents of a maths span that ``text`` starts with at ``pos`` (``$…$``, ``\\(…\\)``)."""
    for opener, closer in _MATH_SPANS:
        if text.startswith(opener, pos):
            start = pos + len(opener)
            end = text.find(closer, start)
            if end > start:
                return text[start:end]
            return None
    return None


_COMMA_BEFORE_WORD = re.compile(r",\s+[A-Za-z]")


def _first_clause(text: str, pos: int = 0) -> str:
    """``text`` from ``pos`` up to the end of its first sentence, clause or line.

    Stops at ``. ; ! ?`` or a newline, and at ", " before a word, but only outside
    brackets, so "(1, 2)", "1,234" and "3.5" stay whole."""
    depth = 0
    for i in range(pos, len(text)):
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(depth - 1, 0)
        elif depth == 0 and ch in _CLAUSE_STOPS:
            nxt = text[i + 1 : i + 2]
            if ch != "." or not nxt or nxt.isspace() or nxt in "*$":
                return text[pos:i]
        elif depth == 0 and ch == "," and _COMMA_BEFORE_WORD.match(text, i):
            return text[pos:i]
    return text[pos:]


def clean_answer(answer: str, *, keep_expression: bool = False) -> str:
    """Normalize a stated answer: drop maths delimiters, ``$`` signs, markdown bold,
    spacing macros, a trailing period, ``\\text{}`` wrappers and units after a
    number ("5 \\text{cm}"), and reduce a choice like "(B)" to "B". Unless
    ``keep_expression``, keep only the result of a worked sum ("23 + 15 = 38" →
    "38") and the number of a prose answer ("38 apples" → "38")."""
    s = answer.strip().strip("*").strip().replace("\u2212", "-")  # a Unicode minus sign
    for opener, closer in (("\\(", "\\)"), ("\\[", "\\]")):
        if s.startswith(opener) and s.endswith(closer):
            s = s[len(opener) : -len(closer)].strip()
    s = s.replace("\\$", "").replace("$", "").replace("\\displaystyle", "")
    s = s.replace("{,}", ",").replace("\\!", "").replace("\\,", "").replace("~", " ")
    s = s.strip().rstrip(".,;:。，；：").strip()
    s = _unwrap_text(s)
    unit = _TRAILING_UNIT.match(s)
    if unit:
        s = unit.group(1).strip()
    letter = _CHOICE_LETTER.match(s)
    if letter:
        return next(g for g in letter.groups() if g)
    if keep_expression:
        return s
    return _result_of_sum(s) or _number_in_prose(s) or s


def _unwrap_text(s: str) -> str:
    """``\\text{X}`` (or ``\\mathrm``, ``\\textbf`` …) spanning all of ``s`` → ``X``."""
    wrapper = _TEXT_WRAPPER.match(s)
    if not wrapper:
        return s
    depth = 1
    for i in range(wrapper.end(), len(s)):
        depth += {"{": 1, "}": -1}.get(s[i], 0)
        if depth == 0:
            if i == len(s) - 1:
                return s[wrapper.end() : i].strip().rstrip(".").strip()
            return s
    return s


def _result_of_sum(text: str) -> Optional[str]:
    """The number after the last "=" of pure arithmetic ("23 + 15 = 38" → "38")."""
    lhs, eq, rhs = text.rpartition("=")
    rhs = rhs.strip()
    if not eq or not _NUMBER_ONLY.fullmatch(rhs):
        return None
    if re.search(r"[A-Za-z\\]", _ARITHMETIC_MACROS.sub(" ", lhs)):
        return None
    return rhs


def _number_in_prose(text: str) -> Optional[str]:
    """The one number in a short prose answer ("38 apples", "she has 12 eggs left")."""
    numbers = list(_LAST_NUMBER.finditer(text))
    if len(numbers) != 1 or _NUMBER_ONLY.fullmatch(text):
        return None
    before, after = text[: numbers[0].start()], text[numbers[0].end() :]
    if (before and not before[-1].isspace()) or (after and not after[0].isspace()):
        return None  # "2k", "x5": the number is part of a term
    words = (before + " " + after).split()
    if not all(re.fullmatch(r"[A-Za-z']+", w) for w in words):
        return None
    if any(w.lower() in _MATH_WORDS or (len(w) == 1 and w not in "aA") for w in words):
        return None  # "2 pi", "3 x": maths, not units or prose
    return numbers[0].group(0)
