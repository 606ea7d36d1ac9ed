"""Language identification: function words, a deterministic langdetect, and the language
of a prompt.

langdetect runs on a private ``DetectorFactory`` whose seed is set on the
instance (never the class-wide ``DetectorFactory.seed``), and each call builds
its own detector with its own seeded random generator, so the results are the
same in every process and thread. ``LanguageIdentifier.load()`` reads the
profiles (about half a second): call it in ``DoFn.setup()``.

Beam-free; the language-mixing meter is in ``transforms.text.mixing``.
"""
from __future__ import annotations

import os
import re
import threading
from typing import Dict, FrozenSet, List, Optional, Tuple, cast

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from transforms.text.prose import LATIN, LATIN_WORD, SCRIPT_LANGUAGE, SCRIPTS, normalize_language, prose_text

# -- function words (the same-script cue) ---------------------------------------

#: Frequent function words, chosen to overlap little between languages.
FUNCTION_WORDS: Dict[str, FrozenSet[str]] = {
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


def function_word_hits(words: List[str]) -> Dict[str, int]:
    """How many of ``words`` are function words of each listed language."""
    lowered = [w.lower() for w in words]
    return {lang: sum(w in listed for w in lowered) for lang, listed in FUNCTION_WORDS.items()}


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
        detector = cast(DetectorFactory, self._factory).create()  # load() set it
        detector.seed = self.seed
        detector.append(text)
        try:
            best = detector.get_probabilities()
        except LangDetectException:
            return None
        if not best:
            return None
        return cast(str, normalize_language(best[0].lang)), round(best[0].prob, 4)


# -- the target language of a prompt ---------------------------------------------------

#: Fewest words langdetect is asked about: on shorter prompts its guesses misfire
#: ("Design a simple maze game." → it, "Write a script for a couple's argument." → ro).
MIN_DETECT_WORDS = 12
#: Quoted passages (the text a task is about: "Translate 'Il fait beau' into English").
_QUOTED = re.compile(r"\"[^\"\n]{1,400}\"|“[^”\n]{1,400}”|«[^»\n]{1,400}»|「[^」\n]{1,400}」")


def detect_prompt_language(prompt: str, identifier: LanguageIdentifier) -> Optional[str]:
    """The language a prompt is written in, or None when it can't be told (the caller
    then takes the source's configured language, else its fallback).

    The script decides between non-Latin languages (Kana → ja, Han → zh, Hangul
    → ko, ...). Latin prompts, with quoted passages left out (what a task is about,
    not what it is written in), are decided by function words: two or more of one
    language and fewer of any other, or one and none of any other; failing that by
    langdetect only when it is confident (≥ 0.95) on a prompt of at least
    ``MIN_DETECT_WORDS`` words (it misfires on short ones). Linear in the prompt.
    """
    prose = prose_text(prompt)
    counts = {s: len(re.findall(f"[{chars}]", prose)) for s, (chars, _) in SCRIPTS.items()}
    counts["latin"] = len(re.findall(f"[{LATIN}]{{2,}}", prose)) * 3  # a word is ~3 characters
    script = max(counts, key=lambda s: (counts[s], s == "latin"))
    if counts[script] == 0:
        return None
    if script != "latin":
        return "ja" if counts["kana"] and script == "han" else SCRIPT_LANGUAGE[script]
    unquoted = _QUOTED.sub(" ", prose)
    words = [w.lower() for w in LATIN_WORD.findall(unquoted)]
    votes = sorted(((sum(w in fw for w in words), lang) for lang, fw in FUNCTION_WORDS.items()), reverse=True)
    (top, language), (second, _) = votes[0], votes[1]
    if (top >= 2 and top > second) or (top == 1 and second == 0):
        return language
    if len(words) >= MIN_DETECT_WORDS:
        found = identifier.detect(unquoted)
        if found and found[1] >= 0.95:
            return found[0]
    return None
