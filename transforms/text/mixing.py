"""Language mixing inside a chain of thought: R1's language-consistency measure.

The measure is the share of target-language *units* in a text, plus the longest
passage written in another language (a *foreign run*):

- LaTeX (``$…$``, ``\\[…\\]``, environments, commands), code (fences, inline
  code, Asymptote), URLs and numbers are left out before anything is counted or
  detected (``prose_text``);
- a unit is a word for scripts that separate words with spaces (Latin, Cyrillic,
  Hangul, ...) and a character for Han and Kana; Greek letters are maths and never
  count. Latin words in a text whose target is not Latin-script only count with
  two letters or more, and not as a variable next to an operator (``total - used``),
  an identifier (``snake_case``, ``camelCase``), a unit, a function name or a point
  name (``cm``, ``sin``, ``AB``);
- **scripts** (the fast path): letters of a script the target language doesn't
  use (CJK in an English trace, Latin words in a Chinese one) are foreign; each
  maximal passage of them, with spaces, punctuation and digits in between, is a
  foreign run;
- **same script** (Latin targets): a sentence of more than ``max_run_units``
  words that carries function words of another Latin language (or, for English,
  accented letters) and no more of the target's own is a candidate. When its
  function words are unambiguous (none of a listed target's, at least three of
  one other language and more than of any third) they name its language;
  otherwise it is given to langdetect, and it is foreign when langdetect names
  another language with probability ≥ ``min_detect_probability`` and the
  function words agree (a listed language must show one of its own; an unlisted
  one, none of the target's). Sentences without such cues, and short ones, never
  reach langdetect: it is slow (~2 ms a sentence), and unreliable on short text
  ("Let me check again." comes out French).

Beam-free. The scripts, prose and tokens come from ``transforms.text.prose``, the
function words and langdetect from ``transforms.text.language``.
"""
from __future__ import annotations

import re
from typing import Dict, FrozenSet, Iterator, List, NamedTuple, Optional, Tuple

import numpy as np

from transforms.text.language import FUNCTION_WORDS, LanguageIdentifier, function_word_hits
from transforms.text.prose import (
    LATIN_WORD,
    SCRIPT_LANGUAGE,
    SCRIPTS,
    code_point_table,
    count_code_points,
    non_ascii_chars,
    normalize_language,
    prose_text,
    scripts_of,
    word_tokens,
)

#: Characters allowed between the letters of one foreign run.
_RUN_GAP = (r"\s\d!-/:-@\[-`{-~\u00a0-\u00bf\u2000-\u206f\u3000-\u3004\u3008-\u3020"
            r"\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65")

#: Latin-script tokens that are maths or code, never words of a language.
_MATH_TOKENS = frozenset(
    "sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh log ln lg exp lim max min "
    "sup inf det gcd lcm mod deg dim ker rank cm mm km kg mg ml dm nm ms kb mb gb hz km/h "
    "pi ab ac ad bc bd cd de ef xy xyz abc def".split())
#: A name next to an arithmetic operator is a variable ("total - used"), not a word.
_OPERAND = re.compile(r"(?:[=+*/<>^]|\s-)\s*[A-Za-z_]\w*|[A-Za-z_]\w*(?=\s*(?:[=+*/<>^]|-\s))")
_IDENTIFIER = re.compile(r"[A-Za-z0-9]*(?:_|[a-z][A-Z]|[A-Za-z]\d)[A-Za-z0-9_]*")
_NON_ASCII_LATIN = "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff"


class ForeignRun(NamedTuple):
    """A passage in another language: its size in units, language and first characters."""

    units: int
    language: str
    text: str


class LanguageMeasure(NamedTuple):
    """What ``MixingMeter.measure`` found in one text."""

    target: str
    target_units: Optional[int]  # None on the fast path (nothing foreign, nothing counted)
    foreign_units: int
    share: float  # target units / counted units (1.0 when nothing is counted)
    longest: Optional[ForeignRun]
    detected_segments: int  # sentences given to langdetect

    def as_dict(self) -> dict:
        out: dict = {"target_language": self.target, "target_units": self.target_units,
                     "foreign_units": self.foreign_units, "target_share": round(self.share, 4),
                     "langdetect_calls": self.detected_segments}
        out["longest_foreign_run"] = self.longest._asdict() if self.longest else None
        return out


class _Patterns(NamedTuple):
    """Compiled expressions and word sets for one target language."""

    target_chars: Optional[np.ndarray]  # code point → is a target character counted one by one (Han, Kana)
    target_words: Optional["re.Pattern"]  # a target word (scripts with spaces)
    foreign_letter: "re.Pattern"  # any letter of a script the target doesn't use
    foreign_run: "re.Pattern"  # a maximal passage of such letters
    same_script: bool  # Latin target: look for sentences in other Latin languages
    cue_words: FrozenSet[bytes]  # function words of the other languages, not the target's (UTF-8)
    cue_letter: Optional["re.Pattern"]  # English: accented letters
    detect_all: bool  # Latin target without a function-word list: every long sentence is detected

    def has_cue(self, text: str, tokens: List[bytes]) -> bool:
        """Whether ``text`` (with its ``word_tokens``) may hold a sentence in another Latin language."""
        if not self.same_script:
            return False
        return (self.detect_all or not self.cue_words.isdisjoint(tokens)
                or bool(self.cue_letter is not None and self.cue_letter.search(text)))


def _patterns(target: str) -> _Patterns:
    own = scripts_of(target)
    letters = "".join(SCRIPTS[s][0] for s in SCRIPTS if s not in own)
    letter = f"[{letters}]"
    run = f"{letter}(?:[{_RUN_GAP}]*{letter})*"
    same_script = own == {"latin"}
    mine = FUNCTION_WORDS.get(target, frozenset())
    others = frozenset().union(*(w for lang, w in FUNCTION_WORDS.items() if lang != target)) - mine
    cue_words = frozenset(w.encode("utf-8") for w in others)
    cue_letter = re.compile(f"[{_NON_ASCII_LATIN}]") if target == "en" else None
    chars = "".join(SCRIPTS[x][0] for x in own if SCRIPTS[x][1] == "char")
    words = "".join(SCRIPTS[x][0] for x in own if SCRIPTS[x][1] == "word")
    return _Patterns(code_point_table(chars) if chars else None,
                     re.compile(f"[{words}]+") if words else None, re.compile(letter), re.compile(run),
                     same_script, cue_words, cue_letter, same_script and not mine)


#: A unit of each non-Latin script: one character (Han, Kana) or one word.
_SCRIPT_UNITS = {script: re.compile(f"[{chars}]" if kind == "char" else f"[{chars}]+")
                 for script, (chars, kind) in SCRIPTS.items() if script != "latin"}
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|(?<=[。！？；])")
_LATIN_TOKEN = re.compile(r"[A-Za-z_\u00c0-\u024f][\w'’]*")


class MixingMeter:
    """Measures language mixing against any target; caches expressions per target."""

    def __init__(self, identifier: LanguageIdentifier, max_run_units: int = 4,
                 min_detect_probability: float = 0.8):
        self.identifier = identifier
        self.max_run_units = max_run_units
        self.min_detect_probability = min_detect_probability
        self._cache: Dict[str, _Patterns] = {}

    def patterns(self, target: str) -> _Patterns:
        found = self._cache.get(target)
        if found is None:
            found = self._cache[target] = _patterns(target)
        return found

    def measure(self, text: str, target: str, prose: Optional[str] = None, tokens: Optional[List[bytes]] = None,
                non_ascii: Optional[str] = None) -> LanguageMeasure:
        """Target-language share and longest foreign run of ``text`` (LaTeX and code excluded).

        ``prose`` (``prose_text(text)``), its ``tokens`` (``word_tokens(prose)``) and
        ``non_ascii`` (``non_ascii_chars(text)``) may come from a caller that has them.
        Fast path: with no letter of a foreign script in the text and no cue of
        another Latin language in its prose, nothing is foreign: the share is 1.0
        and the units are not counted (None)."""
        target = normalize_language(target) or "en"
        pats = self.patterns(target)
        prose = prose_text(text) if prose is None else prose
        if pats.same_script:  # foreign letters and accents are never ASCII: look at the rest only
            letters = non_ascii_chars(text) if non_ascii is None else non_ascii
            tokens = word_tokens(prose) if tokens is None else tokens
            if not pats.foreign_letter.search(letters) and not pats.has_cue(letters, tokens):
                return LanguageMeasure(target, None, 0, 1.0, None, 0)
        elif not pats.foreign_letter.search(prose):
            return LanguageMeasure(target, None, 0, 1.0, None, 0)
        foreign, longest = 0, None
        has_foreign_script = pats.foreign_letter.search(prose) is not None
        if has_foreign_script:
            foreign, longest = self._script_runs(prose, pats, target)
        detected = 0
        if pats.same_script:  # Latin target: units are the tokens outside foreign-script runs
            own_script = pats.foreign_run.sub(" ", prose) if has_foreign_script else prose
            prose_tokens = tokens if own_script is prose and tokens is not None else word_tokens(own_script)
            target_units = len(prose_tokens)
            if pats.has_cue(own_script, prose_tokens):
                found, detected = self._same_script_runs(own_script, prose_tokens, pats, target)
                for run in found:
                    foreign += run.units
                    target_units -= run.units
                    if longest is None or run.units > longest.units:
                        longest = run
        else:
            target_units = _count_units(prose, pats)
        total = target_units + foreign
        share = target_units / total if total else 1.0
        return LanguageMeasure(target, target_units, foreign, share, longest, detected)

    def _script_runs(self, prose: str, pats: _Patterns, target: str) -> Tuple[int, Optional[ForeignRun]]:
        """(units, longest) of the passages in scripts the target language doesn't use."""
        total, best, best_units, best_script = 0, None, 0, ""
        latin_is_foreign = "latin" not in scripts_of(target)
        for match in pats.foreign_run.finditer(prose):
            passage = match.group(0)
            units, script = _foreign_units(passage, latin_is_foreign)
            total += units
            if units > best_units:
                best, best_units, best_script = passage, units, script
        if best is None:
            return total, None
        return total, ForeignRun(best_units, self._name(best, best_script), _preview(best))

    @staticmethod
    def _name(passage: str, script: str) -> str:
        """The language of a foreign passage: by script, or by function words for Latin ones."""
        if script == "latin":
            hits = function_word_hits(LATIN_WORD.findall(passage))
            best = max(hits, key=lambda lang: (hits[lang], lang == "en"))
            return best if hits[best] else "latin"
        return SCRIPT_LANGUAGE.get(script, script)

    def _same_script_runs(self, prose: str, tokens: List[bytes], pats: _Patterns,
                          target: str) -> Tuple[List[ForeignRun], int]:
        """Sentences in another language of the target's own script.

        Function words decide when they are unambiguous: none of the (listed)
        target's and at least ``_DECISIVE_HITS`` of one other language, more than of
        any third. Otherwise langdetect decides, and its answer must agree with the
        function words: a language with a list must show at least one of its own,
        any other language none of the target's."""
        runs, detected = [], 0
        for sentence in _cued_sentences(prose, tokens, pats):
            words = LATIN_WORD.findall(sentence)
            if len(words) <= self.max_run_units:
                continue
            hits = function_word_hits(words)
            own = hits.get(target, 0)
            if target in hits:
                others = sorted(((n, lang) for lang, n in hits.items() if lang != target), reverse=True)
                if own > others[0][0]:
                    continue
                if own == 0 and others[0][0] >= _DECISIVE_HITS and others[0][0] > others[1][0]:
                    runs.append(ForeignRun(len(words), others[0][1], _preview(sentence)))
                    continue
            detected += 1
            found = self.identifier.detect(sentence)
            if not found or found[0] == target or found[1] < self.min_detect_probability:
                continue
            if (hits[found[0]] >= 1) if found[0] in hits else own == 0:
                runs.append(ForeignRun(len(words), found[0], _preview(sentence)))
        return runs, detected


#: Function words of one other language (and none of the target's) that name a
#: sentence's language without asking langdetect.
_DECISIVE_HITS = 3


def _count_units(text: str, pats: _Patterns) -> int:
    """Target units: characters of Han/Kana (one unit each) plus words of other scripts."""
    units = count_code_points(text, pats.target_chars) if pats.target_chars is not None else 0
    return units + (len(pats.target_words.findall(text)) if pats.target_words else 0)


def _cued_sentences(prose: str, tokens: List[bytes], pats: _Patterns) -> Iterator[str]:
    """The sentences of ``prose`` that carry a cue of another Latin language.

    Lines are screened first by substring (cheap; a superset of the word test), and
    only the lines that pass are split into sentences and tested word by word."""
    present = [w.decode("utf-8") for w in pats.cue_words.intersection(tokens)]
    for line in prose.split("\n"):
        if not pats.detect_all and not (pats.cue_letter is not None and not line.isascii()
                                        and pats.cue_letter.search(line)):
            if not present:
                continue
            lowered = line.lower()
            if not any(w in lowered for w in present):
                continue
        for sentence in _SENTENCE_END.split(line):
            if pats.has_cue(sentence, word_tokens(sentence)):
                yield sentence


def _foreign_units(passage: str, latin_is_foreign: bool) -> Tuple[int, str]:
    """(units, majority script) of a foreign passage; Latin maths and code tokens don't count."""
    counts = {"latin": _latin_words(passage) if latin_is_foreign else 0}
    if not passage.isascii():
        for script, pattern in _SCRIPT_UNITS.items():
            found = len(pattern.findall(passage))
            if found:
                counts[script] = found
    script = max(counts, key=lambda s: (counts[s], s))
    return sum(counts.values()), script


def _latin_words(passage: str) -> int:
    """Latin words of a passage that are words of a language (see ``_is_latin_word``)."""
    return sum(map(_is_latin_word, _LATIN_TOKEN.findall(_OPERAND.sub(" ", passage))))


def _is_latin_word(token: str) -> bool:
    """A Latin token that is a word of a language, not a variable, unit or identifier."""
    if len(token) < 2 or _IDENTIFIER.fullmatch(token):
        return False
    if token.isupper() and len(token) <= 4:  # AB, GCD, LCM: names of points and functions
        return False
    return token.lower() not in _MATH_TOKENS


def _preview(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
