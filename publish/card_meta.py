"""The card's metadata: the ``card:`` config section and the YAML front matter.

:class:`CardConfig` is the run config's ``card`` section: licence, pretty name, languages,
tags, how many example rows the card shows and how long, and the dataset's name in
``dataset_info.json``. It decides no row, so it is not part of the config hash; the
manifest stores it with the rest of the config, so ``report DIR`` renders the same card.

:func:`card_data` builds ``huggingface_hub``'s ``DatasetCardData`` from a mix manifest:
licence, languages (the config's, else the corpus's ``language`` values), size
category, task categories, tags, pretty name, and the ``configs:`` entry whose
``data_files`` make ``datasets.load_dataset(DIR)`` read exactly the shards.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any, Dict, Tuple

from publish.layout import DATA_GLOB

#: The Hub's size categories: (upper bound, label); the last is open-ended.
SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                   (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"),
                   (1_000_000_000, "100M<n<1B"))
TASK_CATEGORIES = ("text-generation",)
_ID = re.compile(r"^[a-z0-9][a-z0-9.+-]*$")
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclasses.dataclass(frozen=True)
class CardConfig:
    """The dataset card's metadata (``card:`` in the run config; not hashed)."""

    pretty_name: str = "Reasoning SFT corpus"
    #: a Hub licence id (apache-2.0, mit, cc-by-4.0, other, …): the teacher's terms decide it
    license: str = "unknown"
    #: language codes; empty: the corpus's ``language`` values (set per source)
    languages: Tuple[str, ...] = ()
    tags: Tuple[str, ...] = ("reasoning", "sft", "synthetic")
    #: example rows shown in the card, and the characters kept of each turn
    examples: int = 3
    example_chars: int = 400
    #: the dataset's name in dataset_info.json (LLaMA-Factory's ``dataset:``)
    dataset_name: str = "reasoning_corpus"

    def __post_init__(self):
        if not self.pretty_name.strip():
            raise ValueError("pretty_name: must not be empty")
        if not _ID.match(self.license):
            raise ValueError(f"license: expected a Hub licence id like apache-2.0, mit or other, got {self.license!r}")
        for name in ("languages", "tags"):
            bad = [v for v in getattr(self, name) if not v or v != v.strip() or " " in v]
            if bad:
                raise ValueError(f"{name}: entries must be non-empty and without spaces, got {bad[0]!r}")
        if not 0 <= self.examples <= 20:
            raise ValueError("examples: must be in [0, 20]")
        if self.example_chars < 40:
            raise ValueError("example_chars: must be >= 40")
        if not _NAME.match(self.dataset_name):
            raise ValueError(f"dataset_name: letters, digits, '_', '.' and '-' only, got {self.dataset_name!r}")


def card_settings(manifest: dict) -> CardConfig:
    """The card section stored in a manifest's config (defaults for a manifest without one)."""
    raw = manifest.get("config", {}).get("card") or {}
    known = {f.name for f in dataclasses.fields(CardConfig)}
    values: Dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items() if k in known}
    return CardConfig(**values)


def size_category(rows: int) -> str:
    """The Hub's size category of a dataset of ``rows`` examples."""
    return next((label for bound, label in SIZE_CATEGORIES if rows < bound), "n>1B")


def languages(manifest: dict) -> Tuple[str, ...]:
    """The card's languages: the config's, else the corpus's ``language`` values (unset ones left out)."""
    configured = card_settings(manifest).languages
    if configured:
        return configured
    return tuple(sorted(k for k in manifest.get("counts", {}).get("by_language", {}) if k))


def configs_entry() -> list:
    """The ``configs:`` metadata: one config, ``default``, whose train split is the shards."""
    return [{"config_name": "default", "data_files": [{"split": "train", "path": DATA_GLOB}]}]


def card_data(manifest: dict):
    """``huggingface_hub.DatasetCardData`` of a mix manifest (see the module docstring)."""
    from huggingface_hub import DatasetCardData

    settings = card_settings(manifest)
    langs = languages(manifest)
    return DatasetCardData(
        language=list(langs) or None,
        license=settings.license,
        pretty_name=settings.pretty_name,
        size_categories=[size_category(manifest["rows"])],
        task_categories=list(TASK_CATEGORIES),
        tags=list(settings.tags),
        configs=configs_entry(),
    )
