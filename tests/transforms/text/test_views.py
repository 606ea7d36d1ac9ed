"""Record views: the visible text, paragraphs, prose and tokens, derived once per record."""
from tests.factories import verified
from transforms.text.views import TraceView, field_text, paragraphs, view, visible_text


def test_visible_text_is_reasoning_then_answer():
    record = verified(reasoning="Think.", answer="Done.")
    assert visible_text(record) == "Think.\n\nDone."
    assert visible_text(verified(reasoning="Think.", answer="")) == "Think."


def test_view_wraps_once_and_reads_the_records_fields():
    record = verified(reasoning="We add $2 + 3$.\n  \nSo 5.", answer="\\boxed{5}")
    v = view(record)
    assert isinstance(v, TraceView) and view(v) is v
    assert v.rollout_id == record.rollout_id and v.record is record
    assert v.reasoning_paragraphs == ["We add $2 + 3$.", "So 5."]
    assert v.reasoning_tokens == [b"we", b"add", b"so"]  # LaTeX is not prose; digits split tokens
    assert not v.has_cjk and view(verified(reasoning="我们计算")).has_cjk


def test_missing_fields_read_as_empty_text():
    class Bare:
        reasoning = None

    assert field_text(Bare(), "reasoning") == "" and field_text(Bare(), "answer") == ""
    assert view(Bare()).visible == ""
    assert paragraphs("a\n\nb\n \t\nc") == ["a", "b", "c"]
