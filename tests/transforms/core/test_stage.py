"""The shared rule-step base: outcomes → kept / rejected / dead, with counters."""
import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from tests.factories import rollout
from transforms.core import Dead, Drop, RuleStep
from transforms.core.records import make_dead_letter, make_rejection
from transforms.core.stage import dead_letters_for, dropped_counter


def _rule(record):
    if record.sample_index == 1:
        return Drop("odd_one", "index 1")
    if record.sample_index == 2:
        raise ValueError("boom")
    if record.sample_index == 3:
        return Drop("renamed", step="other_step")
    return record


def test_outcomes_split_into_kept_rejected_and_dead_with_counters():
    records = [rollout(i) for i in range(4)]
    p = beam.Pipeline(runner="FnApiRunner")
    out = p | beam.Create(records) | RuleStep("curate", "my_step", _rule)
    assert_that(out.kept | "KeptIds" >> beam.Map(lambda r: r.sample_index), equal_to([0]), label="kept")
    assert_that(out.rejected | "Rej" >> beam.Map(lambda r: (r.step, r.reason, r.record_id)),
                equal_to([("my_step", "odd_one", records[1].rollout_id),
                          ("other_step", "renamed", records[3].rollout_id)]), label="rejected")
    assert_that(out.dead | "Dead" >> beam.Map(lambda d: (d.stage, d.step, d.error, d.record_id)),
                equal_to([("curate", "my_step", "ValueError: boom", records[2].rollout_id)]), label="dead")
    result = p.run()
    result.wait_until_finish()
    counters = {c.key.metric.namespace + "." + c.key.metric.name: c.committed
                for c in result.metrics().query()["counters"]}
    assert counters["curate.my_step.dropped_odd_one"] == 1
    assert counters["curate.other_step.dropped_renamed"] == 1
    assert counters["curate.my_step.dead"] == 1


def test_generators_groups_and_ready_records():
    records = [rollout(i) for i in range(3)]

    def per_group(element):
        key, members = element
        for r in members:
            if r.sample_index == 0:
                yield r
            elif r.sample_index == 1:
                yield make_rejection(r, "curate", "group", "ready_made")
            else:
                yield Dead("bad member", r)

    def fails(element):
        raise RuntimeError("whole group")

    p = beam.Pipeline(runner="FnApiRunner")
    groups = p | beam.Create([("k", records)])
    ok = groups | "Ok" >> RuleStep("curate", "group", per_group)
    bad = groups | "Bad" >> RuleStep("curate", "group2", fails)
    assert_that(ok.kept | "K" >> beam.Map(lambda r: r.sample_index), equal_to([0]), label="k")
    assert_that(ok.rejected | "R" >> beam.Map(lambda r: r.reason), equal_to(["ready_made"]), label="r")
    assert_that(ok.dead | "D" >> beam.Map(lambda d: d.record_id), equal_to([records[2].rollout_id]), label="d")
    assert_that(bad.dead | "D2" >> beam.Map(lambda d: d.record_id),
                equal_to([r.rollout_id for r in records]), label="d2")  # every member of a failed group
    p.run().wait_until_finish()


def test_side_inputs_reach_the_rule():
    p = beam.Pipeline(runner="FnApiRunner")
    limits = p | "Limits" >> beam.Create([("max", 1)])
    out = (p | beam.Create([rollout(0), rollout(1), rollout(2)])
           | RuleStep("mix", "cap", lambda r, lim: r if r.sample_index <= lim["max"] else Drop("over"),
                      beam.pvalue.AsDict(limits)))
    assert_that(out.kept | beam.Map(lambda r: r.sample_index), equal_to([0, 1]))
    p.run().wait_until_finish()


def test_dead_letters_for_non_records_keep_the_payload():
    letters = dead_letters_for("s", "t", {"x": 1}, "err")
    assert len(letters) == 1 and letters[0].payload == "{'x': 1}"
    assert dead_letters_for("s", "t", [rollout(0), rollout(1)], "err")[1].record_id == rollout(1).rollout_id
    assert dropped_counter("filter", "too_long") == "filter.dropped_too_long"
    assert make_dead_letter("s", "t", "e", record=rollout(0)).record_id == rollout(0).rollout_id


def test_stream_routes_outcomes_as_yielded_and_lets_an_exception_fail_the_bundle():
    def per_file(n):  # one element yields many outcomes, as a reader of a whole file does
        for i in range(n):
            if i == 1:
                yield Drop("odd_one", record=rollout(i))
            elif i == 2:
                yield make_dead_letter("ingest", "map", "bad line", file="f", line=i + 1)
            else:
                yield rollout(i)

    p = beam.Pipeline(runner="FnApiRunner")
    out = p | beam.Create([4]) | RuleStep("ingest", "read", per_file, stream=True)
    assert_that(out.kept | "K" >> beam.Map(lambda r: r.sample_index), equal_to([0, 3]), label="k")
    assert_that(out.rejected | "R" >> beam.Map(lambda r: (r.step, r.reason)), equal_to([("read", "odd_one")]),
                label="r")
    assert_that(out.dead | "D" >> beam.Map(lambda d: (d.step, d.line)), equal_to([("map", 3)]), label="d")
    result = p.run()
    result.wait_until_finish()
    counters = {c.key.metric.namespace + "." + c.key.metric.name: c.committed
                for c in result.metrics().query()["counters"]}
    assert counters["ingest.read.dropped_odd_one"] == 1
    assert counters["ingest.map.dead"] == 1

    def fails_midway(n):
        yield rollout(0)
        raise OSError("the file went away")

    p = beam.Pipeline(runner="FnApiRunner")
    _ = p | beam.Create([1]) | RuleStep("ingest", "read", fails_midway, stream=True)
    with pytest.raises(Exception, match="the file went away"):
        p.run().wait_until_finish()


def test_dead_letters_for_keyed_records_name_the_record_not_its_fields():
    # (key, record) pairs and (key, [(key, record), ...]) groups: a record is iterable, but
    # its fields are not records of their own
    pair = ("reasoning/direct/*", rollout(0))
    assert [d.record_id for d in dead_letters_for("mix", "t", pair, "err")] == [rollout(0).rollout_id]
    group = (("problem", "direct"), [pair, ("b", rollout(1))])
    assert [d.record_id for d in dead_letters_for("mix", "t", group, "err")] == \
        [rollout(0).rollout_id, rollout(1).rollout_id]
