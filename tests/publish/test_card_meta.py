"""The card's metadata: size categories, languages, and the card section of old manifests."""
import pytest

from publish.card_meta import CardConfig, card_data, card_settings, languages, size_category


@pytest.mark.parametrize("rows, label", [
    (0, "n<1K"), (999, "n<1K"), (1000, "1K<n<10K"), (9_999, "1K<n<10K"), (37_000, "10K<n<100K"),
    (800_000, "100K<n<1M"), (1_000_000, "1M<n<10M"), (2_000_000_000, "n>1B"),
])
def test_size_category(rows, label):
    assert size_category(rows) == label


def test_languages_come_from_the_config_else_the_corpus_and_unset_ones_are_left_out():
    manifest = {"counts": {"by_language": {"": 5, "en": 3, "de": 1}}, "config": {}}
    assert languages(manifest) == ("de", "en")
    assert languages(dict(manifest, config={"card": {"languages": ["fr"]}})) == ("fr",)
    assert languages({"counts": {"by_language": {"": 5}}}) == ()


def test_a_manifest_without_a_card_section_gets_the_defaults():
    assert card_settings({"config": {"seed": 1}}) == CardConfig()
    data = card_data({"rows": 12, "counts": {"by_language": {"": 12}}, "config": {}})
    assert data.language is None and data.license == "unknown" and data.size_categories == ["n<1K"]
