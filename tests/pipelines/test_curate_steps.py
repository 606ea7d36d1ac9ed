"""The filter and dedup steps of curate in one pipeline: every record kept or rejected."""
import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from tests.factories import verified
from transforms.dedup.config import DedupConfig
from transforms.dedup.exact import DedupExact
from transforms.filters.config import FilterConfig
from transforms.filters.transform import FilterRollouts


def test_filter_and_dedup_pipeline_accounts_for_every_record():
    records = [
        verified(0, completion="2 + 3 = 5. \\boxed{5}"),
        verified(1, completion="2 + 3 = 5.  \\boxed{5}"),  # duplicate of 0 after normalization
        verified(2, completion="5, so \\boxed{5}"),
        verified(3, completion="\\boxed{6}", verdict="incorrect"),
        verified(4, completion="2 + 3 = 5 and so on", finish_reason="length"),
    ]
    survivor = min(records[:2], key=lambda r: r.rollout_id)
    with beam.Pipeline() as p:
        filtered = p | beam.Create(records) | FilterRollouts(FilterConfig())
        deduped = filtered.kept | DedupExact(DedupConfig())
        assert_that(deduped.kept | beam.Map(lambda r: r.rollout_id),
                    equal_to([survivor.rollout_id, records[2].rollout_id]), label="kept")
        reasons = ((filtered.rejected, deduped.rejected) | beam.Flatten()
                   | beam.Map(lambda r: (r.stage, r.reason)))
        assert_that(reasons, equal_to([("curate", "incorrect"), ("curate", "truncated"),
                                       ("curate", "duplicate")]), label="rejected")
        assert_that(deduped.rejected | beam.Map(lambda r: survivor.rollout_id in r.detail),
                    equal_to([True]), label="names survivor")
