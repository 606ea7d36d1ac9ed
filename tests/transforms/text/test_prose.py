"""What is not prose: LaTeX, code, URLs and think tags left out."""
from transforms.text.prose import prose_text


def test_prose_text_drops_latex_code_and_keeps_currency():
    text = "So $x = 2.$ Then \\[y^2\\] and `code` and $5 and $7 left.\n```\nprint(1)\n```"
    prose = prose_text(text)
    assert "x = 2" not in prose and "y^2" not in prose and "code" not in prose and "print" not in prose
    assert "$5 and $7 left" in prose
    assert "So . Then" in prose.replace("  ", " ")  # the full stop inside the maths ends the sentence
