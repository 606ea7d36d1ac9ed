"""How long a text is, without a tokenizer: estimated tokens and words.

Beam-free; the length filter and the journey examples of mix count with these."""
from __future__ import annotations

import math


def estimate_tokens(text: str) -> int:
    """A tokenizer-free token count: one per wide character (CJK, most symbols: three
    UTF-8 bytes, counted from the encoded length), one per four other characters."""
    if not text:
        return 0
    wide = 0 if text.isascii() else (len(text.encode("utf-8", "replace")) - len(text)) // 2
    return wide + math.ceil((len(text) - wide) / 4)


def count_words(text: str) -> int:
    """Words separated by whitespace; a wide character (three UTF-8 bytes: CJK) counts as a
    word of its own. Approximate for other non-ASCII text (about one word per two letters)."""
    if text.isascii():
        return len(text.split())
    extra_bytes = len(text.encode("utf-8", "replace")) - len(text)
    return len(text.encode("ascii", "ignore").split()) + extra_bytes // 2
