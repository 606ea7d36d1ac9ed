"""Answers in words: prose answers of maths problems and knowledge answers
(normalized match, numeric tolerance, token F1, aliases)."""
import pytest

from transforms.verify.matching.prose import as_text_answer, gold_aliases, knowledge_verdict, token_f1


@pytest.mark.parametrize(
    "answer,expected",
    [
        ("Monday", "monday"), ("\\text{Evelyn}", "evelyn"), ("\\text{ even }", "even"), ("the north pole", "the north pole"),
        ("x", None), ("\\sin x", None), ("3 apples", None), ("\\text{(C)}", None), ("ab", None), ("x + y", None),
    ],
)
def test_as_text_answer(answer, expected):
    assert as_text_answer(answer) == expected


# -- knowledge rules -------------------------------------------------------------

KNOWLEDGE = dict(rel_tol=1e-4, f1_correct=0.8, f1_incorrect=0.0, max_gold_words=10)


@pytest.mark.parametrize(
    "gold,pred,expected",
    [
        ("Paris", "paris", ("correct", "normalized_match")),
        ("The Beatles", "Beatles!", ("correct", "normalized_match")),
        ("Gabriel García Márquez", "gabriel garcia marquez", ("correct", "normalized_match")),
        ('["Everest", "Mount Everest"]', "Mount Everest", ("correct", "normalized_match")),
        ("299792458", "299,792,458", ("correct", "numeric_within_tolerance (rel 0.0001)")),
        ("35", "3.5", ("incorrect", "no_match (best token_f1=0.00)")),
        ("9.81", "9.8100001", ("correct", "numeric_within_tolerance (rel 0.0001)")),
        ("1945", "1944", ("incorrect", "no_match (best token_f1=0.00)")),
        ("George Washington", "President George Washington", ("correct", "token_f1=0.80")),
        ("Paris", "Lyon", ("incorrect", "no_match (best token_f1=0.00)")),
        ("George Washington", "Washington", None),  # partial: the judge decides
        ("the process by which plants turn light, water and carbon dioxide into sugar and oxygen",
         "respiration", None),  # a long reference is never ruled incorrect by F1
    ],
)
def test_knowledge_verdict(gold, pred, expected):
    assert knowledge_verdict(gold, pred, **KNOWLEDGE) == expected


@pytest.mark.parametrize("pred,gold,f1", [("x b c", "b c d", 2 / 3), ("", "x", 0.0), ("The cat", "cat", 1.0)])
def test_token_f1(pred, gold, f1):
    assert token_f1(pred, gold) == pytest.approx(f1)


def test_gold_aliases():
    assert gold_aliases("['a', 'b']") == ["a", "b"]
    assert gold_aliases("[1, 2]") == ["[1, 2]"]
    assert gold_aliases("Paris") == ["Paris"]
