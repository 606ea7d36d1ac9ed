"""The persistent signature index: published problems always survive, and an index made
with other signature parameters is refused."""
from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests import factories as f
from tests.transforms.text.samples import read_field
from transforms.dedup import minhash
from transforms.dedup.config import DedupConfig
from transforms.dedup.index import WriteSignatureIndex, check_indexes
from transforms.dedup.transform import DedupMinHash


def test_signature_index_removes_what_is_already_published(tmp_path):
    problems = read_field("math500/test.jsonl", "problem", 12)
    published = [f.verified(0, source="v1", source_id=str(i), prompt=t) for i, t in enumerate(problems[:6])]
    prefix = str(tmp_path / "index" / "signatures")
    config = DedupConfig()
    with TestPipeline() as p:
        p | beam.Create(published) | WriteSignatureIndex(prefix, config)
    files = check_indexes(DedupConfig(index_paths=(prefix + "*.parquet",)))
    assert files
    import pyarrow.parquet as pq

    table = pq.read_table(files[0])
    assert sorted(table.column("problem_id").to_pylist()) == sorted(r.problem_id for r in published)
    sig = minhash.from_bytes(table.column("signature").to_pylist()[0])
    assert len(minhash.to_lean_minhash(sig, config.seed)) == config.num_perm

    # a new run: 2 copies of published problems (one edited), 6 new problems
    new = [f.verified(0, source="v2", source_id=str(i), prompt=t) for i, t in enumerate(problems[6:])]
    copies = [f.verified(0, source="v2", source_id="c0", prompt=problems[0]),
              f.verified(0, source="v2", source_id="c1", prompt=problems[1] + " Show your work.")]
    expected = [(copies[0].problem_id, "duplicate", f"survivor={published[0].problem_id} "),
                (copies[1].problem_id, "near_duplicate", f"survivor={published[1].problem_id} ")]
    with TestPipeline() as p:
        out = p | beam.Create(new + copies) | DedupMinHash(DedupConfig(index_paths=(prefix + "*.parquet",)))
        assert_that(out.kept | beam.Map(lambda r: r.problem_id), equal_to([r.problem_id for r in new]))
        assert_that(out.rejected | beam.Map(lambda r: (r.problem_id, r.reason, r.detail)),
                    lambda got: _check_published(got, expected), label="Rejected")


def _check_published(got, expected):
    assert len(got) == len(expected)
    for (pid, reason, detail), (want_pid, want_reason, survivor) in zip(sorted(got), sorted(expected)):
        assert (pid, reason) == (want_pid, want_reason)
        assert survivor in detail and detail.endswith("survivor_published=true")


def test_index_made_with_other_parameters_is_refused(tmp_path):
    prefix = str(tmp_path / "sigs")
    with TestPipeline() as p:
        p | beam.Create([f.verified(0)]) | WriteSignatureIndex(prefix, DedupConfig(ngram=3))
    with pytest.raises(ValueError, match="made with"):
        DedupMinHash(DedupConfig(index_paths=(prefix + "*",)))
    with pytest.raises(ValueError, match="matches no file"):
        DedupMinHash(DedupConfig(index_paths=(str(tmp_path / "none*.parquet"),)))
