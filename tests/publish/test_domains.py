"""Targets, supply and shortfall by kind and domain, and each shortfall's counted reasons."""
from publish.domains import domain_report
from schemas.records import Rejection, to_dict
from transforms.core import io as rio


def _rejections(tmp_path, rows):
    records = [Rejection(f"id{i}", "VerifiedRollout", "p", source, stage, step, reason, "", "{}", "cfg", "1.1")
               for i, (source, stage, step, reason) in enumerate(rows)]
    entry = rio.write_table(str(tmp_path / "rejections-00000-of-00001.parquet"), [to_dict(r) for r in records],
                            Rejection)
    return [entry["path"]]


def test_domains_add_parts_and_a_short_domain_counts_its_sources_rejections(tmp_path):
    buckets = {"reasoning/direct/math": {"target": 6, "supply": 6, "selected": 6, "shortfall": 0},
               "reasoning/journey/math": {"target": 2, "supply": 1, "selected": 1, "shortfall": 1},
               "reasoning/direct/code": {"target": 3, "supply": 0, "selected": 0, "shortfall": 3},
               "knowledge/direct/general": {"target": 2, "supply": 2, "selected": 2, "shortfall": 0}}
    sources = [{"name": "gsm8k", "kind": "reasoning", "domain": "math"},
               {"name": "mbpp", "kind": "reasoning", "domain": "code"},
               {"name": "alpaca", "kind": "knowledge", "domain": "general"}]
    files = _rejections(tmp_path, [("mbpp", "curate", "filter_verdict", "incorrect")] * 3
                        + [("mbpp", "curate", "filter_truncation", "truncated"),
                           ("gsm8k", "curate", "filter_verdict", "incorrect"),
                           ("alpaca", "curate", "filter_length", "answer_too_long")])
    report = domain_report(buckets, files, sources)
    assert report["lines"]["reasoning/math"] == {"target": 8, "supply": 7, "selected": 7, "shortfall": 1}
    assert report["lines"]["reasoning/code"]["shortfall"] == 3
    assert report["shortfall_reasons"] == {
        "reasoning/math": {"curate/filter_verdict/incorrect": 1},
        "reasoning/code": {"curate/filter_verdict/incorrect": 3, "curate/filter_truncation/truncated": 1},
    }
    assert list(report["shortfall_reasons"]["reasoning/code"]) == ["curate/filter_verdict/incorrect",
                                                                   "curate/filter_truncation/truncated"]
    assert domain_report({"knowledge/direct/*": {"target": 1, "supply": 0, "selected": 0, "shortfall": 1}}, files,
                         sources)["shortfall_reasons"] == {"knowledge/*": {"curate/filter_length/answer_too_long": 1}}
