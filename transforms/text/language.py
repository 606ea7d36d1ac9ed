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

langdetect runs on a private ``DetectorFactory`` whose seed is set on the
instance (never the class-wide ``DetectorFactory.seed``), and each call builds
its own detector with its own seeded random generator, so the results are the
same in every process and thread. ``LanguageIdentifier.load()`` reads the
profiles (about half a second): call it in ``DoFn.setup()``.
"""
from __future__ import annotations

import os
import re
import string
import threading
from typing import Dict, FrozenSet, Iterator, List, NamedTuple, Optional, Tuple

import numpy as np
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

# -- scripts --------------------------------------------------------------------

_LATIN = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff"
#: (character class, counted as "char" or "word") per script.
_SCRIPTS: Dict[str, Tuple[str, str]] = {
    "latin": (_LATIN, "word"),
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
_SCRIPT_LANGUAGE = {"han": "zh", "kana": "ja", "hangul": "ko", "cyrillic": "ru", "arabic": "ar",
                    "hebrew": "he", "devanagari": "hi", "thai": "th", "latin": "latin"}
#: Characters allowed between the letters of one foreign run.
_RUN_GAP = (r"\s\d!-/:-@\[-`{-~\u00a0-\u00bf\u2000-\u206f\u3000-\u3004\u3008-\u3020"
            r"\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65")

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

#: Latin-script tokens that are maths or code, never words of a language.
_MATH_TOKENS = frozenset(
    "sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh log ln lg exp lim max min "
    "sup inf det gcd lcm mod deg dim ker rank cm mm km kg mg ml dm nm ms kb mb gb hz km/h "
    "pi ab ac ad bc bd cd de ef xy xyz abc def".split())
#: A name next to an arithmetic operator is a variable ("total - used"), not a word.
_OPERAND = re.compile(r"(?:[=+*/<>^]|\s-)\s*[A-Za-z_]\w*|[A-Za-z_]\w*(?=\s*(?:[=+*/<>^]|-\s))")
_IDENTIFIER = re.compile(r"[A-Za-z0-9]*(?:_|[a-z][A-Z]|[A-Za-z]\d)[A-Za-z0-9_]*")

# -- function words (the same-script cue) ---------------------------------------

#: Frequent function words, chosen to overlap little between languages.
_FUNCTION_WORDS: Dict[str, FrozenSet[str]] = {
    lang: frozenset(words.split()) for lang, words in {
        "en": "the and is are of to that this with we it be was were have has for which then "
              "so let what from each there their they not but can will would should our "
              "how many much first next now need total wait okay hmm right answer per in on "
              "at as by if or an all one two its who does did do had than more he she his her "
              "some after into out up about them him me my you your also because since only "
              "other same just like these those when where here why over under both again us non",
        "fr": "le les des est une nous dans pour que qui avec sont donc mais du aux cette "
              "il elle pas sur leur être avons fait comme alors ainsi chaque "
              "nombre réponse vérifions calculons",
        "de": "der das und ist nicht ein eine mit wir sich auch dem zu auf für ich "
              "sie wird sind noch nach bei oder aber dann dass jetzt zahl summe "
              "berechnen insgesamt",
        "es": "los las por para una pero como es que sus este esta entonces "
              "tenemos cada número respuesta ahora también luego",
        "it": "il che non della sono gli nel una per le dei allora quindi abbiamo ogni "
              "numero risposta questo questa sia anche",
        "pt": "não uma com para por que do das então temos cada número "
              "resposta isso também agora",
        "nl": "het een niet dat wij zijn ook maar naar voor deze dus hebben elke "
              "aantal antwoord",
    }.items()
}
_NON_ASCII_LATIN = "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff"


def normalize_language(code: Optional[str]) -> Optional[str]:
    """``"zh-CN"`` → ``"zh"``; empty → None."""
    if not code or not code.strip():
        return None
    code = code.strip().lower()
    return code if code.isalpha() else re.split(r"[-_]", code, maxsplit=1)[0]


def scripts_of(language: str) -> FrozenSet[str]:
    """The scripts a language is written in (Latin unless known otherwise)."""
    return _LANGUAGE_SCRIPTS.get(normalize_language(language) or "", frozenset({"latin"}))


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


# -- the identifier ---------------------------------------------------------------


#: langdetect profiles of Latin-script languages: the only ones it is asked about
#: (the script tells the others apart), and fewer profiles make it faster.
LATIN_PROFILES = ("af", "ca", "cs", "cy", "da", "de", "en", "es", "et", "fi", "fr", "hr", "hu", "id", "it",
                  "lt", "lv", "nl", "no", "pl", "pt", "ro", "sk", "sl", "so", "sq", "sv", "sw", "tl", "tr", "vi")
#: langdetect sees at most this much of a text.
_DETECT_CHARS = 2000


class LanguageIdentifier:
    """langdetect with its own seeded profile set; thread-safe and deterministic.

    Cheap to build; ``load()`` reads the profiles (once, guarded by a lock) and
    warms the detector up. ``detect`` loads on first use if ``load`` wasn't called.
    ``profiles``: the langdetect profiles (language codes) to tell apart.
    """

    def __init__(self, seed: int = 0, profiles: Tuple[str, ...] = LATIN_PROFILES):
        self.seed = seed
        self.profiles = profiles
        self._factory: Optional[DetectorFactory] = None
        self._lock = threading.Lock()

    def load(self) -> "LanguageIdentifier":
        with self._lock:
            if self._factory is None:
                self._factory = self._new_factory()
        self.detect("Warm-up: this sentence is here to load the detector once.")
        return self

    def _new_factory(self) -> DetectorFactory:
        texts = []
        for code in self.profiles:
            with open(os.path.join(PROFILES_DIRECTORY, code), encoding="utf-8") as fh:
                texts.append(fh.read())
        factory = DetectorFactory()
        factory.load_json_profile(texts)
        factory.set_seed(self.seed)  # an instance attribute: other factories keep theirs
        return factory

    def detect(self, text: str) -> Optional[Tuple[str, float]]:
        """(language, probability) of the most likely language, or None for text without letters."""
        if self._factory is None:
            self.load()
        text = re.sub(r"[\d_]+", " ", (text or "")[:_DETECT_CHARS])
        if not re.search(r"[^\W\d_]", text):
            return None
        detector = self._factory.create()
        detector.seed = self.seed
        detector.append(text)
        try:
            best = detector.get_probabilities()
        except LangDetectException:
            return None
        if not best:
            return None
        return normalize_language(best[0].lang), round(best[0].prob, 4)


# -- the measure ----------------------------------------------------------------------


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
        out = {"target_language": self.target, "target_units": self.target_units,
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
    letters = "".join(_SCRIPTS[s][0] for s in _SCRIPTS if s not in own)
    letter = f"[{letters}]"
    run = f"{letter}(?:[{_RUN_GAP}]*{letter})*"
    same_script = own == {"latin"}
    mine = _FUNCTION_WORDS.get(target, frozenset())
    others = frozenset().union(*(w for lang, w in _FUNCTION_WORDS.items() if lang != target)) - mine
    cue_words = frozenset(w.encode("utf-8") for w in others)
    cue_letter = re.compile(f"[{_NON_ASCII_LATIN}]") if target == "en" else None
    chars = "".join(_SCRIPTS[x][0] for x in own if _SCRIPTS[x][1] == "char")
    words = "".join(_SCRIPTS[x][0] for x in own if _SCRIPTS[x][1] == "word")
    return _Patterns(_code_point_table(chars) if chars else None,
                     re.compile(f"[{words}]+") if words else None, re.compile(letter), re.compile(run),
                     same_script, cue_words, cue_letter, same_script and not mine)


#: A unit of each non-Latin script: one character (Han, Kana) or one word.
_SCRIPT_UNITS = {script: re.compile(f"[{chars}]" if kind == "char" else f"[{chars}]+")
                 for script, (chars, kind) in _SCRIPTS.items() if script != "latin"}
#: ASCII punctuation and digits → space, ASCII capitals → small letters.
_TOKEN_TABLE = bytes.maketrans((string.punctuation + string.digits + string.ascii_uppercase).encode("ascii"),
                               b" " * len(string.punctuation + string.digits) + string.ascii_lowercase.encode())
_ASCII_BYTES = bytes(range(128))
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|(?<=[。！？；])")
_LATIN_TOKEN = re.compile(r"[A-Za-z_\u00c0-\u024f][\w'’]*")
_LATIN_WORD = re.compile(rf"[{_LATIN}]+")


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
            hits = function_word_hits(_LATIN_WORD.findall(passage))
            best = max(hits, key=lambda lang: (hits[lang], lang == "en"))
            return best if hits[best] else "latin"
        return _SCRIPT_LANGUAGE.get(script, script)

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
            words = _LATIN_WORD.findall(sentence)
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


def _code_point_table(chars: str) -> np.ndarray:
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


def function_word_hits(words: List[str]) -> Dict[str, int]:
    """How many of ``words`` are function words of each listed language."""
    lowered = [w.lower() for w in words]
    return {lang: sum(w in listed for w in lowered) for lang, listed in _FUNCTION_WORDS.items()}


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


# -- the target language of a prompt ---------------------------------------------------


def detect_prompt_language(prompt: str, identifier: LanguageIdentifier) -> Optional[str]:
    """The language a prompt is written in, or None when it can't be told.

    The script decides between non-Latin languages (Kana → ja, Han → zh, Hangul
    → ko, ...); Latin prompts are decided by function words, then by langdetect
    when it is confident (≥ 0.95) on a prompt of at least five words.
    """
    prose = prose_text(prompt)
    counts = {s: len(re.findall(f"[{chars}]", prose)) for s, (chars, _) in _SCRIPTS.items()}
    counts["latin"] = len(re.findall(f"[{_LATIN}]{{2,}}", prose)) * 3  # a word is ~3 characters
    script = max(counts, key=lambda s: (counts[s], s == "latin"))
    if counts[script] == 0:
        return None
    if script != "latin":
        return "ja" if counts["kana"] and script == "han" else _SCRIPT_LANGUAGE[script]
    words = [w.lower() for w in _LATIN_WORD.findall(prose)]
    votes = sorted(((sum(w in fw for w in words), lang) for lang, fw in _FUNCTION_WORDS.items()), reverse=True)
    if votes[0][0] >= 2 and votes[0][0] > votes[1][0]:
        return votes[0][1]
    if len(words) >= 5:
        found = identifier.detect(prose)
        if found and found[1] >= 0.95:
            return found[0]
    return None
