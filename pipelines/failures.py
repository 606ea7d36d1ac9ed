"""Why a run failed, in words a user can act on: the stage, and its first errors verbatim.

The summary counts dead letters by reason code (``missing_field``, ``RequestFailed``);
the cause (``HTTP 400: model 'x' not found``) is inside the dead-letter files. When a
stage dead-letters more than ``max_dead_letter_share`` of its inputs, or the corpus
comes out empty, the error quotes the first distinct error texts read back from the
stage's ``dead_letters-*.parquet`` (in input order: file, then line); the mix stage's
are under the corpus folder's ``mix/``.
"""
from __future__ import annotations

import io
from typing import Dict, List, Optional, Sequence

import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from publish.accounting import NOT_PARTS, AccountingError
from publish.layout import MIX_DEAD_LETTERS
from transforms.core import io as rio

#: How many distinct error texts a message quotes.
FIRST = 3
COLUMNS = ["stage", "step", "file", "line", "field", "error"]
#: What each accounting line keeps, in the order the stages run.
KEPT = (("ingest", "problems"), ("sample", "sampled"), ("curate", "kept"), ("journey", "built"),
        ("mix", "selected"))


class EmptyCorpusError(AccountingError):
    """A finished run whose corpus holds no example."""


def dead_letter_prefixes(stage_dir: str, stages: Optional[Sequence[str]] = None) -> List[str]:
    """Where the dead letters of ``stages`` (the ``stage`` column; all when None) are under
    ``stage_dir``: a stage folder's ``dead_letters``, the corpus folder's ``mix/dead_letters``."""
    prefixes = []
    if not stages or any(s != "mix" for s in stages):
        prefixes.append(rio.join(stage_dir, "dead_letters"))
    if not stages or "mix" in stages:
        prefixes.append(rio.join(stage_dir, MIX_DEAD_LETTERS))
    return prefixes


def dead_letters(stage_dir: str, stages: Optional[Sequence[str]] = None) -> List[dict]:
    """The dead letters under ``stage_dir`` (without payloads), in input order; only
    those of ``stages`` (the ``stage`` column) when given."""
    rows: List[dict] = []
    for prefix in dead_letter_prefixes(stage_dir, stages):
        for path in rio.list_shards(prefix):
            with FileSystems.open(path) as fh:
                table = pq.read_table(io.BytesIO(fh.read()), columns=COLUMNS)
            rows.extend(r for r in table.to_pylist() if not stages or r["stage"] in stages)
    return sorted(rows, key=lambda r: (r["file"] or "", r["line"] or 0, r["error"]))


def first_errors(rows: List[dict], limit: int = FIRST) -> List[str]:
    """Up to ``limit`` distinct error texts, verbatim, each with its first place and how
    many dead letters share it."""
    counts: Dict[str, int] = {}
    first: Dict[str, dict] = {}
    for row in rows:
        counts[row["error"]] = counts.get(row["error"], 0) + 1
        first.setdefault(row["error"], row)
    out = []
    for error, row in list(first.items())[:limit]:
        place = f"{row['stage']}/{row['step']}"
        if row["file"]:
            place += f" {row['file']}" + (f":{row['line']}" if row["line"] is not None else "")
        if row["field"]:
            place += f" field {row['field']!r}"
        more = f"  [{counts[error]} dead letters with this error]" if counts[error] > 1 else ""
        out.append(f"{place}: {error}{more}")
    if len(first) > limit:
        out.append(f"… and {len(first) - limit} other distinct error(s)")
    return out


def quote_errors(stage_dir: str, stages: Optional[Sequence[str]] = None) -> str:
    """Indented lines quoting the first errors of ``stage_dir`` ('' when it has none)."""
    lines = first_errors(dead_letters(stage_dir, stages))
    if not lines:
        return ""
    where = ", ".join(f"{prefix}-*.parquet" for prefix in dead_letter_prefixes(stage_dir, stages)
                      if rio.list_shards(prefix))
    return f"\n  first errors (from {where}):\n" + "\n".join(f"    {line}" for line in lines)


def stage_dirs(out_dir: str, manifest: dict) -> Dict[str, str]:
    """Which folder holds the dead letters of each accounting line of a mix manifest."""
    upstream = manifest.get("upstream", {})
    dirs = {"mix": out_dir, "journey": out_dir}
    if "curate" in upstream:
        dirs["curate"] = upstream["curate"]
    if "sample" in upstream:
        dirs["ingest"] = dirs["sample"] = upstream["sample"]
    return dirs


def check_corpus(out_dir: str, manifest: dict) -> None:
    """Raise EmptyCorpusError when a mix manifest lists no example; the message names the
    first stage that kept nothing, its top reasons and its first errors verbatim."""
    if manifest.get("stage") != "mix" or manifest.get("rows", 0) > 0:
        return
    if (manifest.get("registry") or {}).get("nothing_new"):  # an incremental run with nothing new: no failure
        return
    lines = manifest.get("accounting", {})
    stage, kept = next(((s, k) for s, k in KEPT if s in lines and not lines[s].get(k)), ("mix", "selected"))
    line = lines.get(stage, {})
    detail = ", ".join(f"{k} {v}" for k, v in line.items() if k not in NOT_PARTS)  # its fates, not copies
    message = (f"the corpus is empty: stage {stage} kept nothing ({line.get('in', 0)} in: {detail or 'nothing'})"
               if line else "the corpus is empty")
    column = "mix" if stage == "journey" else stage
    rejected = {k: n for k, n in manifest.get("funnel", {}).get("rejected", {}).items()
                if k.split("/", 1)[0] == column}
    if rejected:
        top = sorted(rejected.items(), key=lambda kv: (-kv[1], kv[0]))[:FIRST]
        message += "; top rejection reasons: " + ", ".join(f"{k} {n}" for k, n in top)
    folder = stage_dirs(out_dir, manifest).get(stage)
    if line.get("dead") and folder:
        message += quote_errors(folder, [column])
    raise EmptyCorpusError(message)
