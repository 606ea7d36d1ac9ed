"""DecontaminateBenchmarks in a pipeline: rejections name the benchmark, every drop is
counted (``decontaminate.dropped_contaminated`` and ``contaminated_<benchmark>``)."""
from __future__ import annotations

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests import factories as f
from tests.transforms.decontam.benchmark_data import BENCHMARKS, read_field
from transforms.decontam.config import DecontamConfig
from transforms.decontam.matching import count_by_benchmark
from transforms.decontam.transform import DecontaminateBenchmarks


def test_decontaminate_pipeline_rejects_with_the_benchmark_name():
    aime = read_field("qwen_math_eval/aime24/test.jsonl", "problem")
    gsm = read_field("gsm8k/test.jsonl", "question")
    clean = read_field("qwen_math_eval/minerva_math/test.jsonl", "problem")[:6]
    leaked = [f.verified(i, source="web", source_id="a", prompt="Problem: " + aime[0].upper()) for i in range(3)]
    leaked.append(f.verified(0, source="web", source_id="g", prompt=gsm[5].replace("$", "")))
    fine = [f.verified(0, source="ok", source_id=str(i), prompt=t) for i, t in enumerate(clean)]
    quoting = f.verified(0, source="ok", source_id="r", prompt="Solve a problem.",
                         completion="Recall: " + gsm[7] + " ... so the answer is 3.")
    records = leaked + fine + [quoting]
    config = DecontamConfig(benchmarks=BENCHMARKS, check_responses=True)
    with TestPipeline() as p:
        out = p | beam.Create(records) | DecontaminateBenchmarks(config)
        assert_that(out.kept | beam.Map(lambda r: r.rollout_id), equal_to([r.rollout_id for r in fine]))
        assert_that(out.dead, equal_to([]), label="NoDead")
        assert_that(out.rejected | beam.Map(lambda r: (r.step, r.reason, r.detail.split(" ")[0],
                                                       r.detail.split(" ")[-1])),
                    equal_to([("decontaminate", "contaminated", "contaminated:aime24", "field=prompt")] * 3
                             + [("decontaminate", "contaminated", "contaminated:gsm8k", "field=prompt"),
                                ("decontaminate", "contaminated", "contaminated:gsm8k", "field=response")]),
                    label="Rejected")
        counts = out.rejected | beam.combiners.ToList() | beam.Map(count_by_benchmark)
        assert_that(counts, equal_to([{"aime24": 3, "gsm8k": 2}]), label="Counts")


def test_no_benchmarks_keeps_everything():
    with TestPipeline() as p:
        out = p | beam.Create([f.verified()]) | DecontaminateBenchmarks(DecontamConfig())
        assert_that(out.kept | beam.combiners.Count.Globally(), equal_to([1]))
        assert_that(out.rejected, equal_to([]), label="NoRejections")



def test_every_drop_is_counted():
    aime = read_field("qwen_math_eval/aime24/test.jsonl", "problem")
    records = [f.verified(i, source_id="a", prompt=aime[0]) for i in range(2)] + [f.verified(0, prompt="Hi.")]
    p = beam.Pipeline(runner="FnApiRunner")
    out = p | beam.Create(records) | DecontaminateBenchmarks(DecontamConfig(benchmarks=BENCHMARKS))
    assert_that(out.kept | beam.combiners.Count.Globally(), equal_to([1]))
    result = p.run()
    result.wait_until_finish()
    counters = {c.key.metric.name: c.committed for c in result.metrics().query()["counters"]
                if c.key.metric.namespace == "curate"}
    assert counters == {"decontaminate.dropped_contaminated": 2, "contaminated_aime24": 2}
