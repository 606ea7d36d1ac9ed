"""Scripts and prose: which script a language is written in, what in a text is not prose
(LaTeX, code, URLs, think tags), and the word tokens and non-ASCII characters of a text.

Beam-free; the language-mixing meter (``transforms.text.mixing``), the identifier
(``transforms.text.language``) and the record views (``transforms.text.views``) share
these."""
from __future__ import annotations

import re
import string
from typing import Dict, FrozenSet, List, Optional, Tuple

import numpy as np

# -- scripts --------------------------------------------------------------------

LATIN = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff"
#: (character class, counted as "char" or "word") per script.
SCRIPTS: Dict[str, Tuple[str, str]] = {
    "latin": (LATIN, "word"),
    "han": ("\u2e80-\u2fdf\u3005\u3007\u3021-\u3029\u3038-\u303b\u3400-\u4dbf\u4e00-\u9fff"
            "\uf900-\ufaff\U00020000-\U0003134f", "char"),
    "kana": ("\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9d", "char"),
    "hangul": ("\u1100-\u11ff\u3130-\u318f\uac00-\ud7af", "word"),
    "cyrillic": ("\u0400-\u052f", "word"),
    "arabic": ("\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff", "word"),
    "hebrew": ("\u0590-\u05ff", "word"),
    "devanagari": ("\u0900-\u097f", "word"),
    "thai": ("\u0e00-\u0e7f", "word"),
}
#: Scripts each language is written in (anything not listed is Latin).
_LANGUAGE_SCRIPTS: Dict[str, FrozenSet[str]] = {
    **{lang: frozenset({"han"}) for lang in ("zh", "yue")},
    "ja": frozenset({"han", "kana"}),
    "ko": frozenset({"hangul", "han"}),
    **{lang: frozenset({"cyrillic"}) for lang in ("ru", "uk", "bg", "sr", "mk", "be", "kk")},
    **{lang: frozenset({"arabic"}) for lang in ("ar", "fa", "ur")},
    "he": frozenset({"hebrew"}),
    **{lang: frozenset({"devanagari"}) for lang in ("hi", "mr", "ne")},
    "th": frozenset({"thai"}),
}
#: The language a passage in a script most likely is, for reports.
SCRIPT_LANGUAGE = {"han": "zh", "kana": "ja", "hangul": "ko", "cyrillic": "ru", "arabic": "ar",
                   "hebrew": "he", "devanagari": "hi", "thai": "th", "latin": "latin"}
#: A word of Latin letters.
LATIN_WORD = re.compile(rf"[{LATIN}]+")


def normalize_language(code: Optional[str]) -> Optional[str]:
    """``"zh-CN"`` → ``"zh"``; empty → None."""
    if not code or not code.strip():
        return None
    code = code.strip().lower()
    return code if code.isalpha() else re.split(r"[-_]", code, maxsplit=1)[0]


def scripts_of(language: str) -> FrozenSet[str]:
    """The scripts a language is written in (Latin unless known otherwise)."""
    return _LANGUAGE_SCRIPTS.get(normalize_language(language) or "", frozenset({"latin"}))


def _class_ranges(chars: str) -> List[Tuple[int, int]]:
    """The (first, last) code points of a regular-expression character class body (``a-z…``)."""
    ranges, i = [], 0
    while i < len(chars):
        if i + 2 < len(chars) and chars[i + 1] == "-":
            ranges.append((ord(chars[i]), ord(chars[i + 2])))
            i += 3
        else:
            ranges.append((ord(chars[i]), ord(chars[i])))
            i += 1
    return ranges


def code_point_table(chars: str) -> np.ndarray:
    """A look-up table over all code points: True for those in the character class body ``chars``."""
    table = np.zeros(0x110000, dtype=np.bool_)
    for first, last in _class_ranges(chars):
        table[first:last + 1] = True
    return table


def count_code_points(text: str, table: np.ndarray) -> int:
    """How many characters of ``text`` the table marks (one vectorized look-up, no regex scan)."""
    if not text or text.isascii() and not table[:128].any():
        return 0
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return int(np.count_nonzero(table[codes]))


# -- what is not prose ----------------------------------------------------------

_CODE_BLOCKS = tuple((re.compile(re.escape(opener) + r".*?(?:" + re.escape(closer) + r"|\Z)", re.S),
                      opener[0], probe) for opener, closer, probe in (
                         ("```", "```", re.compile(r"`(?=``)").search),
                         ("~~~", "~~~", re.compile(r"~(?=~~)").search),
                         ("[asy]", "[/asy]", re.compile(r"\[(?=asy\])").search)))
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_DOUBLE_DOLLAR = re.compile(r"\$\$.*?\$\$", re.S)
_BRACKET_MATH = re.compile(r"\\\[.*?\\\]", re.S)
_ENVIRONMENT = re.compile(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.S)
_PAREN_MATH = re.compile(r"\\\(.*?\\\)", re.S)
#: Inline maths the way pandoc reads it (no space inside the dollars, no digit after
#: the closing one), so "$5 and $7" stays prose.
_INLINE_MATH = re.compile(r"\$[^\s$](?:[^$\n]{0,400}[^\s$])?\$(?!\d)")
_LATEX_BLOCKS = ((_BRACKET_MATH, re.compile(r"\\(?=\[)").search, "\n"),
                 (_ENVIRONMENT, re.compile(r"\\(?=begin)").search, "\n"),
                 (_PAREN_MATH, re.compile(r"\\(?=\()").search, " "))
_HAS_DOUBLE_DOLLAR = re.compile(r"\$(?=\$)").search
_HAS_SCHEME = re.compile(r":(?=//)").search
_HAS_WWW = re.compile(r"\.(?<=www\.)").search
_HAS_TAG = re.compile(r">(?<=think>)").search
_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+\*?")
_URL = re.compile(r"https?://\S+|\bwww\.\S+")
_TAGS = re.compile(r"</?think>")


def prose_text(text: str) -> str:
    """``text`` without LaTeX, code (fences, inline code, Asymptote), URLs and think tags.

    Each is replaced by a space, display maths by a line break and inline maths
    that ends with a full stop by one, so sentence boundaries survive."""
    if not text:
        return ""
    # Each marker is looked for before its expression runs: a single character with
    # ``in`` (a memchr), a longer one with a pattern that starts with one literal
    # character (a fast scan); a multi-character ``in`` costs ~4 µs on 5 KB.
    for pattern, first, probe in _CODE_BLOCKS:
        if first in text and probe(text):
            text = pattern.sub(" ", text)
    if "`" in text:
        text = _INLINE_CODE.sub(" ", text)
    if "$" in text and _HAS_DOUBLE_DOLLAR(text):
        text = _DOUBLE_DOLLAR.sub("\n", text)
    if "\\" in text:
        for pattern, probe, replacement in _LATEX_BLOCKS:
            if probe(text):
                text = pattern.sub(replacement, text)
    if "$" in text:
        text = _INLINE_MATH.sub(_inline_math_replacement, text)
    if "\\" in text:
        text = _LATEX_COMMAND.sub(" ", text)
    if ":" in text and _HAS_SCHEME(text) or "." in text and _HAS_WWW(text):
        text = _URL.sub(" ", text)
    if ">" in text and _HAS_TAG(text):
        text = _TAGS.sub(" ", text)
    return text


def _inline_math_replacement(match: "re.Match") -> str:
    """A space, or a full stop where the maths ends a sentence inside it ("$x = 2.$")."""
    maths = match.group(0)
    return ". " if len(maths) > 3 and maths[-2] in ".!?" else " "


# -- tokens and characters ------------------------------------------------------

#: ASCII punctuation and digits → space, ASCII capitals → small letters.
_TOKEN_TABLE = bytes.maketrans((string.punctuation + string.digits + string.ascii_uppercase).encode("ascii"),
                               b" " * len(string.punctuation + string.digits) + string.ascii_lowercase.encode())
_ASCII_BYTES = bytes(range(128))


def non_ascii_chars(text: str) -> str:
    """The non-ASCII characters of ``text``, in order, the ASCII ones left out (usually a small
    part of it; enough to look for letters of a script or for single characters).

    A byte-level deletion: every byte of a multi-byte UTF-8 sequence is ≥ 0x80, so
    deleting the ASCII bytes leaves valid UTF-8 (lone surrogates pass through)."""
    if text.isascii():
        return ""
    return non_ascii_of_utf8(text.encode("utf-8", "surrogatepass"))


def non_ascii_of_utf8(data: bytes) -> str:
    """``non_ascii_chars`` of text already encoded (UTF-8, surrogates passed through)."""
    return data.translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass")


def word_tokens(text: str) -> List[bytes]:
    """UTF-8 tokens of ``text`` split at ASCII whitespace, punctuation and digits, with
    ASCII letters lower-cased.

    Bytes, because ``bytes.translate`` is fast on any text while ``str.translate``
    slows to a dictionary look-up per character as soon as one is not ASCII."""
    return text.encode("utf-8", "replace").translate(_TOKEN_TABLE).split()
