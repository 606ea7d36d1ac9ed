"""Readability rules: long paragraphs, code in maths, markdown overuse, garbage characters."""
import pytest

from tests.traces import EN_REASONING, en_trace, insert_paragraph
from transforms.filters.readability import check_long_paragraph, check_markdown_overuse
from transforms.filters.registry import first_failure


def failing(record, rules):
    failure = first_failure(record, rules)
    return failure[1] if failure else None


LONG_PARAGRAPH = " ".join(["The total is the sum of every part we found so far"] * 45)  # 540 words
CODE_BLOCK = "Let me compute it in Python:\n\n```python\nprint(16 - 3 - 4)\n```\n\nIt prints 9."
MARKDOWN = "\n".join(f"## Step {i}\n- **Compute** the **value**\n- **Check** it" for i in range(6))


@pytest.mark.parametrize("reasoning, fields, expected", [
    (EN_REASONING, {}, None),
    (insert_paragraph(EN_REASONING, LONG_PARAGRAPH), {}, "long_paragraph"),
    (insert_paragraph(EN_REASONING, CODE_BLOCK), {}, "code_in_math"),
    (insert_paragraph(EN_REASONING, CODE_BLOCK), {"domain": "code"}, None),
    (insert_paragraph(EN_REASONING, MARKDOWN), {}, "markdown_overuse"),
    (EN_REASONING.replace("eggs", "eggs\x00\x01"), {}, "garbage_characters"),
    (EN_REASONING.replace("She", "\ufffdShe\ufffd"), {}, "garbage_characters"),
    (EN_REASONING.replace("She", "She\u200b", 1), {}, None),  # one zero-width space is tolerated
], ids=["clean", "long-paragraph", "code-fence", "code-domain", "markdown", "controls", "replacement",
        "one-zero-width"])
def test_readability(reasoning, fields, expected, rules):
    assert failing(en_trace(reasoning=reasoning, **fields), rules) == expected


def test_readability_details_carry_the_numbers():
    record = en_trace(reasoning=insert_paragraph(EN_REASONING, LONG_PARAGRAPH))
    assert check_long_paragraph(record).detail == "paragraph of 540 words > 400"
    markdown = check_markdown_overuse(en_trace(reasoning=insert_paragraph(EN_REASONING, MARKDOWN)))
    assert markdown.numbers["markdown_elements"] == 6 + 12 + 18  # headings, bullets, bold spans
