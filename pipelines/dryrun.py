"""``--dry-run``: build every stage of a command for its runner; run and submit nothing.

The stage launchers run against a scratch folder with Beam's ``--dry_run=True``: each
stage builds its pipeline, the options are validated, and the graph is translated for
the runner (DataflowRunner builds the whole job offline; Flink and Portable get the
optimized portable pipeline they would be sent); nothing is executed or submitted.
"""
from __future__ import annotations

import os
import tempfile
from typing import Callable, List, Optional

from pipelines import curate, mix, sample
from pipelines.launch import DryRun
from pipelines.options import check_runner_options
from transforms.core import io as rio


def _stub_manifest(stage_dir: str, stage: str, outputs) -> None:
    """A stand-in upstream manifest for a dry run: one (absent) file per output."""
    files = {name: {"files": [{"path": f"{name}-00000-of-00001.parquet", "rows": 0, "bytes": 0,
                               "sha256": ""}], "rows": 0} for name in outputs}
    rio.write_json(rio.join(stage_dir, rio.MANIFEST), {"stage": stage, "outputs": files})


def _dry_stage(stage: str, launch: Callable[[], dict]) -> dict:
    try:
        launch()
    except DryRun as stop:
        return dict(stop.report, stage=stage)
    raise RuntimeError(f"{stage}: the launcher finished without building a pipeline")


def dry_run(command: str, config, input_dir: Optional[str], beam_args: List[str]) -> List[dict]:
    """Build (and translate) every stage of ``command`` for the runner; submit nothing.

    The launchers run against a scratch folder (nothing under the real output is
    touched); a stage whose upstream is not there yet reads a stand-in manifest.
    Raises ValueError when the runner options are incomplete or invalid."""
    if command in ("curate", "mix") and not input_dir:
        raise ValueError(f"{command} needs --input: the output folder of the previous stage")
    check_runner_options(beam_args)
    args = list(beam_args) + ["--dry_run=True"]
    reports = []
    with tempfile.TemporaryDirectory(prefix="reasoning-corpus-dry-run-") as scratch:
        s_dir, c_dir = os.path.join(scratch, "sample"), os.path.join(scratch, "curate")
        whole = command in ("demo", "run")
        if whole or command == "sample":
            reports.append(_dry_stage("sample", lambda: sample.run(config, s_dir, args)))
        if whole or command == "curate":
            upstream = input_dir if command == "curate" and input_dir else s_dir  # (input_dir: checked above)
            if whole:
                _stub_manifest(s_dir, "sample", sample.OUTPUTS)
            reports.append(_dry_stage("curate", lambda: curate.run(config, upstream, c_dir, args)))
        if whole or command == "mix":
            upstream = input_dir if command == "mix" and input_dir else c_dir
            if whole:
                _stub_manifest(c_dir, "curate", curate.OUTPUTS)
            reports.append(_dry_stage("mix", lambda: mix.run(config, upstream, scratch, args)))
    return reports


def format_dry_run(reports: List[dict]) -> str:
    """A printable summary of a dry run."""
    runner = reports[0]["runner"] if reports else "?"
    lines = [f"dry run on {runner}: options valid, graphs built, nothing run or submitted"]
    for r in reports:
        hinted = r["hinted_steps"]
        hints = sorted({f"{k}={v}" for env in r["environments"].values() for k, v in env["hints"].items()})
        line = f"  {r['stage']:<8} {r['transforms']} transforms"
        if r["job_name"]:
            line += f", job {r['job_name']}"
        if hinted:
            line += f"; {len(hinted)} with hints {', '.join(hints)}"
        lines.append(line)
    return "\n".join(lines)
