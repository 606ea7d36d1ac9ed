"""Accounting: counts read back from the written Parquet files, the rejection
funnel, stage manifests, and the checks that every input ended somewhere.

Nothing here trusts in-flight counters: every number comes from output data (row
counts in Parquet footers, columns of the rejection and dead-letter files).

:func:`verify_manifest` re-checks a published stage (or a whole run) from its
manifest: every listed file's checksum, size and row count, no unlisted shard
readable beside them, every accounting line balanced, the stages chained, the
share of dead letters under the configured limit (:func:`check_dead_letter_share`),
and, for a corpus, the card's files there and ``dataset_info.json`` matching the shards.
"""
from __future__ import annotations

import hashlib
import io
import os
from typing import Dict, Iterable, List

import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from publish.llamafactory import dataset_info_problems
from transforms.core.io import (
    column_counts,
    file_entries,
    list_shards,
    manifest_path,
    read_json,
    resolve_path,
)

#: Keys of an accounting line that count a copy of some of the line's own parts, handed
#: to a later stage, not a fate of their own: {key: the part it copies}. The curate
#: stage's wrong attempts are rejected rows (every one with a wrong verdict; the journey
#: step takes some of them in).
COPIES = {"wrong_attempts": "rejected"}

#: Keys of an accounting line that are not a share of its inputs.
NOT_PARTS = frozenset({"in", "rollouts"}) | frozenset(COPIES)

#: How the stages chain: (stage, its key) must equal the sum of (upstream line, key)
#: terms; the first term's line must be there, the others count 0 when absent (the
#: journey line exists only when journeys are on, and mix takes the curated rollouts
#: plus the journey step's inputs).
CHAIN = (
    ("sample", "in", (("ingest", "problems"),)),
    ("curate", "in", (("sample", "rollouts"),)),
    ("mix", "in", (("curate", "kept"), ("journey", "in"))),
)

#: (stage, its key) never exceeds (upstream line, key), which counts 0 when absent: the
#: journey step takes the wrong attempts its own ``wrong_verdicts`` name among those the
#: curate stage wrote (all of them), some or all, never more.
TAKES = (
    ("journey", "in", ("curate", "wrong_attempts")),
)


#: Accounting lines named after the ``stage`` column of rejections and dead letters
#: (a sub-step's line, like mix's journey, shares its stage's column).
STAGES = ("ingest", "sample", "curate", "mix")


class AccountingError(RuntimeError):
    """The outputs of a stage don't add up to its inputs."""


class PoisonError(AccountingError):
    """Too many dead letters: a stage's share is above ``max_dead_letter_share``."""


class ManifestError(AccountingError):
    """A published manifest that does not match its files, or does not add up."""


def collect(out_dir: str, names: Iterable[str]) -> Dict[str, dict]:
    """``{name: {"files": [...], "rows": N}}`` for the shards under ``out_dir/name``."""
    out = {}
    for name in names:
        entries = file_entries(list_shards(f"{out_dir}/{name}"))
        out[name] = {"files": entries, "rows": sum(e["rows"] for e in entries)}
    return out


def paths(outputs: Dict[str, dict], name: str) -> List[str]:
    return [e["path"] for e in outputs.get(name, {}).get("files", [])]


def funnel(outputs: Dict[str, dict], rejections: str = "rejections",
           dead_letters: str = "dead_letters") -> Dict[str, Dict[str, int]]:
    """Rejections by stage/step/reason and dead letters by stage/step/reason prefix
    (``rejections``, ``dead_letters``: their output names; the mix stage's are under ``mix/``)."""
    rejected = column_counts(paths(outputs, rejections), ["stage", "step", "reason"])
    dead_raw = column_counts(paths(outputs, dead_letters), ["stage", "step", "error"])
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


def dead_letter_shares(lines: Dict[str, dict]) -> Dict[str, float]:
    """Dead letters over inputs, per accounting line that has any inputs."""
    return {stage: line.get("dead", 0) / line["in"] for stage, line in lines.items()
            if line.get("in")}


def check_dead_letter_share(lines: Dict[str, dict], max_share: float, where: str = "") -> None:
    """Raise PoisonError when a stage dead-lettered more than ``max_share`` of its inputs.

    Beam's ``with_exception_handling`` never fails a pipeline; this is the limit
    that does: a few bad records are reported, a flood of them stops the run."""
    over = {stage: share for stage, share in dead_letter_shares(lines).items() if share > max_share}
    if over:
        detail = "; ".join(f"{stage}: {lines[stage].get('dead', 0)} of {lines[stage]['in']} "
                           f"({share:.1%})" for stage, share in sorted(over.items()))
        place = f" (dead letters under {where})" if where else ""
        raise PoisonError(f"dead letters above max_dead_letter_share={max_share:g}: "
                          f"{detail}{place}")


def check_balance(label: str, inputs: int, **parts: int) -> dict:
    """``inputs == sum(parts)`` or an AccountingError naming every number."""
    total = sum(parts.values())
    line = {"in": inputs, **parts}
    if inputs != total:
        detail = ", ".join(f"{k}={v}" for k, v in parts.items())
        raise AccountingError(f"{label}: {inputs} in but {total} out ({detail})")
    return line


def check_copies(label: str, line: dict) -> None:
    """A copy (``COPIES``) never holds more rows than the part it copies, or AccountingError."""
    problems = copy_problems(label, line)
    if problems:
        raise AccountingError("; ".join(problems))


def copy_problems(label: str, line: dict) -> List[str]:
    return [f"{label}: {line[key]} {key} but only {line.get(part, 0)} {part} (they are a copy of {part} rows)"
            for key, part in COPIES.items() if key in line and line[key] > line.get(part, 0)]


def format_summary(stage_lines: Dict[str, dict], funnel_counts: Dict[str, Dict[str, int]]) -> str:
    """A printable summary: one balance line per stage (what is not a share of the
    inputs after a semicolon), then the reasons."""
    lines = ["reasoning-corpus summary (counts from output files):"]
    shares = dead_letter_shares(stage_lines)
    for stage, parts in stage_lines.items():
        inputs = parts["in"]
        rest = ", ".join(f"{k} {v}" for k, v in parts.items() if k not in NOT_PARTS)
        dead = f" ({shares[stage]:.1%} dead)" if parts.get("dead") else ""
        extra = ", ".join(f"{k} {v}" for k, v in parts.items() if k in NOT_PARTS and k != "in")
        lines.append(f"  {stage:<8} {inputs} in = {rest}{dead}" + (f"; {extra}" if extra else ""))
    for kind in ("rejected", "dead_letters"):
        counts = funnel_counts.get(kind) or {}
        if counts:
            lines.append(f"  {kind.replace('_', ' ')}:")
            for key, n in counts.items():
                lines.append(f"    {key:<48} {n}")
    return "\n".join(lines)


# -- verifying a published manifest ------------------------------------------------


def _file_problems(base: str, name: str, info: dict) -> List[str]:
    """Checksums, sizes and row counts of one output's listed files, and unlisted shards."""
    problems = []
    listed = []
    for entry in info.get("files", []):
        path = resolve_path(base, entry["path"])
        listed.append(path)
        if not FileSystems.exists(path):
            problems.append(f"{name}: listed file missing: {path}")
            continue
        with FileSystems.open(path) as fh:
            data = fh.read()
        if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
            problems.append(f"{name}: checksum mismatch: {path}")
        if len(data) != entry.get("bytes"):
            problems.append(f"{name}: {path} has {len(data)} bytes, manifest says {entry.get('bytes')}")
        try:
            rows = pq.ParquetFile(io.BytesIO(data)).metadata.num_rows
        except Exception as exc:  # noqa: BLE001 - a torn or foreign file
            problems.append(f"{name}: {path} is not readable Parquet: {exc}")
            continue
        if rows != entry.get("rows"):
            problems.append(f"{name}: {path} has {rows} rows, manifest says {entry.get('rows')}")
    total = sum(e.get("rows", 0) for e in info.get("files", []))
    if total != info.get("rows"):
        problems.append(f"{name}: files hold {total} rows, manifest says {info.get('rows')}")
    unlisted = sorted(set(list_shards(FileSystems.join(base, name))) - set(listed))
    if unlisted:
        problems.append(f"{name}: shard(s) readable but not in the manifest: {', '.join(unlisted)}")
    return problems


def _accounting_problems(manifest: dict) -> List[str]:
    """Balanced accounting lines, chained stages, the funnel agreeing with the lines."""
    lines = manifest.get("accounting", {})
    problems = []
    for stage, line in lines.items():
        parts = sum(v for k, v in line.items() if k not in NOT_PARTS)
        if line.get("in") != parts:
            problems.append(f"accounting: {stage}: {line.get('in')} in but {parts} out ({line})")
        problems.extend(f"accounting: {p}" for p in copy_problems(stage, line))
    for stage, key, terms in CHAIN:
        if stage in lines and terms[0][0] in lines:
            upstream = sum(lines.get(line, {}).get(term_key, 0) for line, term_key in terms)
            if lines[stage].get(key) != upstream:
                names = " + ".join(f"{line}.{term_key}" for line, term_key in terms)
                problems.append(f"accounting: {stage}.{key}={lines[stage].get(key)} but {names}={upstream}")
    for stage, key, (line, term_key) in TAKES:
        if stage in lines and line in lines and lines[stage].get(key, 0) > lines[line].get(term_key, 0):
            problems.append(f"accounting: {stage}.{key}={lines[stage].get(key)} but "
                            f"{line}.{term_key}={lines[line].get(term_key, 0)} (it takes some of them, never more)")
    funnel_counts = manifest.get("funnel", {})
    for kind, key in (("rejected", "rejected"), ("dead_letters", "dead")):
        counted = by_stage(funnel_counts.get(kind, {}))
        for stage, line in lines.items():
            if stage in STAGES and key in line and line[key] != counted.get(stage, 0):
                problems.append(f"funnel: {stage}: {counted.get(stage, 0)} {kind} in the funnel, "
                                f"{line[key]} in the accounting")
    data = manifest.get("outputs", {}).get("data/train")
    if "rows" in manifest and data is not None and manifest["rows"] != data.get("rows"):
        problems.append(f"rows: manifest says {manifest['rows']}, data/train holds {data.get('rows')}")
    return problems


def _card_problems(base: str, manifest: dict) -> List[str]:
    """A mix manifest's card files (README, plots, dataset_info.json) exist, and
    dataset_info.json describes the shards as LLaMA-Factory reads them."""
    card = manifest.get("card") or {}
    listed = [card.get("readme")] + list(card.get("plots", []))
    problems = [f"card: listed file missing: {FileSystems.join(base, p)}" for p in listed
                if p and not FileSystems.exists(FileSystems.join(base, p))]
    if card.get("dataset_info"):
        problems.extend(dataset_info_problems(base, manifest))
    return problems


def _verify_one(path: str) -> dict:
    """Check one manifest; returns its summary, or raises ManifestError listing every problem."""
    mpath = manifest_path(path)
    if not FileSystems.exists(mpath):
        raise ManifestError(f"{mpath}: no manifest (the stage was never published, or a "
                            f"re-run withdrew it)")
    manifest = read_json(mpath)
    base = FileSystems.split(mpath)[0]
    problems = []
    for name, info in manifest.get("outputs", {}).items():
        problems.extend(_file_problems(base, name, info))
    problems.extend(_accounting_problems(manifest))
    problems.extend(_card_problems(base, manifest))
    max_share = manifest.get("config", {}).get("max_dead_letter_share", 1.0)
    try:
        check_dead_letter_share(manifest.get("accounting", {}), max_share, where=base)
    except PoisonError as exc:
        problems.append(str(exc))
    if problems:
        raise ManifestError(f"{mpath}: " + "; ".join(problems))
    outputs = manifest.get("outputs", {})
    return {
        "manifest": mpath,
        "stage": manifest.get("stage"),
        "files": sum(len(info.get("files", [])) for info in outputs.values()),
        "rows": {name: info.get("rows") for name, info in outputs.items()},
        "upstream": manifest.get("upstream", {}),
    }


def verify_manifest(path: str, upstream: bool = True) -> Dict[str, dict]:
    """Verify a published stage (a folder or its manifest.json) and, with ``upstream``,
    the stages it was built from; returns ``{stage: summary}``.

    Raises ManifestError (an AccountingError) naming every mismatch: a missing or
    altered file (sha256, bytes, Parquet row count), a shard readable under an
    output's prefix but not listed, accounting lines that don't add up or don't
    chain, a funnel that disagrees with them, a dead-letter share above the
    run's ``max_dead_letter_share``, or a corpus's card file missing or its
    ``dataset_info.json`` not matching the shards. Relative upstream paths are taken as the
    launcher recorded them (relative to its working directory)."""
    checked: Dict[str, dict] = {}
    pending: List[str] = [path]
    seen = set()
    while pending:
        current = pending.pop(0)
        key = manifest_path(current) if "://" in current else os.path.abspath(manifest_path(current))
        if key in seen:
            continue
        seen.add(key)
        summary = _verify_one(current)
        checked[summary["stage"] or current] = summary
        if upstream:
            pending.extend(summary["upstream"].values())
    return checked


def format_verification(checked: Dict[str, dict]) -> str:
    """One line per verified stage."""
    lines = ["manifest verified (checksums, row counts, accounting):"]
    for stage, summary in checked.items():
        rows = ", ".join(f"{name} {n}" for name, n in summary["rows"].items())
        lines.append(f"  {stage:<8} {summary['files']} file(s): {rows}  [{summary['manifest']}]")
    return "\n".join(lines)
