"""How the completion ended and was judged, and how long it is: truncation, verdict and
token-length rules.

- ``filter_truncation`` → truncation: ``truncated`` (finish reason ``length``)
- ``filter_verdict`` → verdict: the verdict itself (``incorrect``, ``no_answer``, …)
- ``filter_length`` → length: ``{prompt,reasoning,answer}_too_{short,long}``
"""
from __future__ import annotations

from typing import Dict, Tuple

from transforms.filters.config import DEFAULT_CONFIG, FilterConfig, Measurement, drop, keep
from transforms.text.length import estimate_tokens
from transforms.text.views import field_text


def check_truncated(record, config: FilterConfig = DEFAULT_CONFIG) -> Measurement:
    """Completions cut off by the token limit."""
    finish = getattr(record, "finish_reason", None)
    numbers = dict(finish_reason=finish, completion_tokens=getattr(record, "completion_tokens", None),
                   max_tokens=getattr(record, "max_tokens", None))
    if finish == "length":
        return Measurement("truncated", f"finish_reason=length at {numbers['completion_tokens']} tokens "
                                        f"(max_tokens={numbers['max_tokens']})", numbers)
    return Measurement(None, "", numbers)


def check_verdict(record, config: FilterConfig = DEFAULT_CONFIG) -> Measurement:
    """Verdicts outside ``keep_verdicts``; the verdict is the reason."""
    verdict = getattr(record, "verdict", None)
    if verdict is None:
        return keep("not verified: no verdict", verdict=None)
    if verdict not in config.keep_verdicts:
        return drop(verdict, f"verdict={verdict} (extracted={getattr(record, 'extracted_answer', None)!r}, "
                             f"reference={getattr(record, 'reference_answer', None)!r}): "
                             f"{getattr(record, 'verdict_reason', '')}", verdict=verdict)
    return keep(verdict=verdict)


def token_lengths(record) -> Tuple[Dict[str, int], str]:
    """Tokens of the prompt, reasoning and answer, and how they were counted.

    The record's ``prompt_tokens`` and ``completion_tokens`` are used when set (the
    completion's split between reasoning and answer is estimated); otherwise all
    three are estimated with ``estimate_tokens``."""
    prompt_tokens = getattr(record, "prompt_tokens", None) or 0
    completion_tokens = getattr(record, "completion_tokens", None) or 0
    est = {part: estimate_tokens(field_text(record, part)) for part in ("prompt", "reasoning", "answer")}
    method = "estimated"
    if prompt_tokens > 0:
        est["prompt"], method = prompt_tokens, "counted"
    both = est["reasoning"] + est["answer"]
    if completion_tokens > 0 and both:
        est["reasoning"] = round(completion_tokens * est["reasoning"] / both)
        est["answer"] = completion_tokens - est["reasoning"]
        method = "counted" if method == "counted" else "mixed"
    return est, method


def check_length(record, config: FilterConfig = DEFAULT_CONFIG) -> Measurement:
    """Token-length bounds on the prompt, the reasoning and the answer."""
    tokens, method = token_lengths(record)
    numbers = dict({f"{part}_tokens": n for part, n in tokens.items()}, tokens_from=method)
    for part in ("prompt", "reasoning", "answer"):
        n, low, high = tokens[part], getattr(config, f"min_{part}_tokens"), getattr(config, f"max_{part}_tokens")
        if n < low:
            return drop(f"{part}_too_short", f"{part} {n} tokens < min_{part}_tokens {low}", **numbers)
        if high and n > high:
            return drop(f"{part}_too_long", f"{part} {n} tokens > max_{part}_tokens {high}", **numbers)
    return keep(**numbers)
