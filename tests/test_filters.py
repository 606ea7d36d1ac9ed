"""Chain-of-thought quality filters: rule tables, language mixing on the labelled set,
robustness, explain, and the FilterRollouts transform under every DirectRunner mode."""
import collections
import json
import os
import random
import re
import sys
from concurrent.futures import ThreadPoolExecutor

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq

import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing import test_pipeline
from apache_beam.testing.util import assert_that, equal_to
from langdetect.detector_factory import DetectorFactory

from pipelines.config import ConfigError, build_dataclass
from tests.factories import verified
from transforms.filters import transform as F
from transforms.filters.transform import FilterConfig, FilterRollouts, explain_file, explain_record, first_failure, rules_for
from transforms.text.language import LanguageIdentifier, MixingMeter, detect_prompt_language, prose_text

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data")
LABELLED = os.path.join(ROOT, "tests", "data", "langmix_traces.jsonl")


def _rows(relpath, limit):
    with open(os.path.join(DATA, relpath), encoding="utf-8") as fh:
        return [json.loads(line) for _, line in zip(range(limit), fh)]


GSM8K = _rows("gsm8k/test.jsonl", 3)
CMATH = _rows("qwen_math_eval/cmath/test.jsonl", 3)
MATH500 = _rows("math500/test.jsonl", 3)


def gsm8k_reasoning(row) -> str:
    """A real GSM8K rationale as R1-style reasoning (calculator notes removed)."""
    body = re.sub(r"<<[^>]*>>", "", row["answer"].partition("####")[0]).strip()
    return (f"Okay, let me work through this.\n\nThe problem says: {row['question']}\n\n{body}\n\n"
            "Wait, let me double-check the arithmetic. Yes, every step checks out.")


EN_REASONING = gsm8k_reasoning(GSM8K[0])
LONG_REASONING = "\n\n".join(gsm8k_reasoning(row) for row in GSM8K) + "\n\n" + MATH500[0]["solution"]
EN_ANSWER = "Janet makes $\\boxed{18}$ dollars every day."
ZH_REASONING = (
    f"好的，我来看一下这道题。\n\n题目是：{CMATH[0]['question']}\n\n"
    "设剩下没有看的页数为 $x$，根据题意 $x = 99 - 90$。\n\n"
    "设总页数为 total，已经看过的为 used，那么剩下的就是 total - used，也就是 $\\frac{99-90}{1} = 9$。\n\n"
    "验算一下：$90 + 9 = 99$，和题目一致。")
ZH_ANSWER = "所以答案是 $\\boxed{9}$。"
ZH_PARAGRAPH = "我们先计算每天剩下的鸡蛋数量，然后再乘以单价，这样就能得到总的收入。"
FR_SENTENCE = "Nous devons maintenant calculer le nombre total d'œufs vendus au marché."
EN_PARAGRAPH = "Let me re-check the computation step by step to make sure nothing is off here."


def trace(reasoning, answer, **kw):
    """A VerifiedRollout with token counts as a tokenizer would roughly give them."""
    kw.setdefault("completion", f"<think>\n{reasoning}\n</think>\n\n{answer}")
    kw.setdefault("prompt_tokens", F.estimate_tokens(kw["prompt"]))
    kw.setdefault("completion_tokens", F.estimate_tokens(kw["completion"]))
    return verified(reasoning=reasoning, answer=answer, **kw)


def en_trace(reasoning=EN_REASONING, answer=EN_ANSWER, **kw):
    kw.setdefault("prompt", GSM8K[0]["question"])
    return trace(reasoning, answer, **kw)


def zh_trace(reasoning=ZH_REASONING, answer=ZH_ANSWER, **kw):
    kw.setdefault("language", "zh")
    kw.setdefault("prompt", CMATH[0]["question"])
    return trace(reasoning, answer, **kw)


def insert_paragraph(reasoning, passage, at=2):
    paragraphs = reasoning.split("\n\n")
    return "\n\n".join(paragraphs[:at] + [passage] + paragraphs[at:])


@pytest.fixture(scope="module")
def identifier():
    return LanguageIdentifier().load()


@pytest.fixture(scope="module")
def rules(identifier):
    return rules_for(FilterConfig(), identifier)


def failing(record, rules):
    failure = first_failure(record, rules)
    return failure[1] if failure else None


# -- rule tables ------------------------------------------------------------------------------------

@pytest.mark.parametrize("record, expected", [
    (en_trace(), None),
    (zh_trace(), None),
    (en_trace(finish_reason="length"), "truncated"),
    (en_trace(verdict="incorrect"), "incorrect"),
    (en_trace(answer=""), "missing_answer"),
    (en_trace(answer="  \n"), "missing_answer"),
    (en_trace(reasoning=""), "empty_reasoning"),
], ids=["en-clean", "zh-clean", "truncated", "incorrect", "no-answer", "blank-answer", "empty-reasoning"])
def test_truncation_and_format(record, expected, rules):
    assert failing(record, rules) == expected


@pytest.mark.parametrize("completion, expected", [
    (f"<think>\n{EN_REASONING}\n</think>\n\n{EN_ANSWER}", None),
    (f"{EN_REASONING}\n</think>\n\n{EN_ANSWER}", None),  # the chat template opened <think>
    (f"{EN_REASONING}\n\n{EN_ANSWER}", None),  # untagged output is allowed unless require_think
    (f"<think>\n{EN_REASONING}\n\n{EN_ANSWER}", "unbalanced_think"),  # never closed
    (f"<think>\n{EN_REASONING}\n</think>\n<think>more</think>\n{EN_ANSWER}", "unbalanced_think"),
    (f"</think>\n{EN_REASONING}\n<think>\n{EN_ANSWER}", "unbalanced_think"),
])
def test_think_tags(completion, expected):
    measured = F.check_think_tags(en_trace(completion=completion))
    assert measured.reason == expected


def test_require_think_drops_untagged_output():
    config = FilterConfig(require_think=True)
    assert F.check_think_tags(en_trace(completion=EN_REASONING), config).reason == "missing_think"
    assert F.check_think_tags(en_trace(), config).reason is None


@pytest.mark.parametrize("answer, expected", [
    ("So the answer is $\\boxed{18}$.", None),
    ("$\\boxed{18}$, that is, $\\boxed{ 18 }$ dollars.", None),  # the same answer twice
    ("$\\boxed{\\dfrac{1}{2}}$ or equivalently $\\boxed{\\frac{1}{2}}$", None),
    ("It is $\\boxed{18}$... no wait, $\\boxed{16}$.", "conflicting_answers"),
    ("(a) $\\boxed{3}$ (b) $\\boxed{5}$", "conflicting_answers"),
])
def test_conflicting_boxed_answers(answer, expected):
    measured = F.check_conflicting_answers(en_trace(answer=answer))
    assert measured.reason == expected
    if expected:
        assert "2 different boxed answers > 1" in measured.detail


def test_multi_part_answers_can_be_allowed():
    record = en_trace(answer="(a) $\\boxed{3}$ (b) $\\boxed{5}$")
    assert F.check_conflicting_answers(record, FilterConfig(max_distinct_boxed=2)).reason is None


@pytest.mark.parametrize("config, fields, expected", [
    (FilterConfig(), {}, None),
    (FilterConfig(max_reasoning_tokens=20), {}, "reasoning_too_long"),
    (FilterConfig(min_reasoning_tokens=10_000), {}, "reasoning_too_short"),
    (FilterConfig(max_prompt_tokens=5), {"prompt_tokens": 6}, "prompt_too_long"),
    (FilterConfig(max_prompt_tokens=5), {"prompt_tokens": 0}, "prompt_too_long"),  # estimated from the text
    (FilterConfig(min_answer_tokens=50), {}, "answer_too_short"),
    (FilterConfig(max_answer_tokens=3), {}, "answer_too_long"),
])
def test_length_bounds(config, fields, expected):
    measured = F.check_length(en_trace(**fields), config)
    assert measured.reason == expected
    if expected:
        assert re.search(r"\d+ tokens [<>] (min|max)_\w+_tokens \d+", measured.detail)


def test_token_lengths_use_the_records_counts():
    tokens, method = F.token_lengths(en_trace(prompt_tokens=40, completion_tokens=300))
    assert method == "counted"
    assert tokens["prompt"] == 40 and tokens["reasoning"] + tokens["answer"] == 300
    assert tokens["reasoning"] > 10 * tokens["answer"]


def test_estimate_tokens_counts_cjk_characters_one_each():
    assert F.estimate_tokens("abcd" * 10) == 10
    assert F.estimate_tokens("我们计算") == 4
    assert F.estimate_tokens("") == 0


LONG_PARAGRAPH = " ".join(["The total is the sum of every part we found so far"] * 45)  # 540 words
CODE_BLOCK = "Let me compute it in Python:\n\n```python\nprint(16 - 3 - 4)\n```\n\nIt prints 9."
MARKDOWN = "\n".join(f"## Step {i}\n- **Compute** the **value**\n- **Check** it" for i in range(6))


@pytest.mark.parametrize("reasoning, fields, expected", [
    (EN_REASONING, {}, None),
    (insert_paragraph(EN_REASONING, LONG_PARAGRAPH), {}, "long_paragraph"),
    (insert_paragraph(EN_REASONING, CODE_BLOCK), {}, "code_in_math"),
    (insert_paragraph(EN_REASONING, CODE_BLOCK), {"domain": "code"}, None),
    (insert_paragraph(EN_REASONING, MARKDOWN), {}, "markdown_overuse"),
    (EN_REASONING.replace("eggs", "eggs\x00\x01"), {}, "garbage_characters"),
    (EN_REASONING.replace("She", "\ufffdShe\ufffd"), {}, "garbage_characters"),
    (EN_REASONING.replace("She", "She\u200b", 1), {}, None),  # one zero-width space is tolerated
], ids=["clean", "long-paragraph", "code-fence", "code-domain", "markdown", "controls", "replacement",
        "one-zero-width"])
def test_readability(reasoning, fields, expected, rules):
    assert failing(en_trace(reasoning=reasoning, **fields), rules) == expected


def test_readability_details_carry_the_numbers():
    record = en_trace(reasoning=insert_paragraph(EN_REASONING, LONG_PARAGRAPH))
    assert F.check_long_paragraph(record).detail == "paragraph of 540 words > 400"
    markdown = F.check_markdown_overuse(en_trace(reasoning=insert_paragraph(EN_REASONING, MARKDOWN)))
    assert markdown.numbers["markdown_elements"] == 6 + 12 + 18  # headings, bullets, bold spans


LOOP = "Wait, let me check that again. " * 12
REPEATED_STEP = "She makes 9 * 2 = $18 every day at the farmer's market."
MATH_SOLUTION = MATH500[1]["solution"]


@pytest.mark.parametrize("record, expected", [
    (en_trace(), None),
    (en_trace(reasoning=MATH_SOLUTION, answer="$\\boxed{p - q}$"), None),  # LaTeX-heavy real solution
    (zh_trace(), None),
    (en_trace(reasoning=insert_paragraph(EN_REASONING, "\n".join([REPEATED_STEP] * 8))), "repeated_lines"),
    (en_trace(reasoning="\n\n".join([EN_REASONING.split("\n\n")[2]] * 4 + ["Done."])), "repeated_paragraphs"),
    (en_trace(reasoning=LONG_REASONING + " " + "so the answer is so the answer is " * 15 + "18."), "repeated_ngrams"),
    (en_trace(reasoning=EN_REASONING + "\n\n" + LOOP), "looping_tail"),
], ids=["gsm8k", "math500", "cmath", "lines", "paragraphs", "ngrams", "tail-loop"])
def test_repetition(record, expected, rules):
    assert failing(record, rules) == expected


def test_tail_loop_finds_period_and_repeats():
    assert F.tail_loop("Some reasoning. " + "ab" * 30) == (2, 30)
    assert F.tail_loop(EN_REASONING + "\n\n" + LOOP) == (31, 11)  # the first copy follows a line break
    assert F.tail_loop(EN_REASONING)[1] < 2
    assert F.tail_loop("") == (0, 0)


def test_ngram_bound_never_hides_a_failure():
    """The bound only skips counting; the decision equals counting every n-gram."""
    config = FilterConfig()
    for reasoning in (LONG_REASONING, LONG_REASONING + " so the answer is" * 12,
                      LONG_REASONING + " so the answer is" * 25, " ".join(["the cat sat on the mat"] * 40)):
        record = en_trace(reasoning=reasoning)
        words = F.view(record).reasoning_tokens
        total = sum(map(len, words))
        exact = any(F.top_ngram_fraction(words, n, total) > limit
                    for n, limit in zip(range(2, 5), config.max_top_ngram_fractions))
        assert (F.check_ngram_repetition(record, config).reason == "repeated_ngrams") is exact


def _filler(count: int, start: int = 0) -> list:
    """``count`` distinct five-letter words."""
    return ["".join(chr(97 + (i // 26 ** k) % 26) for k in range(5)) for i in range(start, start + count)]


def test_ngram_bound_counts_a_word_repeated_in_a_row():
    """"wait wait wait" twenty times among distinct words: the 2-gram (wait, wait) covers
    more than 20% of the word characters although no two different words do."""
    parts = []
    for run in range(20):
        parts += ["wait"] * 3 + _filler(13, start=13 * run)
    record = en_trace(reasoning=" ".join(parts))
    measured = F.check_ngram_repetition(record)
    assert measured.reason == "repeated_ngrams" and "top 2-gram" in measured.detail, measured
    assert measured.numbers["top_2gram_fraction"] == pytest.approx(40 * 8 / 1540, abs=1e-4)


def test_ngram_bounds_are_upper_bounds():
    """Every skipped count's bound is at least the exact ratio, on seeded random texts with
    few distinct words (many repeats, runs and self-pairs)."""
    rng = random.Random(7)
    for trial in range(200):
        vocabulary = _filler(rng.randint(2, 12))
        words = [w.encode() for w in rng.choices(vocabulary, k=rng.randint(200, 400))]
        total = sum(map(len, words))
        largest_word, largest_bigram = F.ngram_bounds(words)
        counts = collections.Counter(words)
        assert largest_word == max(count * len(word) for word, count in counts.items())
        exact = {n: F.top_ngram_fraction(words, n, total) for n in (2, 3, 4)}
        assert exact[2] * total <= largest_bigram
        assert exact[3] * total <= largest_bigram + largest_word
        assert exact[4] * total <= 2 * largest_bigram
    assert F.ngram_bounds([]) == (0, 0) and F.ngram_bounds([b"once"]) == (4, 0)


@pytest.mark.parametrize("parts, fraction", [
    (["a", "b", "c"], 0.0),
    (["abc", "abc", "de", ""], 3 / 8),
    (["", "  "], 0.0),
])
def test_duplicate_fraction(parts, fraction):
    assert F.duplicate_fraction(parts) == pytest.approx(fraction)


# -- language mixing ----------------------------------------------------------------------------------

ZH_WITH_ENGLISH_VARS = ZH_REASONING + "\n\n线段 AB 的长度是 5 cm，用 f(x) 表示，按最小公倍数 (LCM) 来算。"
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


def test_language_mixing_detail_names_the_numbers(identifier):
    meter = MixingMeter(identifier)
    record = en_trace(reasoning=insert_paragraph(EN_REASONING, ZH_PARAGRAPH))
    measured = F.check_language_mixing(record, FilterConfig(min_share_units=0), meter)
    assert measured.reason == "language_mixing"
    assert re.fullmatch(r"target-language \(en\) share 0\.\d\d < 0\.95 over \d+ words", measured.detail)
    french = F.check_language_mixing(en_trace(reasoning=EN_REASONING.replace("Wait,", FR_SENTENCE + " Wait,")),
                                     FilterConfig(min_target_share=0.5), meter)
    assert french.numbers["longest_foreign_run"]["language"] == "fr"
    assert french.detail.startswith('12-word passage in fr > 4 (target en): "Nous devons')


def test_target_language_comes_from_config_record_prompt_or_fallback(identifier):
    record = zh_trace(language=None)
    assert F.target_language(record, FilterConfig(), identifier) == ("zh", "prompt")
    assert F.target_language(zh_trace(), FilterConfig(), identifier) == ("zh", "record")
    assert F.target_language(record, FilterConfig(target_language="en"), identifier) == ("en", "config")
    bare = en_trace(prompt="$x + 1 = 2$", language=None)
    assert F.target_language(bare, FilterConfig(fallback_language="de"), identifier) == ("de", "fallback")


@pytest.mark.parametrize("prompt, language", [
    (GSM8K[0]["question"], "en"), (CMATH[0]["question"], "zh"), (MATH500[0]["problem"], "en"),
    ("Calculez la somme des nombres de 1 à 10 et donnez le résultat.", "fr"), ("$x^2$", None), ("", None),
])
def test_detect_prompt_language(prompt, language, identifier):
    assert detect_prompt_language(prompt, identifier) == language


def test_prose_text_drops_latex_code_and_keeps_currency():
    text = "So $x = 2.$ Then \\[y^2\\] and `code` and $5 and $7 left.\n```\nprint(1)\n```"
    prose = prose_text(text)
    assert "x = 2" not in prose and "y^2" not in prose and "code" not in prose and "print" not in prose
    assert "$5 and $7 left" in prose
    assert "So . Then" in prose.replace("  ", " ")  # the full stop inside the maths ends the sentence


def test_langmix_labelled_set_precision_and_recall(identifier, capsys):
    with open(LABELLED, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    assert len(rows) >= 200
    config = FilterConfig()
    meter = MixingMeter(identifier, config.max_foreign_run_words, config.min_detect_probability)
    predicted = [F.check_language_mixing(F.record_from_row(r), config, meter).reason == "language_mixing"
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


# -- robustness ----------------------------------------------------------------------------------------

MEGABYTE = ("The answer follows from the sum. 我们计算。 $x^2$ " * 20_000)[:1_000_000]


@pytest.mark.parametrize("text", ["", "   \n\t ", "😀🎉🙂" * 50, "\x00\x01", MEGABYTE],
                         ids=["empty", "whitespace", "emoji", "controls", "1MB"])
def test_no_exceptions_on_odd_inputs(text, identifier):
    config = FilterConfig()
    filters = F.filters_for(config, identifier)
    records = [en_trace(reasoning=text, answer=text, completion=text, prompt=text, language=None)]
    if len(text) < 1000:
        records += [en_trace(reasoning=text), en_trace(answer=text), zh_trace(reasoning=text)]
    for record in records:
        explained = explain_record(record, config, filters)
        assert len(explained["filters"]) == len(filters)
        assert explained["decision"] in ("keep", "drop")
        json.dumps(explained)  # everything in it can be printed


def test_bare_rows_missing_fields_are_explained(identifier):
    config = FilterConfig()
    filters = F.filters_for(config, identifier)
    explained = explain_record(F.record_from_row({"completion": "2 + 3 = 5. The answer is \\boxed{5}."}),
                               config, filters)
    by_name = {f["filter"]: f for f in explained["filters"]}
    assert explained["decision"] == "keep"
    assert by_name["verdict"]["detail"] == "not verified: no verdict"
    assert by_name["language"]["target_from"] == "fallback"


# -- config -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"min_target_share": 1.5}, "min_target_share: must be between 0 and 1"),
    ({"max_paragraph_words": -1}, "max_paragraph_words: must be >= 0"),
    ({"min_reasoning_tokens": 10, "max_reasoning_tokens": 5}, "min_reasoning_tokens: 10 is above"),
    ({"max_top_ngram_fractions": (0.2, 0.1)}, "max_top_ngram_fractions: expected 3 fractions"),
    ({"keep_verdicts": ("correct", "corect")}, "keep_verdicts: unknown verdict(s) 'corect'; expected some of correct"),
    ({"target_language": " "}, "target_language: expected a language code"),
    ({"keep_verdicts": ()}, "keep_verdicts"),
])
def test_config_errors_name_the_field(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        FilterConfig(**kwargs)


def test_config_loads_from_yaml_mapping():
    config = build_dataclass(FilterConfig, {"max_top_ngram_fractions": [0.3, 0.25, 0.2], "target_language": "zh",
                                            "min_target_share": 0.9})
    assert config.max_top_ngram_fractions == (0.3, 0.25, 0.2) and config.target_language == "zh"
    with pytest.raises(ConfigError, match="max_foreign_run_words"):
        build_dataclass(FilterConfig, {"max_foreign_run_words": -3})


def test_switched_off_filters_are_not_run():
    names = [f.name for f in F.filters_for(FilterConfig(check_language=False, max_paragraph_words=0,
                                                          tail_loop_min_repeats=0, code_free_domains=()))]
    assert "language" not in names and "paragraphs" not in names and "tail_loop" not in names
    assert "code" not in names and names[:3] == ["truncation", "verdict", "answer"]


# -- explain ------------------------------------------------------------------------------------------------

def _explain_rows():
    mixed = insert_paragraph(EN_REASONING, ZH_PARAGRAPH)
    return [
        {"rollout_id": "a", "prompt": GSM8K[0]["question"],
         "completion": f"<think>\n{EN_REASONING}\n</think>\n\n{EN_ANSWER}", "finish_reason": "stop"},
        {"rollout_id": "b", "reasoning": mixed, "answer": EN_ANSWER, "language": "en"},
        {"rollout_id": "c", "completion": f"<think>\n{EN_REASONING}", "finish_reason": "length"},
        {"id": "d", "prompt": CMATH[0]["question"], "completion": f"<think>{ZH_REASONING}</think>{ZH_ANSWER}"},
    ]


def test_explain_file_jsonl_in_input_order(tmp_path):
    path = tmp_path / "rollouts.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in _explain_rows()]
    path.write_text("\n".join(lines[:2] + ["{not json"] + lines[2:]) + "\n", encoding="utf-8")
    out = list(explain_file(FilterConfig(), str(path)))
    assert [o.get("id") for o in out] == ["a", "b", None, "c", "d"]
    assert [o["line"] for o in out] == [1, 2, 3, 4, 5]
    assert out[2]["error"].startswith("invalid_json")
    assert [o.get("reason") for o in out] == [None, "language_mixing", None, "truncated", None]
    language = [f for f in out[1]["filters"] if f["filter"] == "language"][0]
    assert language["decision"] == "drop" and language["target_share"] < language["min_target_share"]
    assert "share" in out[1]["detail"] and "< 0.95" in out[1]["detail"]
    assert [f["filter"] for f in out[0]["filters"]] == [f.name for f in F.filters_for(FilterConfig())]
    assert all(f["decision"] == "keep" for f in out[0]["filters"])
    drops = [f["reason"] for f in out[3]["filters"] if f["decision"] == "drop"]
    assert drops == ["truncated", "missing_answer", "unbalanced_think"]  # every filter reports, not just the first


def test_explain_file_parquet(tmp_path):
    rows = _explain_rows()
    columns = ["rollout_id", "id", "prompt", "completion", "reasoning", "answer", "finish_reason", "language"]
    table = pa.table({c: [r.get(c) for r in rows] for c in columns})
    path = tmp_path / "rollouts.parquet"
    pq.write_table(table, path)
    out = list(explain_file(FilterConfig(), str(path)))
    assert [o["id"] for o in out] == ["a", "b", "c", "d"]
    assert [o["reason"] for o in out] == [None, "language_mixing", "truncated", None]


# -- the transform ------------------------------------------------------------------------------------------

def pipeline_records():
    return [
        en_trace(sample_index=0),
        zh_trace(sample_index=1),
        en_trace(sample_index=2, finish_reason="length"),
        en_trace(sample_index=3, reasoning=insert_paragraph(EN_REASONING, ZH_PARAGRAPH)),
        en_trace(sample_index=4, reasoning=EN_REASONING.replace("Wait,", FR_SENTENCE + " Wait,")),
        en_trace(sample_index=5, reasoning=EN_REASONING + "\n\n" + LOOP),
        en_trace(sample_index=6, answer="It is $\\boxed{18}$, no, $\\boxed{16}$."),
        zh_trace(sample_index=7, reasoning=ZH_WITH_ENGLISH_VARS),
    ]


EXPECTED_REJECTIONS = [(2, "filter_truncation", "truncated"), (3, "filter_language", "language_mixing"),
                       (4, "filter_language", "language_mixing"), (5, "filter_repetition", "looping_tail"),
                       (6, "filter_format", "conflicting_answers")]


def test_plain_rules_agree_with_the_expected_decisions(rules):
    records = pipeline_records()
    got = [(i, *first_failure(r, rules)[:2]) for i, r in enumerate(records) if first_failure(r, rules)]
    assert got == EXPECTED_REJECTIONS


def run_filter_pipeline(options):
    records = pipeline_records()
    ids = [r.rollout_id for r in records]
    kept_ids = [ids[i] for i in (0, 1, 7)]
    rejected = [(ids[i], step, reason) for i, step, reason in EXPECTED_REJECTIONS]
    pipeline = test_pipeline.TestPipeline(options=options, blocking=False)
    outputs = pipeline | beam.Create(records) | FilterRollouts(FilterConfig())
    assert_that(outputs.kept | beam.Map(lambda r: r.rollout_id), equal_to(kept_ids), label="kept")
    assert_that(outputs.rejected | beam.Map(lambda r: (r.record_id, r.step, r.reason)), equal_to(rejected),
                label="rejected")
    assert_that(outputs.dead, equal_to([]), label="dead")
    assert_that(outputs.rejected | beam.Filter(lambda r: r.reason == "language_mixing")
                | beam.Map(lambda r: (r.stage, bool(re.search(r"share 0\.\d\d < 0\.95|passage in \w+ > 4", r.detail)),
                                      json.loads(r.payload)["rollout_id"] == r.record_id)),
                equal_to([("curate", True, True)] * 2), label="details")
    result = pipeline.run()
    result.wait_until_finish()
    counters = result.metrics().query(MetricsFilter().with_namespace("curate"))["counters"]
    return {c.key.metric.name: c.committed for c in counters}


def test_filter_rollouts_pipeline_counts_every_reason():
    counts = run_filter_pipeline(PipelineOptions(["--runner=DirectRunner"]))
    assert counts == {"dropped_truncated": 1, "dropped_language_mixing": 2, "dropped_looping_tail": 1,
                      "dropped_conflicting_answers": 1}


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["multi_threading", "multi_processing"])
def test_same_decisions_under_every_direct_runner_mode(mode):
    options = PipelineOptions(["--runner=DirectRunner", f"--direct_running_mode={mode}", "--direct_num_workers=2"])
    counts = run_filter_pipeline(options)
    assert counts == {"dropped_truncated": 1, "dropped_language_mixing": 2, "dropped_looping_tail": 1,
                      "dropped_conflicting_answers": 1}


def test_rule_objects_are_plain_functions_of_a_record(rules):
    step, rule = rules[-1]
    assert step == "filter_language"
    assert rule(en_trace()) is None
    assert rule(zh_trace(reasoning=insert_paragraph(ZH_REASONING, EN_PARAGRAPH)))[0] == "language_mixing"
