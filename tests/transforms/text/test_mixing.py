"""The mixing meter: same-script sentences named by function words or by langdetect."""
import re

import pytest

from tests.traces import EN_REASONING
from transforms.text.mixing import MixingMeter


@pytest.mark.parametrize("sentence, calls", [
    # unambiguous function words (nous, avons, donc, que, le, est, pour, chaque): no langdetect call
    ("Nous avons donc vérifié que le résultat est correct pour chaque cas.", 0),
    # two French function words only (cette, les): langdetect decides, and agrees
    ("Attendez, je dois vérifier si cette valeur respecte toutes les conditions.", 1),
])
def test_same_script_sentences_by_function_words_or_langdetect(sentence, calls, identifier):
    meter = MixingMeter(identifier)
    measure = meter.measure(EN_REASONING + "\n\n" + sentence, "en")
    assert measure.longest is not None and measure.longest.language == "fr"
    assert measure.longest.units == len(re.findall(r"[^\W\d_]+", sentence.replace("'", " ")))
    assert measure.detected_segments == calls
