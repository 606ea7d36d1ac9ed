"""The knowledge route: the stated answer, a short uncued one, or the judge's call."""
from transforms.verify.config import VerifyConfig
from transforms.verify.routes.knowledge import final_answer_text, verify_knowledge


def test_final_answer_text_is_after_the_thinking():
    assert final_answer_text("<think>maybe Lyon</think>\n Paris. ") == "Paris."
    assert final_answer_text(" Paris ") == "Paris"


def test_long_uncued_answer_is_left_to_the_judge():
    text = "It is " + "very " * 40 + "likely Paris."
    fields = verify_knowledge(text, "Paris", VerifyConfig())
    assert (fields["extracted_answer"], fields["verdict"]) == (None, "unverifiable")
    assert fields["verdict_reason"] == "needs_judge: long answer without a stated final answer"
    assert verify_knowledge("<think>hm</think>", "Paris", VerifyConfig())["verdict"] == "no_answer"
