"""The mix selection read back from columns: selected examples by bucket, supply from the
``over_quota`` rejections' detail, never from their payloads."""
import os

from publish import accounting
from publish.selection import DATA, per_kind, selection_report
from schemas.records import Rejection, SftExample, to_dict
from tests.factories import verified
from transforms.core import io as rio
from transforms.core import make_rejection
from transforms.mix.config import MixConfig
from transforms.mix.examples import to_example
from transforms.mix.journey_config import JourneyConfig
from transforms.mix.select import over_quota_detail


def _write(folder, name, cls, records):
    entry = rio.write_table(rio.shard_path(os.path.join(folder, name), 0, 1), [to_dict(r) for r in records], cls)
    return {"files": [entry], "rows": len(records)}


def test_selection_report_counts_from_columns(tmp_path):
    config = MixConfig(reasoning=3, knowledge=1, journey=JourneyConfig(share=0.34))
    examples = [to_example(verified(i, source_id=f"p{i}", completion=f"c{i}")) for i in range(4)]
    journey = examples[3]._replace(journey="splice:step", example_id="j")
    over = [make_rejection(examples[2], "mix", "select_quota", "over_quota",
                           over_quota_detail("reasoning/direct/*", 2)),
            make_rejection(journey, "mix", "select_quota", "over_quota", over_quota_detail("reasoning/journey/*", 1))]
    # the payload is not read: a rejection whose payload is unreadable still counts by its detail
    over.append(over[0]._replace(record_id="x", payload="not json"))
    capped = make_rejection(examples[1], "mix", "per_prompt_cap", "per_prompt_cap",
                            "problem has 2 direct examples, cap 1")
    outputs = {DATA: _write(tmp_path, DATA, SftExample, examples[:2]),
               "rejections": _write(tmp_path, "rejections", Rejection, over + [capped])}
    assert accounting.paths(outputs, DATA)
    buckets = selection_report(outputs, config)["buckets"]
    assert buckets == {
        "knowledge/direct/*": {"target": 1, "supply": 0, "selected": 0, "shortfall": 1},
        "reasoning/direct/*": {"target": 2, "supply": 4, "selected": 2, "shortfall": 0},
        "reasoning/journey/*": {"target": 1, "supply": 1, "selected": 0, "shortfall": 1},
    }
    assert per_kind(buckets, "supply", config.targets()) == {"reasoning": 5, "knowledge": 0}
    assert per_kind(buckets, "shortfall", ["reasoning"]) == {"reasoning": 1, "knowledge": 1}
