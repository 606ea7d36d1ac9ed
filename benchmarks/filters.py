"""Throughput of the chain-of-thought filter stage, next to langdetect on whole texts.

Builds ~5 KB traces from the labelled set (tests/data/langmix_traces.jsonl, itself
built from real problems in ../shared/data): clean English, clean Chinese, and
mixed ones (a clean trace of the language plus one labelled mixed trace), then
measures, on one core (CPU time of this process, so other load on the machine
counts little):

- the whole filter stage: every rule of ``rules_for(FilterConfig())`` through
  ``first_failure``, as ``FilterRollouts`` runs it (language identifier loaded
  once, as in ``DoFn.setup()``);
- the language-mixing check alone, and its precision and recall on these traces;
- langdetect on each whole text (the document-level baseline: a trace is
  "mixed" when the language it reports differs from the target);
- counting CJK vs Latin code points (the cheapest possible script check).

    cd /work/main && .venv/bin/python benchmarks/filters.py [--traces 400] [--repeats 3]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.factories import verified  # noqa: E402
from transforms.filters import FilterConfig, check_language_mixing, first_failure, rules_for, view  # noqa: E402
from transforms.langmix import LanguageIdentifier, MixingMeter  # noqa: E402

LABELLED = os.path.join(ROOT, "tests", "data", "langmix_traces.jsonl")
CMATH = os.path.join(ROOT, "..", "shared", "data", "qwen_math_eval", "cmath", "test.jsonl")
TRACE_CHARS = 5000
ANSWERS = {"en": "So the final answer is $\\boxed{42}$.", "zh": "所以答案是 $\\boxed{42}$。"}
_CJK = re.compile(r"[\u4e00-\u9fff]")
_NOT_LETTERS = bytes(set(range(128)) - set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))


def load_labelled():
    with open(LABELLED, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def distinct_paragraphs(pool, start: int, extra):
    """~TRACE_CHARS of distinct paragraphs from the pool's traces (then ``extra`` ones)."""
    paragraphs, seen = [], set()
    candidates = [p for k in range(len(pool)) for p in pool[(start + 7 * k) % len(pool)]["reasoning"].split("\n\n")]
    for paragraph in candidates + [extra[(start + k) % len(extra)] for k in range(len(extra))]:
        if sum(map(len, paragraphs)) >= TRACE_CHARS:
            break
        if paragraph not in seen:
            seen.add(paragraph)
            paragraphs.append(paragraph)
    return paragraphs


def build_traces(count: int):
    """``count`` ~5 KB traces as (record, target, mixed), a quarter of them mixed."""
    rows = load_labelled()
    clean = {lang: [r for r in rows if not r["mixed"] and r["language"] in (lang, None)
                    and r["kind"].startswith(lang)] for lang in ("en", "zh")}
    mixed = [r for r in rows if r["mixed"] and r["kind"][:2] in ("en", "zh") and "prompt" not in r["kind"]]
    with open(CMATH, encoding="utf-8") as fh:  # more real Chinese text for 5 KB Chinese traces
        cmath = [f"再看一下类似的条件：{json.loads(line)['question']}" for line in fh]
    traces = []
    for i in range(count):
        lang = "zh" if i % 5 == 4 else "en"
        pool = [r for r in clean[lang] if r["kind"].startswith(lang)]
        paragraphs = distinct_paragraphs(pool, start=i, extra=cmath if lang == "zh" else [])
        is_mixed = i % 4 == 3
        if is_mixed:
            donors = [r for r in mixed if r["kind"].startswith(lang)]
            paragraphs.insert(len(paragraphs) // 2, donors[i % len(donors)]["reasoning"])
        reasoning = "\n\n".join(paragraphs)
        answer = ANSWERS[lang]
        record = verified(i, prompt=pool[i % len(pool)]["prompt"], language=lang, reasoning=reasoning,
                          answer=answer, completion=f"<think>\n{reasoning}\n</think>\n\n{answer}",
                          completion_tokens=len(reasoning) // 4)
        traces.append((record, lang, is_mixed))
    return traces


def per_second(fn, items, repeats: int) -> float:
    """Items per CPU-second of ``fn`` over ``items``, best of ``repeats``."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for item in items:
            fn(item)
        best = min(best, time.process_time() - start)
    return len(items) / best if best > 0 else float("inf")


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
    parser.add_argument("--langdetect-traces", type=int, default=60, help="langdetect is slow: fewer traces")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    traces = build_traces(args.traces)
    records = [t[0] for t in traces]
    avg_chars = sum(len(r.reasoning) + len(r.answer) for r in records) / len(records)
    config = FilterConfig()
    identifier = LanguageIdentifier().load()
    rules = rules_for(config, identifier)
    meter = MixingMeter(identifier, config.max_foreign_run_words, config.min_detect_probability)

    stage = per_second(lambda r: first_failure(r, rules), records, args.repeats)
    language = per_second(lambda r: check_language_mixing(view(r), config, meter), records, args.repeats)
    ours = [check_language_mixing(r, config, meter).reason == "language_mixing" for r in records]
    ours_p, ours_r, positives = accuracy(ours, [t[2] for t in traces])
    drops = [first_failure(r, rules) for r in records]
    stage_reasons = {}
    for d in drops:
        stage_reasons[d[1] if d else "kept"] = stage_reasons.get(d[1] if d else "kept", 0) + 1

    subset = traces[: args.langdetect_traces]

    def whole_text(t):
        found = identifier.detect(t[0].reasoning + "\n\n" + t[0].answer)
        return found[0] if found else None

    langdetect_rate = per_second(whole_text, subset, 1)
    ld = [whole_text(t) != t[1] for t in subset]
    ld_p, ld_r, ld_pos = accuracy(ld, [t[2] for t in subset])

    def count_scripts(r):
        text = r.reasoning
        return len(_CJK.findall(text)), len(text.encode("ascii", "ignore").translate(None, _NOT_LETTERS))

    scripts = per_second(count_scripts, records, args.repeats)

    print(f"{len(records)} traces of {avg_chars:,.0f} characters on average "
          f"({positives} mixed); CPU time of one process, best of {args.repeats}")
    print(f"{'method':42s} {'traces/s/core':>14s} {'x langdetect':>13s} {'precision':>10s} {'recall':>7s}")
    rows = [
        ("whole filter stage (all rules)", stage, None, None),
        ("language_mixing check alone", language, ours_p, ours_r),
        (f"langdetect on whole text ({len(subset)} traces)", langdetect_rate, ld_p, ld_r),
        ("count CJK vs Latin code points", scripts, None, None),
    ]
    for name, rate, precision, recall in rows:
        p = f"{precision:10.3f}" if precision is not None else f"{'':10s}"
        r = f"{recall:7.3f}" if recall is not None else f"{'':7s}"
        print(f"{name:42s} {rate:14,.0f} {rate / langdetect_rate:13.1f} {p} {r}")
    print(f"stage decisions: {json.dumps(stage_reasons, sort_keys=True)}")
    print(f"langdetect on whole texts caught {sum(p and t for p, t in zip(ld, [t[2] for t in subset]))} "
          f"of {ld_pos} mixed traces")


if __name__ == "__main__":
    main()
