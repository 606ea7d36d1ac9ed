"""``reasoning-corpus verify --input ROLLOUTS --output VERDICTS.jsonl``: the launcher of
:func:`publish.verify_file.verify_file` (verdicts for a rollouts file made elsewhere,
one output line per input line, in input order)."""
from __future__ import annotations

from publish.verify_file import CHUNK_ROWS, format_summary, verify_file
from transforms.verify.config import VerifyConfig

__all__ = ["run", "format_summary"]


def run(input_path: str, output_path: str, config: VerifyConfig = VerifyConfig(), workers: int = 1,
        chunk_rows: int = CHUNK_ROWS) -> dict:
    """Verify every row of ``input_path`` into ``output_path``; a summary of the verdicts."""
    return verify_file(input_path, output_path, config, workers=workers, chunk_rows=chunk_rows)
