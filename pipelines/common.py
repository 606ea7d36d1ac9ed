"""What every stage launcher shares: Beam options, clearing a stage's old outputs,
running the pipeline, and publishing the stage manifest (last).

Publishing protocol of a stage folder: withdraw the old manifest, delete every old
shard and temporary file of the outputs (:func:`clear_stage`), run the pipeline
(shards appear under temporary names and are renamed into place), read the outputs
back, check the accounting, and write the manifest last (the launcher). Until then
the stage is not published, whatever shards a glob may see; a re-run after a kill
starts again from the top. :func:`enforce_dead_letter_share` withdraws a stage whose
dead letters exceed the configured share.
"""
from __future__ import annotations

import os
from typing import Callable, Dict, List, Optional

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions, TestOptions

from pipelines.config import RunConfig
from schemas.records import SCHEMA_VERSION
from transforms import accounting
from transforms import io as rio
from transforms.common import StageOutputs

VERSION = "0.1.0"


class CorpusOptions(PipelineOptions):
    """This project's own pipeline options, parsed from the same flags as Beam's.

    Defined here, in a module never run as ``__main__``: a PipelineOptions subclass
    defined twice would register its flags twice."""

    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument(
            "--sample_resource_hint", action="append", default=None, metavar="NAME=VALUE",
            help="a Beam resource hint for the Sample step only (repeatable), e.g. "
                 "accelerator=type:nvidia-l4;count:1;install-nvidia-driver or min_ram=16GB")


def pipeline_options(beam_args: List[str]) -> PipelineOptions:
    args = list(beam_args)
    if not any(a.startswith("--runner") for a in args):
        args.append("--runner=DirectRunner")
    return PipelineOptions(args)


def clear_stage(out_dir: str, names: List[str]) -> None:
    """Hide and delete what an earlier (or killed) run of this stage wrote: the
    manifest first, then every shard and temporary file of each output."""
    manifest = rio.join(out_dir, rio.MANIFEST)
    if FileSystems.exists(manifest):
        FileSystems.delete([manifest])
    for name in names:
        rio.remove_stale(rio.join(out_dir, name))


def write_outputs(outputs: Dict[str, object], out_dir: str, record_types: Dict[str, type],
                  max_rows: int, compression: str = "zstd") -> None:
    """Write each named PCollection as Parquet shards under ``out_dir/name``."""
    for name, pcoll in outputs.items():
        pcoll | f"Write {name}" >> rio.WriteParquetShards(
            rio.join(out_dir, name), record_types[name], max_rows=max_rows, compression=compression)


def flatten(label: str, pipeline, pcolls) -> beam.PCollection:
    pcolls = [p for p in pcolls if p is not None]
    if not pcolls:
        return pipeline | label >> beam.Create([])
    return tuple(pcolls) | label >> beam.Flatten()


def merge_stage_outputs(pipeline, prefix: str, parts: List[StageOutputs]):
    """(rejected, dead) flattened over several StageOutputs."""
    rejected = flatten(f"{prefix} rejections", pipeline, [p.rejected for p in parts])
    dead = flatten(f"{prefix} dead letters", pipeline, [p.dead for p in parts])
    return rejected, dead


class DryRun(Exception):
    """Raised by :func:`run_pipeline` under ``--dry_run=True`` once the pipeline is built
    and translated: it stops the launcher before it reads outputs or writes a manifest."""

    def __init__(self, report: dict):
        super().__init__(f"dry run of {report.get('runner')}")
        self.report = report


def build_pipeline(build: Callable[[beam.Pipeline], None], beam_args: List[str]) -> beam.Pipeline:
    """A pipeline for ``beam_args``, built, with the per-step resource hints applied."""
    from pipelines import runners  # runners imports the stage modules, which import this one

    options = pipeline_options(beam_args)
    pipeline = beam.Pipeline(options=options)
    build(pipeline)
    runners.apply_step_hints(pipeline, runners.step_resource_hints(options))
    return pipeline


def run_pipeline(build: Callable[[beam.Pipeline], None], beam_args: List[str]):
    """Build and run a pipeline; return the finished result (for metrics).

    Under Beam's ``--dry_run=True`` it translates the pipeline for its runner
    instead and raises :class:`DryRun` with the summary (see pipelines.runners)."""
    pipeline = build_pipeline(build, beam_args)
    if pipeline.options.view_as(TestOptions).dry_run:
        from pipelines import runners

        raise DryRun(runners.translate(pipeline))
    result = pipeline.run()
    result.wait_until_finish()
    return result


def counter(result, name: str) -> Optional[int]:
    """The committed value of a Beam counter, or None where the runner reports none."""
    try:
        metrics = result.metrics().query(beam.metrics.MetricsFilter().with_name(name))
    except Exception:  # noqa: BLE001 - some runners report no metrics
        return None
    values = [c.committed for c in metrics.get("counters", []) if c.committed is not None]
    return sum(values) if values else None


def relativize(outputs: Dict[str, dict], out_dir: str) -> Dict[str, dict]:
    """File paths in a manifest are relative to the manifest's folder."""
    base = out_dir.rstrip("/") + "/"
    rel = {}
    for name, info in outputs.items():
        files = [dict(f, path=f["path"][len(base):] if f["path"].startswith(base) else f["path"])
                 for f in info["files"]]
        rel[name] = dict(info, files=files)
    return rel


def resolve(manifest_dir: str, path: str) -> str:
    return rio.resolve_path(manifest_dir, path)


def enforce_dead_letter_share(out_dir: str, manifest: dict, config: RunConfig) -> None:
    """Fail a stage whose dead letters exceed ``config.max_dead_letter_share``.

    The stage is withdrawn (its manifest deleted, if already written) so nothing
    downstream reads it; its shards stay for inspection. Raises PoisonError."""
    try:
        accounting.check_dead_letter_share(manifest.get("accounting", {}),
                                           config.max_dead_letter_share, where=out_dir)
    except accounting.PoisonError:
        path = rio.join(out_dir, rio.MANIFEST)
        if FileSystems.exists(path):
            FileSystems.delete([path])
        raise


def base_manifest(stage: str, config: RunConfig) -> dict:
    return {
        "stage": stage,
        "producer": f"reasoning-corpus {VERSION}",
        "schema_version": SCHEMA_VERSION,
        "config_hash": config.config_hash,
        "seed": config.seed,
        "config": config.to_dict(),
    }


def load_stage_manifest(path: str, expect_stage: str) -> dict:
    """An upstream manifest (a stage folder or its manifest.json), with absolute file paths."""
    manifest_path = path if path.endswith(".json") else rio.join(path, rio.MANIFEST)
    if not FileSystems.exists(manifest_path):
        raise FileNotFoundError(
            f"no {rio.MANIFEST} at {manifest_path}: run the '{expect_stage}' stage first "
            f"(a stage's outputs are complete only once its manifest is written)")
    manifest = rio.read_json(manifest_path)
    if manifest.get("stage") != expect_stage:
        raise ValueError(f"{manifest_path}: expected the manifest of stage '{expect_stage}', "
                         f"found stage '{manifest.get('stage')}'")
    base = os.path.dirname(manifest_path)
    for info in manifest.get("outputs", {}).values():
        for f in info["files"]:
            f["path"] = resolve(base, f["path"])
    return manifest
