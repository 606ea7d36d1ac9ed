"""Ingest: reading and mapping a work item (limits, generators, ``hf:`` sources) and the
ReadProblems pipeline on bad input, with its counters."""
from __future__ import annotations

import json
import os
import re

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"

import apache_beam as beam  # noqa: E402
import pytest  # noqa: E402
from apache_beam.metrics.metric import MetricsFilter  # noqa: E402
from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402
from apache_beam.testing.test_pipeline import TestPipeline as BeamPipeline  # noqa: E402
from apache_beam.testing.util import assert_that, equal_to  # noqa: E402

from schemas.records import DeadLetter, Problem  # noqa: E402
from transforms.core import derive_seed  # noqa: E402
from transforms.core.readers import detect_format, read_hf  # noqa: E402
from transforms.ingest.config import IngestConfig, SourceConfig  # noqa: E402
from transforms.ingest.planning import plan_work  # noqa: E402
from transforms.ingest.transform import ReadProblems, ingest_work_item  # noqa: E402

SEED = 7
HASH = "cfg0"


def _outputs(source: SourceConfig, config: IngestConfig = IngestConfig()) -> list:
    """Everything the plain reader+mapper yields for one source, in input order."""
    sources = (source,)
    return [out for item in plan_work(sources) for out in ingest_work_item(item, sources, config, SEED, HASH)]


def _write_jsonl(path, rows) -> str:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
    return str(path)


def _save_dataset(path, rows):
    import datasets

    datasets.Dataset.from_list(rows).save_to_disk(str(path))
    return str(path)


def test_read_hf_from_a_local_directory_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = tmp_path / "hub_like"
    folder.mkdir()
    _write_jsonl(folder / "train.jsonl", [{"question": "t1", "answer": "1"}, {"question": "t2", "answer": "2"}])
    _write_jsonl(folder / "test.jsonl", [{"question": "x1", "answer": "9"}])
    spec = f"hf:{folder}:test"
    assert detect_format(spec) == "hf"
    assert list(read_hf(spec)) == [(spec, 1, {"question": "x1", "answer": "9"})]
    source = SourceConfig(name="hub", path=f"hf:{folder}", limit=1)
    assert [p.prompt for p in _outputs(source)] == ["t1"]  # default split "train", limit 1


def test_limit_takes_the_first_problems_in_file_then_line_order(tmp_path):
    _write_jsonl(tmp_path / "b.jsonl", [{"question": f"b{i}", "answer": "1"} for i in range(3)])
    _write_jsonl(tmp_path / "a.jsonl", [{"question": "a0", "answer": "1"}, "{broken", {"question": "a1", "answer": "1"}])
    source = SourceConfig(name="lim", path=str(tmp_path / "*.jsonl"), limit=4)
    outs = _outputs(source)
    assert [o.prompt if isinstance(o, Problem) else o.line for o in outs] == ["a0", 2, "a1", "b0", "b1"]


# -- generators ---------------------------------------------------------------


def test_generator_source():
    generators = pytest.importorskip("transforms.ingest.generators")
    source = SourceConfig(name="gen", generator="arithmetic", count=5, difficulty=(1, 2))
    problems = _outputs(source)
    raw = generators.generate_problems("arithmetic", 5, derive_seed(SEED, "generator", "gen"), (1, 2))
    assert [(p.prompt, p.reference_answer, p.source_id) for p in problems] == [
        (r["prompt"].strip(), str(r["answer"]).strip(), str(r["id"])) for r in raw
    ]
    for problem, record in zip(problems, raw):
        assert json.loads(problem.metadata or "{}").items() >= (record.get("metadata") or {}).items()
    limited = SourceConfig(name="gen", generator="arithmetic", count=5, difficulty=(1, 2), limit=2)
    assert _outputs(limited) == problems[:2]


# -- the pipeline on bad input ------------------------------------------------

TEN_MB = 10 * 1024 * 1024


def _bad_input(tmp_path):
    """A JSONL file of good and bad lines; returns (path, good prompts by line, bad lines as (line, field, reason))."""
    lines = [
        json.dumps({"question": "What is 1+1?", "answer": "#### 2"}),  # 1 good
        '{"question": "broken", "answer": ',  # 2 invalid json
        "",  # 3 blank
        json.dumps({"answer": "#### 3"}),  # 4 missing prompt
        json.dumps({"question": 5, "answer": "#### 5"}),  # 5 wrong type
        json.dumps(["not", "an", "object"]),  # 6 not an object
        json.dumps({"question": "long", "answer": "#### 1", "pad": "x" * TEN_MB}),  # 7 10 MB line
        json.dumps({"question": "What is 2+3?", "answer": "so #### 5", "id": "q-5"}),  # 8 good, with id
        json.dumps({"question": "no gold", "answer": "forgot the marker"}),  # 9 bad value
        json.dumps({"question": "What is 10*100?", "answer": "#### 1,000"}),  # 10 good
        "   ",  # 11 blank
        json.dumps({"question": "Q", "answer": {"nested": 1}}),  # 12 wrong type
    ]
    path = tmp_path / "bad_input.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    good = {1: ("What is 1+1?", "2", "bad_input.jsonl:1"), 8: ("What is 2+3?", "5", "q-5"),
            10: ("What is 10*100?", "1000", "bad_input.jsonl:10")}
    bad = {(2, None, "invalid_json"), (4, "question", "missing_field"), (5, "question", "wrong_type"),
           (6, None, "not_an_object"), (7, None, "line_too_long"), (9, "answer", "bad_value"),
           (12, "answer", "wrong_type")}
    return str(path), good, bad, sum(1 for line in lines if line.strip())


def test_bad_input_lines_are_dead_lettered_by_the_plain_reader(tmp_path):
    path, good, bad, non_blank = _bad_input(tmp_path)
    outs = _outputs(SourceConfig(name="bad", path=path, preset="gsm8k"))
    problems = [o for o in outs if isinstance(o, Problem)]
    dead = [o for o in outs if isinstance(o, DeadLetter)]
    assert {(p.prompt, p.reference_answer, p.source_id) for p in problems} == set(good.values())
    assert {(d.line, d.field, d.error.split(":")[0]) for d in dead} == bad
    assert len(problems) + len(dead) == non_blank
    for d in dead:
        assert (d.stage, d.file, d.config_hash, d.record_id) == ("ingest", path, HASH, f"{path}:{d.line}")
        assert d.step == ("map" if d.field else "read")
        assert len(d.payload) < 5000
    too_long = next(d for d in dead if d.line == 7)
    assert too_long.payload.startswith('{"question": "long"')
    size = re.fullmatch(r"line_too_long: (\d+) bytes > max_line_bytes=1000000", too_long.error).group(1)
    assert int(size) > TEN_MB


def _run(path, options):
    """Run ReadProblems over the bad input; check outputs against the plain reader; return the counters."""
    source = SourceConfig(name="bad", path=path, preset="gsm8k")
    expected = _outputs(source)
    pipeline = BeamPipeline(options=options)
    out = pipeline | ReadProblems((source,), IngestConfig(), SEED, HASH)
    assert_that(out.kept, equal_to([o for o in expected if isinstance(o, Problem)]), label="Kept")
    assert_that(out.dead, equal_to([o for o in expected if isinstance(o, DeadLetter)]), label="Dead")
    assert_that(out.rejected, equal_to([]), label="Rejected")
    result = pipeline.run()
    result.wait_until_finish()
    counters = result.metrics().query(MetricsFilter().with_namespace("ingest"))["counters"]
    return {c.key.metric.name: c.committed for c in counters}


@pytest.mark.parametrize(
    "flags",
    [[], ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]],
    ids=["in_process", "multi_processing"],
)
def test_pipeline_on_bad_input(tmp_path, flags):
    path, good, bad, non_blank = _bad_input(tmp_path)
    counters = _run(path, PipelineOptions(["--runner=DirectRunner", *flags]))
    read_errors = sum(1 for _, field, _ in bad if field is None)  # the rest failed mapping
    assert counters == {"ingest_lines": non_blank, "ingest_problems": len(good), "ingest_dead_letters": len(bad),
                        "read.dead": read_errors, "map.dead": len(bad) - read_errors}  # RuleStep's, per step


def test_pipeline_reads_several_formats_with_limits(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    jsonl = _write_jsonl(tmp_path / "m.jsonl", [{"problem": f"p{i}", "answer": str(i)} for i in range(5)])
    parquet = str(tmp_path / "c.parquet")
    pq.write_table(pa.table({"question": ["Q1", "Q2"], "choices": [["a", "b"], ["c", "d"]], "answer": [1, 0]}), parquet)
    ds = _save_dataset(tmp_path / "ds", [{"question": "dq", "answer": 3}])
    sources = (
        SourceConfig(name="m", path=jsonl, preset="math", limit=2),
        SourceConfig(name="c", path=parquet, preset="mcq", domain="knowledge"),
        SourceConfig(name="d", path=ds),
        SourceConfig(name="none", path=jsonl, limit=0),
    )
    with BeamPipeline() as pipeline:
        out = pipeline | ReadProblems(sources, IngestConfig(), SEED, HASH)
        summary = out.kept | beam.Map(lambda p: (p.source, p.source_id, p.reference_answer, p.domain))
        assert_that(summary, equal_to([
            ("m", "m.jsonl:1", "0", "math"), ("m", "m.jsonl:2", "1", "math"),
            ("c", "c.parquet:1", "B", "knowledge"), ("c", "c.parquet:2", "A", "knowledge"),
            ("d", "ds:1", "3", "math"),
        ]))
        assert_that(out.dead, equal_to([]), label="NoDead")
