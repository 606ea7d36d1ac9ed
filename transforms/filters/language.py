"""Language mixing: R1's language-consistency rule on reasoning + answer.

``filter_language`` → language: ``language_mixing``. The measure itself (scripts,
function words, langdetect) is in ``transforms.text.mixing``.
"""
from __future__ import annotations

from typing import Tuple, cast

from transforms.filters.config import FilterConfig, Measurement, drop, keep
from transforms.text.language import LanguageIdentifier, detect_prompt_language
from transforms.text.mixing import MixingMeter
from transforms.text.prose import normalize_language
from transforms.text.views import field_text, view


def target_language(record, config: FilterConfig, identifier: LanguageIdentifier) -> Tuple[str, str]:
    """(language, where it came from): the config, the record, the prompt, or the fallback."""
    if config.target_language:
        return cast(str, normalize_language(config.target_language)), "config"  # checked by FilterConfig
    own = normalize_language(getattr(record, "language", None))
    if own:
        return own, "record"
    detected = detect_prompt_language(field_text(record, "prompt"), identifier)
    if detected:
        return detected, "prompt"
    return cast(str, normalize_language(config.fallback_language)), "fallback"


def check_language_mixing(record, config: FilterConfig, meter: MixingMeter) -> Measurement:
    """R1's language consistency: the share of target-language words in reasoning + answer,
    and the longest passage in another language."""
    v = view(record)
    target, source = target_language(v, config, meter.identifier)
    measure = meter.measure(v.visible, target, prose=v.visible_prose, tokens=v.visible_tokens,
                            non_ascii=v.non_ascii)
    numbers = dict(measure.as_dict(), target_from=source, min_target_share=config.min_target_share,
                   min_share_units=config.min_share_units, max_foreign_run_words=config.max_foreign_run_words)
    counted = (measure.target_units or 0) + measure.foreign_units
    if counted >= config.min_share_units and measure.share < config.min_target_share:
        return drop("language_mixing", f"target-language ({target}) share {measure.share:.2f} < "
                                       f"{config.min_target_share} over {counted} words", **numbers)
    run = measure.longest
    if run is not None and run.units > config.max_foreign_run_words:
        return drop("language_mixing", f"{run.units}-word passage in {run.language} > "
                                       f"{config.max_foreign_run_words} (target {target}): {run.text!r}", **numbers)
    return keep(**numbers)
