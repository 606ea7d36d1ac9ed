"""Ingest's work plan: source paths checked up front, globs expanded sorted, limited
sources kept whole."""
from __future__ import annotations

import json

import pytest

from transforms.ingest.config import SourceConfig
from transforms.ingest.planning import check_sources, plan_work


def _write_jsonl(path, rows) -> str:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
    return str(path)


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
