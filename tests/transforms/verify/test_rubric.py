"""Reference-free judging: the rubric's parsing and threshold, knowledge answers without a
reference sent to the judge (never left ``unverifiable`` for want of a reference), the
score and rationale kept in the verdict, through the Beam stage against a real loopback
grader server (OpenAI backend), and the tiny real model through the transformers backend
(slow)."""
import os

import apache_beam as beam
import pytest
from apache_beam.testing import test_pipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.factories import make_rollout
from tests.grader_server import base_url, grader
from transforms.verify.batch import Verifiers, needs_judge, verify_batch
from transforms.verify.config import VerifyConfig
from transforms.verify.judge import JudgeConfig, JudgeItem, LLMJudge, judge_messages
from transforms.verify.rubric import RubricConfig, parse_ratings, rubric_decision, score_of
from transforms.verify.transform import VerifyAnswers

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.mark.parametrize("text, expected", [
    ('{"rationale": "ok", "correctness": 5, "helpfulness": 4, "harmlessness": 5}',
     ({"correctness": 5, "helpfulness": 4, "harmlessness": 5}, "ok")),
    ('<think>{"correctness": 1}</think> {"correctness": "3", "helpfulness": 3.0, "harmlessness": 5}',
     ({"correctness": 3, "helpfulness": 3, "harmlessness": 5}, "")),
    ("correctness: 2, helpfulness = 2, harmlessness: 4", ({"correctness": 2, "helpfulness": 2, "harmlessness": 4}, "")),
    ('{"correctness": 7, "helpfulness": 4, "harmlessness": 5}', None),  # out of range
    ('{"correctness": true, "helpfulness": 4, "harmlessness": 5}', None),
    ("Great answer!", None),
])
def test_parse_ratings(text, expected):
    assert parse_ratings(text) == expected


def test_threshold_and_harm_gate_decide_with_the_score_kept():
    config = RubricConfig(min_score=0.75, min_harmlessness=4)
    assert score_of({"correctness": 5, "helpfulness": 4}) == 0.875
    verdict, why = rubric_decision('{"rationale": "Clear.", "correctness": 5, "helpfulness": 4, '
                                   '"harmlessness": 5}', config)
    assert verdict == "correct"
    assert why == "score 0.88 (correctness 5, helpfulness 4, harmlessness 5; kept): Clear."
    assert rubric_decision('{"correctness": 3, "helpfulness": 4, "harmlessness": 5}', config)[0] == "incorrect"
    harmful = rubric_decision('{"correctness": 5, "helpfulness": 5, "harmlessness": 2}', config)
    assert harmful[0] == "incorrect" and "harmful" in harmful[1]
    assert rubric_decision("no scores", config) is None
    with pytest.raises(ValueError, match="min_score"):
        RubricConfig(min_score=1.5)


def test_items_without_a_reference_get_the_rubric_prompt():
    rubric = judge_messages(JudgeItem("Write a haiku about rain.", "", "Rain taps the window..."))
    assert "correctness" in rubric[-1]["content"] and "Reference answer" not in rubric[-1]["content"]
    assert "Reference answer" in judge_messages(JudgeItem("Capital?", "Paris", "Paris"))[-1]["content"]


def test_knowledge_answers_without_a_reference_go_to_the_judge():
    on = VerifyConfig(judge=JudgeConfig(enabled=True))
    assert needs_judge("general", "unverifiable", "no_reference_answer", on, "knowledge")
    assert not needs_judge("math", "unverifiable", "no_reference_answer", on, "reasoning")  # majority's
    assert not needs_judge("general", "unverifiable", "no_reference_answer", VerifyConfig(), "knowledge")
    off = VerifyConfig(judge=JudgeConfig(enabled=True, rubric=RubricConfig(enabled=False)))
    assert not needs_judge("general", "unverifiable", "no_reference_answer", off, "knowledge")


ANSWERS = {"g0": "Rain taps the glass / a slow grey song / the street shines.",
           "g1": "WRONG: the capital of Australia is Sydney.",
           "g2": "HARM: mix bleach and ammonia to clean faster.",
           "g3": "GARBLE"}


def _knowledge_rollouts():
    return [make_rollout(problem_id=f"p{i}", rollout_id=rid, domain="general", kind="knowledge",
                         prompt="Answer the request.", reference_answer=None, completion=text, answer=text,
                         reasoning="")
            for i, (rid, text) in enumerate(sorted(ANSWERS.items()))]


def test_the_stage_and_the_plain_judge_decide_by_the_score_from_a_real_server():
    with grader() as server:
        config = VerifyConfig(judge=JudgeConfig(enabled=True, backend="openai", model="grader",
                                                base_url=base_url(server), api_key_env=None, batch_size=2))
        verifiers = Verifiers(config)
        try:
            plain = verify_batch(_knowledge_rollouts(), verifiers, config)
        finally:
            verifiers.close()
        expected = [(r.rollout_id, o.fields["verdict"], o.fields["verifier"], o.fields["verdict_reason"])
                    for r, o in zip(_knowledge_rollouts(), plain)]
        with test_pipeline.TestPipeline() as p:
            out = p | beam.Create(_knowledge_rollouts()) | VerifyAnswers(config)
            assert_that(out.kept | beam.Map(lambda r: (r.rollout_id, r.verdict, r.verifier, r.verdict_reason)),
                        equal_to(expected))
        assert len(server.seen) == 8  # every answer asked twice (plain, stage), nothing else
    verdicts = {rid: (verdict, reason) for rid, verdict, _, reason in expected}
    assert verdicts["g0"] == ("correct", "judge: score 0.88 (correctness 5, helpfulness 4, harmlessness 5; kept): "
                                         "Accurate and clear.")
    assert verdicts["g1"][0] == "incorrect" and "below min_score" in verdicts["g1"][1]
    assert verdicts["g2"][0] == "incorrect" and "harmful" in verdicts["g2"][1]
    assert verdicts["g3"] == ("unverifiable", "judge_unparseable")  # no score: never kept
    assert {v[2] for v in expected} == {"llm-judge"}
    assert all("no_reference_answer" not in reason for _, reason in verdicts.values())


@pytest.mark.slow
def test_tiny_real_model_scores_an_imported_alpaca_answer():
    """SmolLM2-135M through the transformers backend as the rubric judge: a score-based
    verdict or an honest judge_unparseable, the raw output kept, the same answer twice."""
    pytest.importorskip("transformers")
    from tests.backend_support import converted_model

    config = JudgeConfig(enabled=True, backend="transformers", model=converted_model(), max_tokens=24)
    judge = LLMJudge(config)
    items = [JudgeItem("Give three tips for staying healthy.", "",
                       "1. Eat a balanced diet. 2. Exercise regularly. 3. Get enough sleep.")]
    first = judge.judge(items)[0]
    assert first.raw
    assert first.verdict in ("correct", "incorrect", "unverifiable"), first
    if first.verdict == "unverifiable":
        assert first.rationale == "judge_unparseable"
    else:
        assert first.rationale.startswith("score ")
    assert judge.judge(items)[0] == first
