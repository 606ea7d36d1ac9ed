"""Targets, supply and shortfall by kind and domain, and where a domain falls short, the
rejections of its sources counted by ``stage/step/reason`` (read from the ``source``,
``stage``, ``step`` and ``reason`` columns of every stage's rejections; the config maps
each source to its kind and domain). The card shows both (``publish.card``)."""
from __future__ import annotations

from typing import Dict, Iterable, List

from transforms.core import io as rio

#: The group of a kind without quotas: every domain of it.
ANY = "*"


def by_domain(buckets: Dict[str, dict]) -> Dict[str, dict]:
    """``{"kind/domain": {target, supply, selected, shortfall}}``, the journey and direct
    parts of a bucket added up (``*``: a kind without quotas by domain)."""
    out: Dict[str, dict] = {}
    for key, entry in sorted(buckets.items()):
        kind, _, group = key.split("/", 2)
        line = out.setdefault(f"{kind}/{group}", {"target": 0, "supply": 0, "selected": 0, "shortfall": 0})
        for name in line:
            line[name] += int(entry.get(name, 0))
    return out


def shortfall_reasons(lines: Dict[str, dict], rejection_files: Iterable[str], sources: List[dict]) -> Dict[str, dict]:
    """``{"kind/domain": {"stage/step/reason": n}}`` for every line that falls short: the
    rejections of the sources of that kind and domain (every domain of the kind for ``*``),
    most frequent first. ``sources``: the config's sources (``name``, ``kind``, ``domain``)."""
    short = [key for key, line in lines.items() if line["shortfall"] > 0]
    if not short:
        return {}
    of_source = {s["name"]: (s.get("kind", "reasoning"), s.get("domain", "math")) for s in sources}
    counts: Dict[str, Dict[str, int]] = {key: {} for key in short}
    for row in rio.read_columns(list(rejection_files), ["source", "stage", "step", "reason"]):
        kind, domain = of_source.get(row["source"], (None, None))
        for key in (f"{kind}/{domain}", f"{kind}/{ANY}"):
            if key in counts:
                reason = f"{row['stage']}/{row['step']}/{row['reason']}"
                counts[key][reason] = counts[key].get(reason, 0) + 1
    return {key: dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))) for key, c in counts.items()}


def domain_report(buckets: Dict[str, dict], rejection_files: Iterable[str], sources: List[dict]) -> dict:
    """The manifest's ``by_domain``: ``lines`` (targets, supply, selected, shortfall per
    kind and domain) and ``shortfall_reasons`` (the counted rejections of each short one)."""
    lines = by_domain(buckets)
    return {"lines": lines, "shortfall_reasons": shortfall_reasons(lines, rejection_files, sources)}
