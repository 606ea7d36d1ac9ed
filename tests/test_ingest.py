"""Ingest: readers, field mapping rules on real rows, and the ReadProblems pipeline on bad input."""
from __future__ import annotations

import gzip
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
from transforms.core import derive_seed, stable_hash  # noqa: E402
from transforms.ingest.transform import (  # noqa: E402
    BadRecord,
    FieldMapping,
    IngestConfig,
    ReadError,
    ReadProblems,
    SourceConfig,
    check_sources,
    detect_format,
    gold_from_solution,
    ingest_work_item,
    parse_hf,
    parse_json_line,
    plan_work,
    read_datasets_dir,
    read_hf,
    read_jsonl,
    read_parquet,
    to_problem,
)

DATA = "../shared/data"
SEED = 7
HASH = "cfg0"


def _row(path: str, line: int) -> dict:
    """The record on 1-based ``line`` of a real JSONL file."""
    with open(os.path.join(DATA, path), encoding="utf-8") as fh:
        for number, text in enumerate(fh, start=1):
            if number == line:
                return json.loads(text)
    raise AssertionError(f"{path} has no line {line}")


def _problem(record: dict, line: int = 1, **source_kw) -> Problem:
    source_kw.setdefault("name", "src")
    source_kw.setdefault("path", "in.jsonl")
    return to_problem(record, SourceConfig(**source_kw), "dir/in.jsonl", line, SEED, HASH)


def _outputs(source: SourceConfig, config: IngestConfig = IngestConfig()) -> list:
    """Everything the plain reader+mapper yields for one source, in input order."""
    sources = (source,)
    return [out for item in plan_work(sources) for out in ingest_work_item(item, sources, config, SEED, HASH)]


def _write_jsonl(path, rows) -> str:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
    return str(path)


# -- presets on real rows -----------------------------------------------------

REAL_ROWS = [
    # (file, line, preset, prompt starts with, prompt ends with, gold, source_id)
    ("gsm8k/test.jsonl", 1, "gsm8k", "Janet’s ducks lay 16 eggs", "farmers' market?", "18", "in.jsonl:1"),
    ("gsm8k/test.jsonl", 147, "gsm8k", "Johnny is picking up the toys", None, "2125", "in.jsonl:147"),
    ("math500/test.jsonl", 1, "math", "Convert the point $(0,3)$", None,
     "\\left( 3, \\frac{\\pi}{2} \\right)", "test/precalculus/807.json"),
    ("math500/test.jsonl", 5, "math", "The results of a cross-country", None, "\\text{Evelyn}", "test/algebra/1349.json"),
    ("qwen_math_eval/minerva_math/test.jsonl", 1, "math", "Each of the two Magellan", None, "1.6", "in.jsonl:1"),
    ("qwen_math_eval/minerva_math/test.jsonl", 2, "math", "A white dwarf star", None, "4.5e33", "in.jsonl:2"),
    ("qwen_math_eval/minerva_math/test.jsonl", 3, "math", None, None, "41.8", "in.jsonl:3"),
    ("qwen_math_eval/mmlu_stem/test.jsonl", 1, "mcq", "Based on the characteristic population curves",
     "\nD. increase the mortality rate", "C", "in.jsonl:1"),
    ("qwen_math_eval/mmlu_stem/test.jsonl", 3, "mcq", "To prevent desiccation",
     "\n\nA. amnion\nB. chorion\nC. allantois\nD. yolk sac", "A", "in.jsonl:3"),
    ("qwen_math_eval/amc23/test.jsonl", 1, "answer", "Cities $A$ and $B$", None, "27", "0"),
]


@pytest.mark.parametrize("path,line,preset,starts,ends,gold,source_id", REAL_ROWS)
def test_presets_on_real_rows(path, line, preset, starts, ends, gold, source_id):
    problem = _problem(_row(path, line), line=line, preset=preset)
    if starts:
        assert problem.prompt.startswith(starts)
    if ends:
        assert problem.prompt.endswith(ends)
    assert problem.reference_answer == gold
    assert problem.source_id == source_id
    assert problem.problem_id == stable_hash("src", source_id)
    assert (problem.seed, problem.config_hash, problem.kind, problem.domain) == (SEED, HASH, "reasoning", "math")


def test_math_preset_falls_back_to_the_solutions_last_box():
    row = _row("math500/test.jsonl", 1)
    del row["answer"]
    assert _problem(row, preset="math").reference_answer == "\\left( 3, \\frac{\\pi}{2} \\right)"


def test_mcq_problem_keeps_choices_and_metadata_skips_mapped_fields():
    problem = _problem(_row("qwen_math_eval/mmlu_stem/test.jsonl", 3), preset="mcq")
    assert problem.choices == ["amnion", "chorion", "allantois", "yolk sac"]
    assert json.loads(problem.metadata) == {"type": "college_biology"}


def test_math_metadata_difficulty_and_language():
    problem = _problem(_row("math500/test.jsonl", 1), preset="math", language="en", domain="knowledge")
    assert json.loads(problem.metadata) == {"subject": "Precalculus"}  # problem/solution/answer/ids skipped
    assert (problem.difficulty, problem.language, problem.domain) == ("2", "en", "knowledge")


def test_explicit_fields_override_the_preset():
    row = _row("qwen_math_eval/olympiadbench/test.jsonl", 1)
    problem = _problem(row, preset="answer", fields=FieldMapping(answer="final_answer", id="id", difficulty="subfield"))
    assert problem.reference_answer == "2"  # a one-item list is unwrapped
    assert problem.source_id == "1606"
    assert problem.difficulty == "Combinatorics"


@pytest.mark.parametrize(
    "text,gold",
    [
        ("so 3 + 4 = 7\n#### 7", "7"),
        ("big\n#### 1,234,567", "1234567"),
        ("$\\boxed{1}$ then $\\boxed{\\frac{1}{2}}$", "\\frac{1}{2}"),
        ("a box with a comma $\\boxed{(1, 2)}$", "(1, 2)"),
        ("no final answer here", None),
        ("#### ", None),
    ],
)
def test_gold_from_solution(text, gold):
    assert gold_from_solution(text) == gold


# -- mapping rules ------------------------------------------------------------

MAPPING_RULES = [
    # (record, source kwargs, expected (prompt, gold, choices) )
    ({"question": "Q?", "answer": 12}, {}, ("Q?", "12", [])),
    ({"question": "Q?", "answer": 27.0}, {}, ("Q?", "27", [])),
    ({"question": "Q?", "answer": 2.5}, {}, ("Q?", "2.5", [])),
    ({"problem": "  P?  ", "answer": " x+1 "}, {}, ("P?", "x+1", [])),
    ({"prompt": "R?", "answer": "4"}, {"preset": "answer"}, ("R?", "4", [])),
    ({"question": "Q?"}, {"kind": "knowledge"}, ("Q?", None, [])),
    ({"question": "Q?", "choices": ["x", "y"], "label": "b"}, {"preset": "mcq"}, ("Q?\n\nA. x\nB. y", "B", ["x", "y"])),
    ({"question": "Q?", "choices": [1, 2, 3], "answer": 2}, {"preset": "mcq"}, ("Q?\n\nA. 1\nB. 2\nC. 3", "C", ["1", "2", "3"])),
    ({"q": "Q?", "opts": ["x", "y"], "gold": "A"}, {"preset": "mcq", "fields": FieldMapping(prompt="q", choices="opts", answer="gold")},
     ("Q?\n\nA. x\nB. y", "A", ["x", "y"])),
    ({"question": "Q?", "choices": ["x", "y"]}, {"preset": "mcq", "kind": "knowledge"}, ("Q?\n\nA. x\nB. y", None, ["x", "y"])),
    ({"text": "T?", "sol": "so \\boxed{5}"}, {"fields": FieldMapping(prompt="text", solution="sol")}, ("T?", "5", [])),
]


@pytest.mark.parametrize("record,source_kw,expected", MAPPING_RULES)
def test_mapping_rules(record, source_kw, expected):
    problem = _problem(record, **source_kw)
    assert (problem.prompt, problem.reference_answer, problem.choices) == expected


BAD_RECORDS = [
    # (record, source kwargs, field, reason)
    ({"answer": "1"}, {}, "question|problem|prompt", "missing_field"),
    ({"question": "   ", "answer": "1"}, {}, "question|problem|prompt", "missing_field"),
    ({"question": 42, "answer": "1"}, {}, "question", "wrong_type"),
    ({"question": ["a"], "answer": "1"}, {}, "question", "wrong_type"),
    ({"question": "Q?"}, {}, "answer", "missing_field"),
    ({"question": "Q?", "answer": {"v": 1}}, {}, "answer", "wrong_type"),
    ({"question": "Q?", "answer": True}, {}, "answer", "wrong_type"),
    ({"question": "Q?", "answer": ["1", "2"]}, {}, "answer", "wrong_type"),
    ({"question": "Q?", "answer": "no marker"}, {"preset": "gsm8k"}, "answer", "bad_value"),
    ({"question": "Q?"}, {"preset": "gsm8k"}, "answer", "missing_field"),
    ({"problem": "P?", "solution": "no box"}, {"preset": "math"}, "solution", "bad_value"),
    ({"problem": "P?"}, {"preset": "math"}, "answer|solution", "missing_field"),
    ({"question": "Q?", "answer": 1}, {"preset": "mcq"}, "choices", "missing_field"),
    ({"question": "Q?", "choices": "A or B", "answer": 1}, {"preset": "mcq"}, "choices", "wrong_type"),
    ({"question": "Q?", "choices": ["only"], "answer": 0}, {"preset": "mcq"}, "choices", "bad_value"),
    ({"question": "Q?", "choices": ["x", {"y": 1}], "answer": 0}, {"preset": "mcq"}, "choices", "wrong_type"),
    ({"question": "Q?", "choices": ["x", "y"], "answer": 2}, {"preset": "mcq"}, "answer", "bad_value"),
    ({"question": "Q?", "choices": ["x", "y"], "answer": -1}, {"preset": "mcq"}, "answer", "bad_value"),
    ({"question": "Q?", "choices": ["x", "y"], "answer": "C"}, {"preset": "mcq"}, "answer", "bad_value"),
    ({"question": "Q?", "choices": ["x", "y"], "answer": 1.0}, {"preset": "mcq"}, "answer", "wrong_type"),
    ({"question": "Q?", "choices": ["x", "y"]}, {"preset": "mcq"}, "answer|label", "missing_field"),
]


@pytest.mark.parametrize("record,source_kw,field,reason", BAD_RECORDS)
def test_bad_records_name_the_field_and_reason(record, source_kw, field, reason):
    with pytest.raises(BadRecord) as info:
        _problem(record, **source_kw)
    assert (info.value.field, info.value.reason) == (field, reason)
    assert str(info.value).startswith(reason)


def test_source_id_uses_the_id_field_else_file_and_line():
    with_id = _problem({"question": "Q?", "answer": "1", "id": 99}, line=4)
    without = _problem({"question": "Q?", "answer": "1"}, line=4)
    assert (with_id.source_id, without.source_id) == ("99", "in.jsonl:4")
    assert with_id.problem_id != without.problem_id
    assert _problem({"question": "Q?", "answer": "1"}, line=4, name="other").problem_id != without.problem_id


# -- readers ------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw,reason",
    [
        (b'{"a": 1}', None),
        (b'{"a": ', "invalid_json"),
        (b"{'a': 1}", "invalid_json"),
        (b'{"a": "\xff"}', "invalid_json"),
        (b"[1, 2]", "not_an_object"),
        (b'"text"', "not_an_object"),
        (b"null", "not_an_object"),
        (b'{"a": "0123456789"}', "line_too_long"),
    ],
)
def test_parse_json_line(raw, reason):
    out = parse_json_line(raw, len(raw), max_bytes=16)
    if reason is None:
        assert out == {"a": 1}
    else:
        assert isinstance(out, ReadError) and out.error.startswith(reason + ":")


def test_read_jsonl_numbers_lines_skips_blanks_and_reads_gzip(tmp_path):
    text = '{"n": 1}\n\n   \r\n{"n": 2}\r\n{"n": 3}'  # no newline at the end
    plain = tmp_path / "a.jsonl"
    plain.write_text(text)
    packed = tmp_path / "a.jsonl.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    for path in (plain, packed):
        assert [(line, rec) for _, line, rec in read_jsonl(str(path), 100)] == [(1, {"n": 1}), (4, {"n": 2}), (5, {"n": 3})]


def test_read_jsonl_a_long_line_is_dead_lettered_even_when_it_starts_blank(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(" " * 50 + '{"n": 1}\n{"n": 2}\n')
    out = list(read_jsonl(str(path), 20))
    assert [line for _, line, _ in out] == [1, 2]
    assert out[0][2].error.startswith("line_too_long: 58 bytes") and out[1][2] == {"n": 2}


def test_read_parquet_rows_are_numbered_across_batches(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = str(tmp_path / "p.parquet")
    pq.write_table(pa.table({"question": [f"q{i}" for i in range(2500)], "answer": list(range(2500))}), path,
                   row_group_size=700)
    rows = list(read_parquet(path))
    assert len(rows) == 2500
    assert rows[0] == (path, 1, {"question": "q0", "answer": 0})
    assert rows[-1] == (path, 2500, {"question": "q2499", "answer": 2499})


def _save_dataset(path, rows):
    import datasets

    datasets.Dataset.from_list(rows).save_to_disk(str(path))
    return str(path)


def test_read_datasets_dir(tmp_path):
    path = _save_dataset(tmp_path / "ds", [{"question": "a", "answer": "1"}, {"question": "b", "answer": "2"}])
    assert detect_format(path) == "datasets"
    assert list(read_datasets_dir(path)) == [(path, 1, {"question": "a", "answer": "1"}),
                                             (path, 2, {"question": "b", "answer": "2"})]


@pytest.mark.parametrize(
    "spec,expected",
    [
        ("hf:openai/gsm8k", ("openai/gsm8k", "train")),
        ("hf:openai/gsm8k:test", ("openai/gsm8k", "test")),
        ("hf:/tmp/some/dir", ("/tmp/some/dir", "train")),
        ("hf:/tmp/some/dir:validation", ("/tmp/some/dir", "validation")),
    ],
)
def test_parse_hf(spec, expected):
    assert parse_hf(spec) == expected


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


# -- planning -----------------------------------------------------------------


@pytest.mark.parametrize(
    "path,fmt",
    [("a/b.jsonl", "jsonl"), ("b.JSON", "jsonl"), ("b.jsonl.gz", "jsonl"), ("gs://x/b.parquet", "parquet"),
     ("hf:org/name", "hf"), ("b.csv", None)],
)
def test_detect_format(path, fmt):
    assert detect_format(path) == fmt


def test_check_sources_names_the_source_and_path(tmp_path):
    missing = str(tmp_path / "nope-*.jsonl")
    with pytest.raises(ValueError, match=r"source 'lost'.*nope-\*\.jsonl.*matches no file"):
        check_sources((SourceConfig(name="lost", path=missing),))
    (tmp_path / "data.csv").write_text("a,b\n")
    with pytest.raises(ValueError, match=r"source 'csv'.*data\.csv.*format"):
        check_sources((SourceConfig(name="csv", path=str(tmp_path / "data.csv")),))
    with pytest.raises(ValueError, match=r"source 'ds'.*not a directory"):
        check_sources((SourceConfig(name="ds", path=str(tmp_path / "nodir"), format="datasets"),))
    good = _write_jsonl(tmp_path / "g.jsonl", [{"question": "q", "answer": "1"}])
    with pytest.raises(ValueError, match=r"source 'twice'.*two sources"):
        check_sources((SourceConfig(name="twice", path=good), SourceConfig(name="twice", path=good)))


def test_plan_work_expands_globs_sorted_and_keeps_limited_sources_whole(tmp_path):
    for name in ("b.jsonl", "a.jsonl", "c.parquet"):
        (tmp_path / name).write_text("")
    glob = str(tmp_path / "*")
    files = [("jsonl", str(tmp_path / "a.jsonl")), ("jsonl", str(tmp_path / "b.jsonl")),
             ("parquet", str(tmp_path / "c.parquet"))]
    sources = (SourceConfig(name="all", path=glob), SourceConfig(name="some", path=glob, limit=3),
               SourceConfig(name="none", path=glob, limit=0))
    assert plan_work(sources) == [(0, (files[0],)), (0, (files[1],)), (0, (files[2],)), (1, tuple(files))]


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
    assert counters == {"ingest_lines": non_blank, "ingest_problems": len(good), "ingest_dead_letters": len(bad)}


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
