"""Accounting: counts read back from the written Parquet files, the rejection
funnel, stage manifests, and the checks that every input ended somewhere.

Nothing here trusts in-flight counters: every number comes from output data (row
counts in Parquet footers, columns of the rejection and dead-letter files).
"""
from __future__ import annotations

from typing import Dict, Iterable, List

from transforms.io import column_counts, file_entries, list_shards


class AccountingError(RuntimeError):
    """The outputs of a stage don't add up to its inputs."""


def collect(out_dir: str, names: Iterable[str]) -> Dict[str, dict]:
    """``{name: {"files": [...], "rows": N}}`` for the shards under ``out_dir/name``."""
    out = {}
    for name in names:
        entries = file_entries(list_shards(f"{out_dir}/{name}"))
        out[name] = {"files": entries, "rows": sum(e["rows"] for e in entries)}
    return out


def paths(outputs: Dict[str, dict], name: str) -> List[str]:
    return [e["path"] for e in outputs.get(name, {}).get("files", [])]


def funnel(outputs: Dict[str, dict]) -> Dict[str, Dict[str, int]]:
    """Rejections by stage/step/reason and dead letters by stage/step/reason prefix."""
    rejected = column_counts(paths(outputs, "rejections"), ["stage", "step", "reason"])
    dead_raw = column_counts(paths(outputs, "dead_letters"), ["stage", "step", "error"])
    dead: Dict[str, int] = {}
    for key, n in dead_raw.items():
        stage, step, error = key.split("/", 2)
        reason = error.split(":", 1)[0].strip() or "error"
        k = f"{stage}/{step}/{reason}"
        dead[k] = dead.get(k, 0) + n
    return {"rejected": rejected, "dead_letters": dict(sorted(dead.items()))}


def by_stage(counts: Dict[str, int]) -> Dict[str, int]:
    out: Dict[str, int] = {}
    for key, n in counts.items():
        stage = key.split("/", 1)[0]
        out[stage] = out.get(stage, 0) + n
    return out


def check_balance(label: str, inputs: int, **parts: int) -> dict:
    """``inputs == sum(parts)`` or an AccountingError naming every number."""
    total = sum(parts.values())
    line = {"in": inputs, **parts}
    if inputs != total:
        detail = ", ".join(f"{k}={v}" for k, v in parts.items())
        raise AccountingError(f"{label}: {inputs} in but {total} out ({detail})")
    return line


def format_summary(stage_lines: Dict[str, dict], funnel_counts: Dict[str, Dict[str, int]]) -> str:
    """A printable summary: one balance line per stage, then the reasons."""
    lines = ["reasoning-corpus summary (counts from output files):"]
    for stage, parts in stage_lines.items():
        inputs = parts["in"]
        rest = ", ".join(f"{k} {v}" for k, v in parts.items() if k != "in")
        lines.append(f"  {stage:<8} {inputs} in = {rest}")
    for kind in ("rejected", "dead_letters"):
        counts = funnel_counts.get(kind) or {}
        if counts:
            lines.append(f"  {kind.replace('_', ' ')}:")
            for key, n in counts.items():
                lines.append(f"    {key:<48} {n}")
    return "\n".join(lines)
