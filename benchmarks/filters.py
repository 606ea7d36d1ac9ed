"""Throughput of the chain-of-thought filter stage, next to langdetect on whole texts.

Builds ~5 KB traces from real text in ../shared/data and the labelled set
(tests/data/langmix_traces.jsonl): English traces of distinct GSM8K (train) and
MATH-500 worked solutions (60%), the same with one hard case from the labelled
set, an accented name or a short CJK gloss (10%), Chinese traces of CMATH
problems and labelled Chinese reasoning (15%), and mixed ones: an English or
Chinese trace with one labelled mixed trace inside (15%). It then measures, on
one core (CPU seconds of this process, best of ``--repeats``):

- the whole filter stage: every rule of ``rules_for(FilterConfig())`` through
  ``first_failure``, as ``FilterRollouts`` runs it (language identifier loaded
  once, as in ``DoFn.setup()``), over all traces and per kind;
- the language-mixing check alone, with its precision and recall here;
- langdetect as it ships (all 55 profiles, seeded) on each whole text: the
  document-level baseline, where a trace is "mixed" when the language it reports
  is not the target;
- counting CJK vs Latin code points (the cheapest possible script check).

    cd /work/main && .venv/bin/python benchmarks/filters.py [--traces 400] [--repeats 3]
"""
from __future__ import annotations

import argparse
import collections
import itertools
import json
import os
import re
import sys
import time

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.factories import verified  # noqa: E402
from transforms.filters.config import FilterConfig  # noqa: E402
from transforms.filters.language import check_language_mixing  # noqa: E402
from transforms.filters.registry import first_failure, rules_for  # noqa: E402
from transforms.text.language import LanguageIdentifier  # noqa: E402
from transforms.text.mixing import MixingMeter  # noqa: E402
from transforms.text.prose import normalize_language  # noqa: E402
from transforms.text.views import view  # noqa: E402

LABELLED = os.path.join(ROOT, "tests", "data", "langmix_traces.jsonl")
DATA = os.path.join(ROOT, "..", "shared", "data")
TRACE_CHARS = 5000
ANSWERS = {"en": "So the final answer is $\\boxed{42}$.", "zh": "所以答案是 $\\boxed{42}$。"}
_CJK = re.compile(r"[\u4e00-\u9fff]")
_NOT_LETTERS = bytes(set(range(128)) - set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))


def load_labelled():
    with open(LABELLED, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def distinct_paragraphs(pool, start: int, step: int = 7):
    """Distinct paragraphs from ``pool`` (a list of paragraphs), ~TRACE_CHARS of them."""
    paragraphs, seen, k = [], set(), 0
    while sum(map(len, paragraphs)) < TRACE_CHARS and k < len(pool):
        paragraph = pool[(start + step * k) % len(pool)]
        k += 1
        if paragraph not in seen:
            seen.add(paragraph)
            paragraphs.append(paragraph)
    return paragraphs


def real_english_paragraphs():
    """Worked solutions of GSM8K (train) and MATH-500, as paragraphs (calculator notes removed)."""
    out = []
    with open(os.path.join(DATA, "gsm8k", "train.jsonl"), encoding="utf-8") as fh:
        for line in itertools.islice(fh, 3000):
            body = json.loads(line)["answer"].partition("####")[0]
            out.append(re.sub(r"<<[^>]*>>", "", body).strip())
    with open(os.path.join(DATA, "math500", "test.jsonl"), encoding="utf-8") as fh:
        for line in fh:
            solution = re.sub(r"\[asy\].*?\[/asy\]", "", json.loads(line)["solution"], flags=re.S)
            out += [p.strip() for p in solution.split("\n\n") if p.strip()]
    return out


#: (kind, share of the traces): plain English, English with hard cases (accented
#: names, a short CJK gloss), Chinese, and mixed English and Chinese traces.
KINDS = (("en", 0.60), ("en_hard", 0.10), ("zh", 0.15), ("en_mixed", 0.075), ("zh_mixed", 0.075))


def build_traces(count: int):
    """``count`` ~5 KB traces as (record, kind, target, mixed)."""
    rows = load_labelled()
    english = real_english_paragraphs()
    hard = [r["reasoning"] for r in rows if r["kind"] == "en_clean_extra"]
    chinese = list(dict.fromkeys(p for r in rows if r["kind"] == "zh_clean" for p in r["reasoning"].split("\n\n")))
    with open(os.path.join(DATA, "qwen_math_eval", "cmath", "test.jsonl"), encoding="utf-8") as fh:
        chinese += [json.loads(line)["question"] for line in fh]
    mixed = {lang: [r["reasoning"] for r in rows if r["mixed"] and r["kind"].startswith(lang + "+")]
             for lang in ("en", "zh")}
    kinds = [kind for kind, share in KINDS for _ in range(round(share * count))]
    traces = []
    for i, kind in enumerate(kinds):
        lang = kind[:2]
        paragraphs = distinct_paragraphs(chinese if lang == "zh" else english, start=i * 13)
        if kind == "en_hard":
            paragraphs.insert(len(paragraphs) // 2, hard[i % len(hard)])
        if kind.endswith("_mixed"):
            paragraphs.insert(len(paragraphs) // 2, mixed[lang][i % len(mixed[lang])])
        reasoning = "\n\n".join(paragraphs)
        answer = ANSWERS[lang]
        record = verified(i, prompt=rows[i % len(rows)]["prompt"], language=lang, reasoning=reasoning,
                          answer=answer, completion=f"<think>\n{reasoning}\n</think>\n\n{answer}",
                          completion_tokens=len(reasoning) // 4)
        traces.append((record, kind, lang, kind.endswith("_mixed")))
    return traces


def per_second(tasks, repeats: int):
    """Items per CPU-second of each ``(fn, items)`` in ``tasks``, best of ``repeats``.

    The tasks take turns, one pass each per round, so a burst of load on a shared
    machine slows all of them alike instead of one."""
    best = [float("inf")] * len(tasks)
    for _ in range(repeats):
        for i, (fn, items) in enumerate(tasks):
            start = time.process_time()
            for item in items:
                fn(item)
            best[i] = min(best[i], time.process_time() - start)
    return [len(items) / t if t > 0 else float("inf") for (_, items), t in zip(tasks, best)]


def accuracy(predicted, truth):
    tp = sum(p and t for p, t in zip(predicted, truth))
    fp = sum(p and not t for p, t in zip(predicted, truth))
    fn = sum(t and not p for p, t in zip(predicted, truth))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, tp + fn


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--traces", type=int, default=400)
    parser.add_argument("--langdetect-traces", type=int, default=80, help="langdetect is slow: fewer traces")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)

    traces = build_traces(args.traces)
    records = [t[0] for t in traces]
    truth = [t[3] for t in traces]
    avg_chars = sum(len(r.reasoning) + len(r.answer) for r in records) / len(records)
    config = FilterConfig()
    identifier = LanguageIdentifier().load()
    rules = rules_for(config, identifier)
    meter = MixingMeter(identifier, config.max_foreign_run_words, config.min_detect_probability)

    ours = [check_language_mixing(r, config, meter).reason == "language_mixing" for r in records]
    ours_p, ours_r, positives = accuracy(ours, truth)
    decisions = collections.Counter((first_failure(r, rules) or (None, "kept"))[1] for r in records)

    step = -(-len(traces) // args.langdetect_traces)  # spread over every kind
    subset = traces[::step]

    langdetect = DetectorFactory()  # langdetect as it ships: all 55 profiles, seeded
    langdetect.load_profile(PROFILES_DIRECTORY)
    langdetect.set_seed(0)

    def whole_text(t):
        detector = langdetect.create()
        detector.append(t[0].reasoning + "\n\n" + t[0].answer)
        return normalize_language(detector.detect())

    ld = [whole_text(t) != t[2] for t in subset]
    ld_p, ld_r, ld_pos = accuracy(ld, [t[3] for t in subset])

    def count_scripts(r):
        text = r.reasoning
        return len(_CJK.findall(text)), len(text.encode("ascii", "ignore").translate(None, _NOT_LETTERS))

    def stage_rule(r):
        return first_failure(r, rules)

    tasks = [(stage_rule, records)]
    tasks += [(stage_rule, [t[0] for t in traces if t[1] == kind]) for kind, _ in KINDS]
    tasks += [(lambda r: check_language_mixing(view(r), config, meter), records), (whole_text, subset),
              (count_scripts, records)]
    rates = per_second(tasks, args.repeats)
    stage, by_kind = rates[0], dict(zip((kind for kind, _ in KINDS), rates[1:1 + len(KINDS)]))
    language, langdetect_rate, scripts = rates[1 + len(KINDS):]

    print(f"{len(records)} traces of {avg_chars:,.0f} characters on average ({positives} mixed); "
          f"CPU seconds of one process, best of {args.repeats} interleaved rounds")
    print(f"{'method':46s} {'traces/s/core':>14s} {'x langdetect':>13s} {'precision':>10s} {'recall':>7s}")
    rows = [("whole filter stage, all rules, all traces", stage, None, None)]
    rows += [(f"  ... {kind} traces only", rate, None, None) for kind, rate in by_kind.items()]
    rows += [
        ("language_mixing check alone", language, ours_p, ours_r),
        (f"langdetect on whole texts ({len(subset)} traces)", langdetect_rate, ld_p, ld_r),
        ("count CJK vs Latin code points", scripts, None, None),
    ]
    for name, rate, precision, recall in rows:
        p = f"{precision:10.3f}" if precision is not None else f"{'':10s}"
        r = f"{recall:7.3f}" if recall is not None else f"{'':7s}"
        print(f"{name:46s} {rate:14,.0f} {rate / langdetect_rate:13.1f} {p} {r}")
    print(f"filter stage decisions: {json.dumps(dict(sorted(decisions.items())))}")
    print(f"langdetect on whole texts flagged {sum(ld)} of {len(subset)} traces and caught "
          f"{sum(p and t for p, t in zip(ld, [t[3] for t in subset]))} of the {ld_pos} mixed ones")


if __name__ == "__main__":
    main()
