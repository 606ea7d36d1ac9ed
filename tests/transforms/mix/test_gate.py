"""The journey gate's rules, called directly with curate's real rules injected: the parts
of a journey each filter checks, the exact dedup against direct examples and earlier
journeys, and curate's response dedup through example views."""
import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.factories import verified
from transforms.core import Drop
from transforms.dedup.config import DedupConfig
from transforms.dedup.exact import normalize_text
from transforms.dedup.responses import DedupResponseGroup
from transforms.filters.config import FilterConfig
from transforms.filters.transform import ApplyFilters
from transforms.mix.examples import make_example
from transforms.mix.gate import (
    GateJourneys,
    JourneyFilters,
    OnViews,
    dedup_exact_rule,
    exact_text,
    example_view,
    journey_parts,
    part_filter_config,
    whole_filter_config,
)
from transforms.mix.journey_config import DEFAULT_TRANSITIONS

TRANSITION = DEFAULT_TRANSITIONS[0]
CORRECT = "We add 2 and 3.\n\n2 + 3 = 5."
MIXED = "We add the numbers. 我们先把两个数字相加然后再仔细检查一下这个结果是否正确无误 so it is six."


def journey(prefix: str, mode: str = "splice:attempt", rest: str = CORRECT, index: int = 0, problem: str = "p0"):
    base = verified(index, source_id=problem, answer="The answer is \\boxed{5}.")
    return make_example(base, example_id=f"j{index}-{problem}-{mode}", reasoning=f"{prefix}\n\n{TRANSITION}\n\n{rest}",
                        answer=base.answer, rollout_ids=[f"w{index}", base.rollout_id], journey=mode,
                        completion_tokens=0)  # estimated from the text


def filters(config=FilterConfig()):
    return JourneyFilters(ApplyFilters(part_filter_config(config)), ApplyFilters(whole_filter_config(config)),
                          DEFAULT_TRANSITIONS)


def test_parts_are_the_prefix_with_its_transition_and_a_reflect_continuation():
    spliced = journey("Two plus three is six.")
    assert journey_parts(spliced, DEFAULT_TRANSITIONS) == [("wrong prefix", f"Two plus three is six.\n\n{TRANSITION}")]
    reflected = journey("Two plus three is six.", mode="reflect:step", rest="Redo: 2 + 3 = 5.")
    assert journey_parts(reflected, DEFAULT_TRANSITIONS)[1] == ("continuation", "Redo: 2 + 3 = 5.")
    assert journey_parts(spliced, ("Something else.",)) == [("journey", spliced.reasoning)]


def test_a_wrong_prefix_that_mixes_languages_is_dropped_with_curates_reason():
    dropped = filters()(journey(MIXED))
    assert isinstance(dropped, Drop)
    assert (dropped.step, dropped.reason) == ("journey_filter_language", "language_mixing")
    assert dropped.detail.startswith("wrong prefix: ")
    kept = journey("Two plus three is six.")
    assert filters()(kept) is kept


def test_a_journey_restating_its_prefix_is_no_repetition_but_a_repetitive_prefix_is():
    line = "We add 2 and 3 and write the sum down."
    restating = journey(line, rest=f"{line}\n\n2 + 3 = 5.")
    assert filters()(restating) is restating  # whole journey: no duplicate-line limit
    looping = journey("\n".join([line] * 6))
    dropped = filters()(looping)
    assert isinstance(dropped, Drop) and dropped.step == "journey_filter_repetition"
    assert dropped.detail.startswith("wrong prefix: ")


def test_the_whole_journey_still_meets_curates_limits():
    long = filters(FilterConfig(max_reasoning_tokens=25))(journey("Two plus three is six."))
    assert isinstance(long, Drop) and long.reason == "reasoning_too_long" and long.detail.startswith("whole journey")


def test_exact_duplicates_lose_to_direct_examples_and_to_the_smallest_journey_id():
    a, b = journey("Two plus three is six.", index=1), journey("Two plus three is six.", index=2)
    b = b._replace(example_id="j9", reasoning=b.reasoning.replace(TRANSITION, DEFAULT_TRANSITIONS[1]))
    key = exact_text(a, normalize_text, DEFAULT_TRANSITIONS)
    assert key == exact_text(b, normalize_text, DEFAULT_TRANSITIONS) != exact_text(b, normalize_text)
    kept, dropped = dedup_exact_rule((key, {"journeys": [b, a], "direct": []}))
    assert kept is a and dropped.reason == "duplicate" and dropped.record is b
    both = dedup_exact_rule((key, {"journeys": [a, b], "direct": ["r7"]}))
    assert [d.record for d in both] == [a, b] and "direct example of rollout r7" in both[0].detail


def test_curates_response_dedup_runs_on_journey_views():
    a = journey("Two plus three is six, I am sure of it now.", index=1)
    b = journey("Two plus three is six, I am sure of it now!", index=2)
    other = journey("Counting on from three by two steps: four, five, six. So six.", index=3)
    rule = OnViews(DedupResponseGroup(DedupConfig()))
    outcomes = rule(("p0", [other, b, a]))
    kept = [o for o in outcomes if not isinstance(o, Drop)]
    drops = [o for o in outcomes if isinstance(o, Drop)]
    assert sorted(e.example_id for e in kept) == sorted([other.example_id, min(a.example_id, b.example_id)])
    assert [d.reason for d in drops] == ["near_duplicate"] and drops[0].record.journey == "splice:attempt"
    assert example_view(a).rollout_id == a.example_id and example_view(a).completion == a.messages[-1].content


def test_gate_transform_keeps_clean_journeys_and_rejects_the_rest_with_their_reasons():
    clean = journey("Two plus three is six.", index=1)
    twin = clean._replace(example_id="zz-twin")
    mixed = journey(MIXED, index=2, problem="p1")
    gate = GateJourneys(filters(), None, normalize_text, DedupResponseGroup(DedupConfig()), DEFAULT_TRANSITIONS)
    with TestPipeline() as p:
        out = {"journeys": p | "J" >> beam.Create([clean, twin, mixed]),
               "direct": p | "D" >> beam.Create([verified(0, source_id="p0", reasoning=CORRECT)])} | gate
        assert_that(out.kept | beam.Map(lambda e: e.example_id), equal_to([clean.example_id]), label="kept")
        assert_that(out.rejected | beam.Map(lambda r: (r.record_id, r.stage, r.step, r.reason, r.record_type)),
                    equal_to([("zz-twin", "mix", "journey_dedup_exact", "duplicate", "SftExample"),
                              (mixed.example_id, "mix", "journey_filter_language", "language_mixing", "SftExample")]),
                    label="rejected")
