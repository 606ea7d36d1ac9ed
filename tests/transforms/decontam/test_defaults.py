"""The shipped benchmark list: found in the real data folder's layout, a required one
missing is an error naming where it was looked for, ``skip`` and ``paths`` change it."""
import os

import pytest

from transforms.decontam.benchmarks import read_benchmark
from transforms.decontam.defaults import NAMES, default_benchmarks

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "shared", "data")


def test_the_real_data_folder_holds_every_required_benchmark():
    found = default_benchmarks(DATA, {}, (), "problems.decontam")
    assert [b.name for b in found] == ["aime24", "amc23", "math500", "gsm8k_test", "olympiadbench", "minerva"]
    sizes = {b.name: len(read_benchmark(b)) for b in found}
    assert sizes == {"aime24": 30, "amc23": 40, "math500": 500, "gsm8k_test": 1319, "olympiadbench": 675,
                     "minerva": 272}


def test_a_missing_required_benchmark_is_an_error_and_skip_or_paths_settle_it(tmp_path):
    with pytest.raises(ValueError, match=r"benchmarks not found: aime24 \(looked for aime24/test.jsonl"):
        default_benchmarks(str(tmp_path), {}, (), "problems.decontam")
    aime = os.path.join(DATA, "qwen_math_eval", "aime24", "test.jsonl")
    found = default_benchmarks(str(tmp_path), {"aime24": aime}, [n for n in NAMES if n != "aime24"], "x")
    assert [(b.name, b.path) for b in found] == [("aime24", aime)]
    assert default_benchmarks("", {}, (), "x") == []  # no folder: nothing checked


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match=r"unknown benchmark\(s\) \['aime2024'\]"):
        default_benchmarks(DATA, {}, ("aime2024",), "problems.decontam")
