"""Language identification: the language of a prompt, a deterministic langdetect."""
from concurrent.futures import ThreadPoolExecutor

import pytest
from langdetect.detector_factory import DetectorFactory

from tests.traces import CMATH, GSM8K, MATH500
from transforms.text.language import LanguageIdentifier, detect_prompt_language


@pytest.mark.parametrize("prompt, language", [
    (GSM8K[0]["question"], "en"), (CMATH[0]["question"], "zh"), (MATH500[0]["problem"], "en"),
    ("Calculez la somme des nombres de 1 à 10 et donnez le résultat.", "fr"), ("$x^2$", None), ("", None),
])
def test_detect_prompt_language(prompt, language, identifier):
    assert detect_prompt_language(prompt, identifier) == language


def test_language_identifier_is_deterministic_across_threads():
    sentences = ["Nous devons maintenant calculer le nombre total.", "Let me check again.",
                 "Jetzt berechnen wir die Summe.", "Hmm okay so she has apples left"] * 3
    before = DetectorFactory.seed
    first = LanguageIdentifier(seed=0).load()
    expected = [first.detect(s) for s in sentences]
    with ThreadPoolExecutor(4) as pool:
        second = LanguageIdentifier(seed=0)  # loads on first use, from several threads at once
        results = list(pool.map(second.detect, sentences))
    assert results == expected
    assert DetectorFactory.seed == before  # the class-wide seed is never touched
