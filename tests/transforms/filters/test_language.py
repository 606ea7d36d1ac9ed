"""The language-mixing rule: rule tables, details, the target language, and the labelled set."""
import json
import os
import re
import sys

import pytest

from tests.traces import (
    EN_ANSWER,
    EN_PARAGRAPH,
    EN_REASONING,
    FR_SENTENCE,
    LABELLED,
    MATH_SOLUTION,
    ROOT,
    ZH_PARAGRAPH,
    ZH_REASONING,
    ZH_WITH_ENGLISH_VARS,
    en_trace,
    insert_paragraph,
    zh_trace,
)
from transforms.filters.config import FilterConfig
from transforms.filters.explain import record_from_row
from transforms.filters.language import check_language_mixing, target_language
from transforms.filters.registry import first_failure
from transforms.text.mixing import MixingMeter


def failing(record, rules):
    failure = first_failure(record, rules)
    return failure[1] if failure else None


ACCENTED = EN_REASONING + "\n\nJosé and Zoë would solve it the same way, so the method is sound."


@pytest.mark.parametrize("record, expected", [
    (zh_trace(reasoning=ZH_WITH_ENGLISH_VARS), None),  # Chinese with LaTeX and English variable names
    (zh_trace(reasoning=ZH_WITH_ENGLISH_VARS, language=None), None),  # ... target detected on the prompt
    (en_trace(reasoning=insert_paragraph(EN_REASONING, ZH_PARAGRAPH)), "language_mixing"),  # one Chinese paragraph
    (en_trace(reasoning=EN_REASONING.replace("Wait,", FR_SENTENCE + " Wait,")), "language_mixing"),  # French
    (en_trace(reasoning=ACCENTED), None),  # accented names are not French
    (en_trace(reasoning=MATH_SOLUTION, answer="$\\boxed{p - q}$"), None),  # LaTeX "\le", "\ne" are not French
    (zh_trace(reasoning=insert_paragraph(ZH_REASONING, EN_PARAGRAPH)), "language_mixing"),
    (zh_trace(reasoning=EN_REASONING, answer=EN_ANSWER, language=None), "language_mixing"),  # wrong language
    (en_trace(reasoning=EN_REASONING + " (鸡兔同笼)"), None),  # a four-character gloss
], ids=["zh-vars", "zh-vars-prompt", "en+zh-paragraph", "en+fr-sentence", "en-accents", "en-latex",
        "zh+en-paragraph", "zh-prompt-en-trace", "en-gloss"])
def test_language_mixing(record, expected, rules):
    assert failing(record, rules) == expected


def test_language_mixing_detail_names_the_numbers(identifier):
    meter = MixingMeter(identifier)
    record = en_trace(reasoning=insert_paragraph(EN_REASONING, ZH_PARAGRAPH))
    measured = check_language_mixing(record, FilterConfig(min_share_units=0), meter)
    assert measured.reason == "language_mixing"
    assert re.fullmatch(r"target-language \(en\) share 0\.\d\d < 0\.95 over \d+ words", measured.detail)
    french = check_language_mixing(en_trace(reasoning=EN_REASONING.replace("Wait,", FR_SENTENCE + " Wait,")),
                                   FilterConfig(min_target_share=0.5), meter)
    assert french.numbers["longest_foreign_run"]["language"] == "fr"
    assert french.detail.startswith('12-word passage in fr > 4 (target en): "Nous devons')


def test_target_language_comes_from_config_record_prompt_or_fallback(identifier):
    record = zh_trace(language=None)
    assert target_language(record, FilterConfig(), identifier) == ("zh", "prompt")
    assert target_language(zh_trace(), FilterConfig(), identifier) == ("zh", "record")
    assert target_language(record, FilterConfig(target_language="en"), identifier) == ("en", "config")
    bare = en_trace(prompt="$x + 1 = 2$", language=None)
    assert target_language(bare, FilterConfig(fallback_language="de"), identifier) == ("de", "fallback")


def test_langmix_labelled_set_precision_and_recall(identifier, capsys):
    with open(LABELLED, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    assert len(rows) >= 200
    config = FilterConfig()
    meter = MixingMeter(identifier, config.max_foreign_run_words, config.min_detect_probability)
    predicted = [check_language_mixing(record_from_row(r), config, meter).reason == "language_mixing"
                 for r in rows]
    truth = [r["mixed"] for r in rows]
    tp = sum(p and t for p, t in zip(predicted, truth))
    precision = tp / max(sum(predicted), 1)
    recall = tp / max(sum(truth), 1)
    with capsys.disabled():
        print(f"\nlanguage_mixing on {len(rows)} labelled traces ({sum(truth)} mixed): "
              f"precision {precision:.3f}, recall {recall:.3f}")
    misses = [r["id"] for r, p, t in zip(rows, predicted, truth) if p != t]
    assert precision >= 0.95 and recall >= 0.95, misses


def test_labelled_set_is_reproducible_from_real_data():
    sys.path.insert(0, os.path.join(ROOT, "tests", "data"))
    try:
        import make_langmix
    finally:
        sys.path.pop(0)
    with open(LABELLED, encoding="utf-8") as fh:
        committed = [json.loads(line) for line in fh]
    assert make_langmix.build() == committed
    assert os.path.getsize(LABELLED) < 1_000_000
