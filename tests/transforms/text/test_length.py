"""Tokenizer-free token estimates."""
from transforms.text.length import count_words, estimate_tokens


def test_estimate_tokens_counts_cjk_characters_one_each():
    assert estimate_tokens("abcd" * 10) == 10
    assert estimate_tokens("我们计算") == 4
    assert estimate_tokens("") == 0


def test_count_words_counts_wide_characters_one_each():
    assert count_words("two words") == 2
    assert count_words("我们 计算 it") == 5
    assert count_words("") == 0
