"""The naive curation script: what a user would write before reaching for a pipeline.

Reads the rollouts of a sample stage's output (the Parquet files its manifest lists)
and, in one plain Python loop per rollout: math-verify ``parse`` of the gold answer and
of the response's answer, then ``verify``; langdetect on the thinking (mixed when it is
not the problem's language); a datasketch ``MinHash`` of the response's word 5-grams,
queried against and inserted into a ``MinHashLSH`` (threshold 0.8, 128 permutations)
of the responses kept so far. Kept: verified correct, in the right language, not a
near-duplicate. No project code is used, so the baseline owes nothing to it.

    .venv/bin/python benchmarks/naive.py --input SAMPLE_STAGE_DIR [--json OUT]
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import re

import pyarrow.parquet as pq
from datasketch import MinHash, MinHashLSH
from langdetect import DetectorFactory, detect
from langdetect.lang_detect_exception import LangDetectException
from math_verify import parse, verify

WORDS = re.compile(r"\w+")


def rollouts(stage_dir: str):
    with open(os.path.join(stage_dir, "manifest.json"), encoding="utf-8") as fh:
        manifest = json.load(fh)
    for entry in manifest["outputs"]["rollouts"]["files"]:
        path = os.path.join(stage_dir, entry["path"]) if not os.path.isabs(entry["path"]) else entry["path"]
        table = pq.read_table(path, columns=["rollout_id", "problem_id", "reference_answer", "language",
                                             "reasoning", "answer", "completion"])
        yield from table.to_pylist()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--input", required=True, help="a sample stage's output folder")
    parser.add_argument("--json", help="write the counts to this JSON file")
    args = parser.parse_args(argv)
    DetectorFactory.seed = 0
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    counts: collections.Counter = collections.Counter()
    for row in rollouts(args.input):
        counts["in"] += 1
        gold = parse(row["reference_answer"] or "")
        answer = parse(row["answer"] or "")
        if not (gold and answer and verify(gold, answer)):
            counts["not_correct"] += 1
            continue
        try:
            language = detect(row["reasoning"] or "")
        except LangDetectException:
            language = "unknown"
        if not language.startswith(row["language"] or "en"):
            counts["language"] += 1
            continue
        words = WORDS.findall(row["completion"].lower())
        sketch = MinHash(num_perm=128, seed=1)
        sketch.update_batch([" ".join(words[i:i + 5]).encode("utf-8") for i in range(max(1, len(words) - 4))])
        if lsh.query(sketch):
            counts["duplicate"] += 1
            continue
        lsh.insert(row["rollout_id"], sketch)
        counts["kept"] += 1
    print(json.dumps(dict(counts), sort_keys=True))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(dict(counts), fh, sort_keys=True)


if __name__ == "__main__":
    main()
