"""FilterRollouts through RuleStep: decisions, rejections, counters, under every DirectRunner mode."""
import json
import re

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing import test_pipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.traces import (
    EN_REASONING,
    FR_SENTENCE,
    LOOP,
    ZH_PARAGRAPH,
    ZH_WITH_ENGLISH_VARS,
    en_trace,
    insert_paragraph,
    zh_trace,
)
from transforms.core.stage import Drop
from transforms.filters.config import FilterConfig
from transforms.filters.registry import first_failure
from transforms.filters.transform import ApplyFilters, FilterRollouts


def pipeline_records():
    return [
        en_trace(sample_index=0),
        zh_trace(sample_index=1),
        en_trace(sample_index=2, finish_reason="length"),
        en_trace(sample_index=3, reasoning=insert_paragraph(EN_REASONING, ZH_PARAGRAPH)),
        en_trace(sample_index=4, reasoning=EN_REASONING.replace("Wait,", FR_SENTENCE + " Wait,")),
        en_trace(sample_index=5, reasoning=EN_REASONING + "\n\n" + LOOP),
        en_trace(sample_index=6, answer="It is $\\boxed{18}$, no, $\\boxed{16}$."),
        zh_trace(sample_index=7, reasoning=ZH_WITH_ENGLISH_VARS),
    ]


EXPECTED_REJECTIONS = [(2, "filter_truncation", "truncated"), (3, "filter_language", "language_mixing"),
                       (4, "filter_language", "language_mixing"), (5, "filter_repetition", "looping_tail"),
                       (6, "filter_format", "conflicting_answers")]
#: ``<step>.dropped_<reason>`` in namespace curate, one per rejection above.
EXPECTED_COUNTERS = {"filter_truncation.dropped_truncated": 1, "filter_language.dropped_language_mixing": 2,
                     "filter_repetition.dropped_looping_tail": 1, "filter_format.dropped_conflicting_answers": 1}


def test_plain_rules_agree_with_the_expected_decisions(rules):
    records = pipeline_records()
    got = [(i, *first_failure(r, rules)[:2]) for i, r in enumerate(records) if first_failure(r, rules)]
    assert got == EXPECTED_REJECTIONS


def run_filter_pipeline(options):
    records = pipeline_records()
    ids = [r.rollout_id for r in records]
    kept_ids = [ids[i] for i in (0, 1, 7)]
    rejected = [(ids[i], step, reason) for i, step, reason in EXPECTED_REJECTIONS]
    pipeline = test_pipeline.TestPipeline(options=options, blocking=False)
    outputs = pipeline | beam.Create(records) | FilterRollouts(FilterConfig())
    assert_that(outputs.kept | beam.Map(lambda r: r.rollout_id), equal_to(kept_ids), label="kept")
    assert_that(outputs.rejected | beam.Map(lambda r: (r.record_id, r.step, r.reason)), equal_to(rejected),
                label="rejected")
    assert_that(outputs.dead, equal_to([]), label="dead")
    assert_that(outputs.rejected | beam.Filter(lambda r: r.reason == "language_mixing")
                | beam.Map(lambda r: (r.stage, bool(re.search(r"share 0\.\d\d < 0\.95|passage in \w+ > 4", r.detail)),
                                      json.loads(r.payload)["rollout_id"] == r.record_id)),
                equal_to([("curate", True, True)] * 2), label="details")
    result = pipeline.run()
    result.wait_until_finish()
    counters = result.metrics().query(MetricsFilter().with_namespace("curate"))["counters"]
    return {c.key.metric.name: c.committed for c in counters}


def test_filter_rollouts_pipeline_counts_every_reason():
    counts = run_filter_pipeline(PipelineOptions(["--runner=DirectRunner"]))
    assert counts == EXPECTED_COUNTERS


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["multi_threading", "multi_processing"])
def test_same_decisions_under_every_direct_runner_mode(mode):
    options = PipelineOptions(["--runner=DirectRunner", f"--direct_running_mode={mode}", "--direct_num_workers=2"])
    counts = run_filter_pipeline(options)
    assert counts == EXPECTED_COUNTERS


def test_apply_filters_is_a_plain_rule_naming_each_filters_step():
    rule = ApplyFilters(FilterConfig(check_language=False))
    rule.setup()
    record = en_trace()
    assert rule(record) is record
    truncated = rule(en_trace(finish_reason="length"))
    assert isinstance(truncated, Drop) and truncated.record is None  # the payload is the record itself
    assert (truncated.reason, truncated.step) == ("truncated", "filter_truncation")
    assert truncated.detail.startswith("finish_reason=length")
    drop = ApplyFilters(FilterConfig())(en_trace(answer="It is $\\boxed{18}$, no, $\\boxed{16}$."))
    assert (drop.reason, drop.step) == ("conflicting_answers", "filter_format")  # sets up on first use
