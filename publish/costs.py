"""What each accepted example cost: the teacher's tokens, seconds and money spent on the
problems of a source, domain or kind, divided by the examples of that group in the corpus.

The mix manifest's ``cost_per_example`` (and the card's "Cost per accepted example")::

    {"currency": "USD", "priced": true, "accelerators": 1,
     "total": {"examples": 37, "prompt_tokens": ..., "completion_tokens": ..., "wall_s": ...,
               "amount": 0.0123, "per_example": {"prompt_tokens": ..., "completion_tokens": ...,
               "tokens": ..., "wall_s": ..., "accelerator_s": ..., "amount": ...}},
     "by_domain": {"math": {"examples": 30, "rollouts": 96, "problems": 24, ..., "per_example": {...}}},
     "by_source": {...}, "by_kind": {...}}

Per group the teacher's sampling is counted from the sample stage's rollouts (every
rollout of the group's problems, accepted or not: the tokens it took to get the
examples); ``generation_s`` sums each problem's request time (the latency of its
rollouts); ``wall_s`` and ``accelerator_s`` share the sample stage's wall time (times the
accelerators the teacher held) by the group's share of completion tokens. ``total`` adds
every stage's model calls (the judge in curate, the journey teacher in mix) and every
stage's wall time, over all examples. Money is at the configured prices (``cost.teacher``
for sampling); ``amount`` is ``null`` when they are not set. A problem rejected before
sampling costs nothing, which is the point of curating problems first.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional

from transforms.core import io as rio

GROUPS = ("source", "domain", "kind")
_SUMS = ("rollouts", "problems", "prompt_tokens", "completion_tokens", "generation_s")


def _price(tokens_prompt: float, tokens_completion: float, prices: dict) -> float:
    return (tokens_prompt * prices.get("prompt_per_million", 0.0)
            + tokens_completion * prices.get("completion_per_million", 0.0)) / 1e6


def _spent_by_group(rows: Iterable[dict]) -> Dict[str, Dict[str, dict]]:
    """{group: {value: sums}} over rollout rows (the problem's latency counted once)."""
    out: Dict[str, Dict[str, dict]] = {g: {} for g in GROUPS}
    problems: Dict[str, dict] = {}
    for row in rows:
        seen = problems.setdefault(row["problem_id"], {"latency": 0.0, "row": row})
        seen["latency"] = max(seen["latency"], float(row["latency_s"] or 0.0))
        for group in GROUPS:
            line = out[group].setdefault(str(row[group]), dict.fromkeys(_SUMS, 0))
            line["rollouts"] += 1
            line["prompt_tokens"] += int(row["prompt_tokens"] or 0)
            line["completion_tokens"] += int(row["completion_tokens"] or 0)
    for seen in problems.values():
        for group in GROUPS:
            line = out[group][str(seen["row"][group])]
            line["problems"] += 1
            line["generation_s"] += seen["latency"]
    return out


def _per_example(line: dict, examples: int, priced: bool) -> dict:
    def each(value: Optional[float], digits: int = 3) -> Optional[float]:
        return None if value is None or not examples else round(value / examples, digits)

    return {
        "prompt_tokens": each(line["prompt_tokens"], 1),
        "completion_tokens": each(line["completion_tokens"], 1),
        "tokens": each(line["prompt_tokens"] + line["completion_tokens"], 1),
        "wall_s": each(line.get("wall_s")),
        "accelerator_s": each(line.get("accelerator_s")),
        "amount": each(line.get("amount"), 8) if priced else None,
    }


def cost_per_example(rollout_files: List[str], data_files: List[str], stages: List[dict], prices: dict,
                     currency: str, accelerators: int) -> dict:
    """See the module docstring. ``stages``: the run's stage usage lines, each
    ``{"stage", "stage_s", "prompt", "completion", "amount"}`` (tokens and amount may be
    None); ``prices``: the teacher's per-million prices; ``accelerators``: how many the
    teacher held while sampling (0: unknown, no accelerator seconds)."""
    priced = bool(prices.get("prompt_per_million") or prices.get("completion_per_million"))
    spent = _spent_by_group(rio.read_columns(
        rollout_files, ["problem_id", "latency_s", "prompt_tokens", "completion_tokens", *GROUPS]))
    accepted = {g: rio.column_counts(data_files, [g]) for g in GROUPS}
    sample_s = sum(s["stage_s"] for s in stages if s["stage"] == "sample")
    completion_all = sum(line["completion_tokens"] for line in spent["kind"].values()) or 0
    out: dict = {"currency": currency, "priced": priced, "accelerators": accelerators or None}
    for group in GROUPS:
        lines = {}
        for value in sorted(set(spent[group]) | set(accepted[group])):
            line = dict(spent[group].get(value, dict.fromkeys(_SUMS, 0)))
            share = line["completion_tokens"] / completion_all if completion_all else 0.0
            line["generation_s"] = round(line["generation_s"], 3)
            line["wall_s"] = round(sample_s * share, 3)
            line["accelerator_s"] = round(sample_s * share * accelerators, 3) if accelerators else None
            line["amount"] = round(_price(line["prompt_tokens"], line["completion_tokens"], prices), 8) \
                if priced else None
            line["examples"] = accepted[group].get(value, 0)
            line["per_example"] = _per_example(line, line["examples"], priced)
            lines[value] = line
        out[f"by_{group}"] = lines
    examples = sum(accepted["kind"].values())
    known = [s for s in stages if s.get("prompt") is not None]
    amounts = [s["amount"] for s in stages if s.get("amount") is not None]
    total = {
        "examples": examples,
        "prompt_tokens": sum(s["prompt"] or 0 for s in known),
        "completion_tokens": sum(s["completion"] or 0 for s in known),
        "wall_s": round(sum(s["stage_s"] for s in stages), 3),
        "accelerator_s": round(sample_s * accelerators, 3) if accelerators else None,
        "amount": round(sum(amounts), 8) if priced and amounts else None,
    }
    total["per_example"] = _per_example(total, examples, priced)
    out["total"] = total
    return out


def _cell(value, digits: int = 1) -> str:
    if value is None:
        return "unknown"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def _money(value: Optional[float], currency: str) -> str:
    return "unknown" if value is None else f"{value:.6f} {currency}"


def cost_section(cost: Optional[dict], table) -> List[str]:
    """The card's "Cost per accepted example" section (``table``: the card's markdown
    table helper); nothing for a manifest without ``cost_per_example``."""
    if not cost:
        return []
    currency = cost["currency"]
    total = cost["total"]
    each = total["per_example"]
    parts = [
        "## Cost per accepted example",
        f"The whole run: {_cell(total['prompt_tokens'])} prompt + {_cell(total['completion_tokens'])} completion "
        f"tokens (every stage's model calls) and {_cell(total['wall_s'])} s for {total['examples']} examples: "
        f"{_cell(each['tokens'])} tokens, {_cell(each['wall_s'], 3)} s and {_money(each['amount'], currency)} "
        "per accepted example" + ("" if cost["priced"] else " (no prices set: `cost.teacher`)") + ". "
        "By group, the teacher's sampling of the group's problems (every rollout, accepted or not) "
        "over the group's examples; wall and accelerator seconds are the sample stage's, shared by "
        "completion tokens.",
    ]
    header = ["examples", "rollouts", "prompt tok/ex", "completion tok/ex", "tokens/ex", "wall s/ex",
              "accelerator s/ex", f"{currency}/ex"]
    for group in GROUPS:
        rows = [[value or "(unset)", line["examples"], line["rollouts"],
                 _cell(line["per_example"]["prompt_tokens"]), _cell(line["per_example"]["completion_tokens"]),
                 _cell(line["per_example"]["tokens"]), _cell(line["per_example"]["wall_s"], 3),
                 _cell(line["per_example"]["accelerator_s"], 3), _money(line["per_example"]["amount"], currency)]
                for value, line in cost[f"by_{group}"].items()]
        parts += [f"### Cost by {group}", table([group] + header, rows)]
    return parts
