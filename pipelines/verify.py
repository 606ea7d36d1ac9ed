"""``reasoning-corpus verify --input ROLLOUTS --output VERDICTS.jsonl``: the launcher of
:func:`publish.verify_file.verify_file` (verdicts for a rollouts file made elsewhere,
one output line per input line, in input order)."""
from __future__ import annotations

from typing import Dict, Optional

from publish.verify_file import CHUNK_ROWS, format_summary, verify_file
from transforms.verify.config import VerifyConfig
from transforms.verify.rows import ROW_FIELDS

__all__ = ["run", "format_summary", "parse_fields"]


def parse_fields(text: Optional[str]) -> Dict[str, str]:
    """``--fields prompt=question,response=code`` → {row field: the file's field}; a
    clear ValueError for a malformed pair or a row field that doesn't exist."""
    fields: Dict[str, str] = {}
    for pair in (text or "").split(","):
        if not pair.strip():
            continue
        name, eq, source = (part.strip() for part in pair.partition("="))
        if not eq or not name or not source:
            raise ValueError(f"--fields: expected FIELD=NAME pairs separated by commas, got {pair.strip()!r}")
        if name not in ROW_FIELDS:
            raise ValueError(f"--fields: unknown field {name!r} (one of: {', '.join(ROW_FIELDS)})")
        fields[name] = source
    return fields


def run(input_path: str, output_path: str, config: VerifyConfig = VerifyConfig(), workers: int = 1,
        chunk_rows: int = CHUNK_ROWS, fields: Optional[Dict[str, str]] = None) -> dict:
    """Verify every row of ``input_path`` into ``output_path``; a summary of the verdicts.
    ``fields``: the file's own names of row fields (``{"response": "code"}``)."""
    return verify_file(input_path, output_path, config, workers=workers, chunk_rows=chunk_rows, fields=fields)
