"""What every stage launcher shares: Beam options, clearing a stage's old outputs,
running the pipeline, and writing the stage manifest (last)."""
from __future__ import annotations

import os
from typing import Callable, Dict, List, Optional

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.config import RunConfig
from schemas.records import SCHEMA_VERSION
from transforms import io as rio
from transforms.common import StageOutputs

VERSION = "0.1.0"


def pipeline_options(beam_args: List[str]) -> PipelineOptions:
    args = list(beam_args)
    if not any(a.startswith("--runner") for a in args):
        args.append("--runner=DirectRunner")
    return PipelineOptions(args)


def clear_stage(out_dir: str, names: List[str]) -> None:
    """Hide and delete what an earlier run of this stage wrote (manifest first)."""
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


def run_pipeline(build: Callable[[beam.Pipeline], None], beam_args: List[str]):
    """Build and run a pipeline; return the finished result (for metrics)."""
    pipeline = beam.Pipeline(options=pipeline_options(beam_args))
    build(pipeline)
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
    if "://" in path or os.path.isabs(path):
        return path
    return rio.join(manifest_dir, path)


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
