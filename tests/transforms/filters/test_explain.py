"""Explain: every filter's decision with its numbers, on odd inputs, bare rows and files."""
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.traces import (
    CMATH,
    EN_ANSWER,
    EN_REASONING,
    GSM8K,
    ZH_ANSWER,
    ZH_PARAGRAPH,
    ZH_REASONING,
    en_trace,
    insert_paragraph,
    zh_trace,
)
from transforms.filters.config import FilterConfig
from transforms.filters.explain import explain_file, explain_record, record_from_row
from transforms.filters.registry import filters_for

MEGABYTE = ("The answer follows from the sum. 我们计算。 $x^2$ " * 20_000)[:1_000_000]


@pytest.mark.parametrize("text", ["", "   \n\t ", "😀🎉🙂" * 50, "\x00\x01", MEGABYTE],
                         ids=["empty", "whitespace", "emoji", "controls", "1MB"])
def test_no_exceptions_on_odd_inputs(text, identifier):
    config = FilterConfig()
    filters = filters_for(config, identifier)
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
    filters = filters_for(config, identifier)
    explained = explain_record(record_from_row({"completion": "2 + 3 = 5. The answer is \\boxed{5}."}),
                               config, filters)
    by_name = {f["filter"]: f for f in explained["filters"]}
    assert explained["decision"] == "keep"
    assert by_name["verdict"]["detail"] == "not verified: no verdict"
    assert by_name["language"]["target_from"] == "fallback"


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
    assert [f["filter"] for f in out[0]["filters"]] == [f.name for f in filters_for(FilterConfig())]
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


def test_a_response_field_is_read_as_verify_reads_it(identifier):
    """``verify --input`` takes ``response``; explain reads the same rows the same way."""
    text = f"<think>\n{EN_REASONING}\n</think>\n\n{EN_ANSWER}"
    filters = filters_for(FilterConfig(), identifier)
    by_response = explain_record(record_from_row({"response": text}), FilterConfig(), filters)
    assert by_response == explain_record(record_from_row({"completion": text}), FilterConfig(), filters)
    assert by_response["decision"] == "keep"
    assert explain_record(record_from_row({"output": text}), FilterConfig(), filters)["reason"] is not None


def test_a_rejections_file_is_explained_from_its_payloads(tmp_path):
    """A curate ``rejections-*.parquet`` holds Rejection rows: each is explained from the
    record in its payload, with where it was rejected; other records and dead letters
    get an error line, not decisions about the wrong fields."""
    from schemas.arrow import arrow_schema
    from schemas.records import DeadLetter, Rejection, to_dict
    from transforms.core.records import make_dead_letter, make_rejection

    cut = en_trace(rollout_id="r-cut", completion=f"<think>\n{EN_REASONING}", reasoning=EN_REASONING,
                   answer="", finish_reason="length")
    rows = [make_rejection(cut, "curate", "filter_truncation", "truncated", "finish_reason=length"),
            make_rejection(en_trace(rollout_id="p1")._replace(problem_id="p1"), "curate", "dedup_prompts",
                           "near_duplicate")._replace(record_type="Problem")]
    path = tmp_path / "rejections-00000-of-00001.parquet"
    pq.write_table(pa.Table.from_pylist([to_dict(r) for r in rows], schema=arrow_schema(Rejection)), path)
    found = list(explain_file(FilterConfig(check_language=False), str(path)))
    assert found[0]["id"] == "r-cut" and found[0]["rejected_at"] == "curate/filter_truncation: truncated"
    assert (found[0]["decision"], found[0]["reason"]) == ("drop", "truncated")
    assert "a rejection of a Problem" in found[1]["error"] and "filters" not in found[1]
    dead = tmp_path / "dead_letters-00000-of-00001.parquet"
    letter = make_dead_letter("curate", "verify", "boom", payload="{}")
    pq.write_table(pa.Table.from_pylist([to_dict(letter)], schema=arrow_schema(DeadLetter)), dead)
    assert "a dead letter" in list(explain_file(FilterConfig(check_language=False), str(dead)))[0]["error"]
