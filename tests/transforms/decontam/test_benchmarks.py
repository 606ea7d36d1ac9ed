"""Reading benchmarks: a Parquet benchmark with its own text field; path errors name
the benchmark."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from transforms.decontam.benchmarks import benchmark_inputs, read_benchmark
from transforms.decontam.config import BenchmarkConfig, DecontamConfig
from transforms.decontam.index import build_index


def test_benchmark_from_parquet_with_its_own_field(tmp_path):
    path = tmp_path / "gpqa.parquet"
    questions = ["What is the ground state term symbol of a carbon atom in its lowest energy configuration?",
                 "Which reagent converts a primary alcohol into an aldehyde without over oxidation to the acid?"]
    pq.write_table(pa.table({"Question": questions, "Record ID": ["r1", "r2"]}), path)
    bench = BenchmarkConfig("gpqa", str(path), fields=("Question",))
    assert read_benchmark(bench) == [("1", questions[0]), ("2", questions[1])]
    index = build_index(DecontamConfig(benchmarks=(bench,), ngram=8))
    assert index.match("Q: " + questions[1].lower()).item == "2"



def test_benchmark_inputs_expand_globs_and_name_the_benchmark_in_errors(tmp_path):
    for name in ("b.jsonl", "a.jsonl.gz", "c.parquet"):
        (tmp_path / name).write_bytes(b"")
    bench = BenchmarkConfig("mine", str(tmp_path / "*"))
    assert benchmark_inputs(bench) == [("jsonl", str(tmp_path / "a.jsonl.gz")), ("jsonl", str(tmp_path / "b.jsonl")),
                                       ("parquet", str(tmp_path / "c.parquet"))]
    assert benchmark_inputs(BenchmarkConfig("hub", "hf:org/set:test")) == [("hf", "hf:org/set:test")]
    gone = str(tmp_path / "none*.jsonl")
    with pytest.raises(ValueError) as info:
        benchmark_inputs(BenchmarkConfig("gone", gone))
    assert str(info.value) == f"decontaminate: benchmark 'gone': path {gone!r} matches no file"
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match=r"^decontaminate: benchmark 'odd': can't tell the format of .*notes\.txt"):
        benchmark_inputs(BenchmarkConfig("odd", str(tmp_path / "notes.txt")))
