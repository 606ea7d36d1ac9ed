"""The benchmarks checked by default: a shipped list of names, the files each is
usually found as (under a folder the user points at), and the field holding its
question. Nothing is downloaded: the user has the files.

The candidate paths follow the public layouts: a folder per benchmark
(``math500/test.jsonl``), Qwen2.5-Math's ``evaluation/data`` (``aime24/test.jsonl``,
also below ``qwen_math_eval/``), or one file per benchmark (``aime24.jsonl``). The first
candidate that matches a file is read. A required benchmark found nowhere is an error
(name it in ``skip`` to leave it out, or give its file in ``paths``); GPQA and
LiveCodeBench are read where provided."""
from __future__ import annotations

import glob
import os
import typing
from typing import Dict, List, Sequence, Tuple

from transforms.decontam.config import BenchmarkConfig


class KnownBenchmark(typing.NamedTuple):
    name: str
    candidates: Tuple[str, ...]  # paths (globs) under the benchmarks folder, tried in order
    fields: Tuple[str, ...]  # the first one a row has is the item text
    required: bool


def _layouts(*names: str) -> Tuple[str, ...]:
    out: List[str] = []
    for name in names:
        out += [f"{name}/test.jsonl", f"qwen_math_eval/{name}/test.jsonl", f"{name}.jsonl",
                f"benchmarks/{name}.jsonl", f"{name}/*.parquet", f"{name}/test-*.parquet"]
    return tuple(out)


DEFAULT_BENCHMARKS: Tuple[KnownBenchmark, ...] = (
    KnownBenchmark("aime24", _layouts("aime24", "aime_2024"), ("problem", "question"), True),
    KnownBenchmark("amc23", _layouts("amc23", "amc_2023"), ("problem", "question"), True),
    KnownBenchmark("math500", _layouts("math500", "MATH-500", "math_500"), ("problem",), True),
    KnownBenchmark("gsm8k_test", _layouts("gsm8k") + ("gsm8k/main/test-*.parquet",), ("question",), True),
    KnownBenchmark("olympiadbench", _layouts("olympiadbench", "OlympiadBench"), ("question", "problem"), True),
    KnownBenchmark("minerva", _layouts("minerva_math", "minerva"), ("problem", "question"), True),
    KnownBenchmark("gpqa", _layouts("gpqa", "gpqa_diamond"), ("Question", "question", "problem"), False),
    KnownBenchmark("livecodebench", _layouts("livecodebench", "code_generation_lite"),
                   ("question_content", "question", "problem"), False),
)
NAMES = tuple(b.name for b in DEFAULT_BENCHMARKS)


def _found(root: str, candidates: Sequence[str]) -> str:
    for candidate in candidates:
        if glob.glob(os.path.join(root, candidate)):
            return os.path.join(root, candidate)
    return ""


def default_benchmarks(root: str, paths: Dict[str, str], skip: Sequence[str], owner: str) -> List[BenchmarkConfig]:
    """The shipped benchmarks found under ``root`` (``paths`` gives one its own file,
    ``skip`` leaves one out); ValueError naming every required one found nowhere."""
    unknown = sorted(set(paths) - set(NAMES)) + sorted(set(skip) - set(NAMES))
    if unknown:
        raise ValueError(f"{owner}: unknown benchmark(s) {unknown}; the shipped list is {list(NAMES)}")
    chosen, missing = [], []
    for known in DEFAULT_BENCHMARKS:
        if known.name in skip:
            continue
        path = paths.get(known.name) or (_found(root, known.candidates) if root else "")
        if path:
            chosen.append(BenchmarkConfig(known.name, path, known.fields))
        elif known.required and root:
            missing.append(f"{known.name} (looked for {', '.join(known.candidates[:3])}, … under {root})")
    if missing:
        raise ValueError(f"{owner}: benchmarks not found: {'; '.join(missing)}; give a file with "
                         f"{owner}.paths.NAME or leave one out with {owner}.skip")
    return chosen
