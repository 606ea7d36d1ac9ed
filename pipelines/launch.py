"""What every stage launcher shares: building and running the pipeline, writing its
outputs, reading counters, and the stage manifest (written last).

Publishing protocol of a stage folder: withdraw the old manifest, delete every old
shard and temporary file of the outputs (``publish.manifest.clear_stage``), run the
pipeline (shards appear under temporary names and are renamed into place), read the
outputs back, check the accounting, and write the manifest last (the launcher). Until
then the stage is not published, whatever shards a glob may see; a re-run after a kill
starts again from the top. :func:`enforce_dead_letter_share` withdraws a stage whose
dead letters exceed the configured share.
"""
from __future__ import annotations

import re
from typing import Callable, Dict, List, Optional, Sequence

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import TestOptions

from pipelines import dryrun_translate, failures, progress
from pipelines.config import RunConfig
from pipelines.options import apply_step_hints, pipeline_options, step_resource_hints
from publish import accounting
from publish.manifest import VERSION
from schemas.records import SCHEMA_VERSION, DeadLetter, Rejection
from transforms.core import StageOutputs
from transforms.core import io as rio
from transforms.core.redact import Redactor


def secret_envs(config: RunConfig) -> List[str]:
    """The environment variables the config names as holding secrets: every string under
    a key ending in ``_env`` (``api_key_env`` of the teacher, the judge, …)."""
    names: List[str] = []
    stack: List[object] = [config.to_dict()]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if isinstance(key, str) and key.endswith("_env") and isinstance(value, str) and value:
                    names.append(value)
                else:
                    stack.append(value)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return sorted(set(names))


class _RedactRecords(beam.DoFn):
    """Every string field of a record with the secrets of the environment redacted
    (``transforms.core.redact``); the Redactor is built on the worker from the variables'
    names, so no secret travels in the pipeline."""

    def __init__(self, env_names: List[str]):
        self.env_names = tuple(env_names)
        self.redactor: Optional[Redactor] = None

    def setup(self):
        self.redactor = Redactor.from_env(self.env_names)

    def process(self, record):
        assert self.redactor is not None
        yield self.redactor.record(record)


#: The records whose text can quote an error (and so a secret): redacted before they are written.
REDACTED_TYPES = (DeadLetter, Rejection)


def write_outputs(outputs: Dict[str, object], out_dir: str, record_types: Dict[str, type],
                  max_rows: int, compression: str = "zstd", env_names: Sequence[str] = ()) -> None:
    """Write each named PCollection as Parquet shards under ``out_dir/name``; dead letters
    and rejections have every secret redacted first (the variables ``env_names`` and any
    that look like credentials, see ``transforms.core.redact``)."""
    for name, pcoll in outputs.items():
        cls = record_types[name]
        if cls in REDACTED_TYPES:
            redact = beam.ParDo(_RedactRecords(list(env_names))).with_output_types(cls)
            pcoll = pcoll | f"Write {name} redacted" >> redact
        pcoll | f"Write {name}" >> rio.WriteParquetShards(
            rio.join(out_dir, name), cls, max_rows=max_rows, compression=compression)


def redacted(manifest: dict, config: RunConfig) -> dict:
    """The manifest with every secret (in any form) and URL credential redacted, e.g. a
    key inside ``base_url``: what is written."""
    return Redactor.from_env(secret_envs(config)).value(manifest)


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


class PipelineFailed(RuntimeError):
    """The pipeline of a stage failed while it ran (an error in a step, on a worker, in the
    runner): the message is the error's first line; the original is its ``__cause__``."""


def is_dry_run(beam_args: List[str]) -> bool:
    """Whether ``beam_args`` ask for a dry run (Beam's ``--dry_run=True``): the launcher then
    reads no upstream file, so it doesn't check them either (a dry run's upstream may be a
    stand-in manifest)."""
    return bool(pipeline_options(beam_args).view_as(TestOptions).dry_run)


def build_pipeline(build: Callable[[beam.Pipeline, Optional[str]], None], beam_args: List[str],
                   progress_folder: Optional[str] = None) -> beam.Pipeline:
    """A pipeline for ``beam_args``, built (``build(pipeline, progress_folder)``: where the
    stage's progress taps report, None for none), with the per-step resource hints applied."""
    options = pipeline_options(beam_args)
    pipeline = beam.Pipeline(options=options)
    build(pipeline, progress_folder)
    apply_step_hints(pipeline, step_resource_hints(options))
    return pipeline


def run_pipeline(build: Callable[[beam.Pipeline, Optional[str]], None], beam_args: List[str],
                 plan: Optional[progress.Plan] = None):
    """Build and run a pipeline; return the finished result (for metrics).

    With a progress ``plan``, a local run shows its progress while it runs (see
    :mod:`pipelines.progress`; the report folder is gone when this returns or raises).
    Under Beam's ``--dry_run=True`` it translates the pipeline for its runner
    instead and raises :class:`DryRun` with the summary (see pipelines.dryrun)."""
    options = pipeline_options(beam_args)
    if options.view_as(TestOptions).dry_run:
        raise DryRun(dryrun_translate.translate(build_pipeline(build, beam_args)))
    live = progress.start(plan, options)
    ok = False
    try:
        pipeline = build_pipeline(build, beam_args, live.folder if live else None)
        try:
            result = pipeline.run()
            result.wait_until_finish()
        except Exception as exc:  # noqa: BLE001 - whatever a worker raised, said in one line
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
            raise PipelineFailed(f"{type(exc).__name__}: {lines[0][:500] if lines else ''}") from exc
        ok = True
    finally:
        if live is not None:
            live.stop(ok)
    return result


def counter(result, name: str) -> Optional[int]:
    """The committed value of a Beam counter, or None where the runner reports none."""
    try:
        metrics = result.metrics().query(beam.metrics.MetricsFilter().with_name(name))
    except Exception:  # noqa: BLE001 - some runners report no metrics
        return None
    values = [c.committed for c in metrics.get("counters", []) if c.committed is not None]
    return sum(values) if values else None


#: Counters that measure time or size (RunInference's own), not records: left out.
_TIMING = re.compile(r"latency|_secs|_millis|_micros|bytes")


def counters(result) -> Dict[str, int]:
    """Every committed counter of a finished pipeline as ``{"<namespace>.<name>": value}``
    (``{}`` where the runner reports no metrics), timings left out: the manifest's
    ``counters``, e.g. ``curate.filter_length.dropped_reasoning_too_long``."""
    try:
        found = result.metrics().query().get("counters", [])
    except Exception:  # noqa: BLE001 - some runners report no metrics
        return {}
    out: Dict[str, int] = {}
    for c in found:
        if c.committed is None or _TIMING.search(c.key.metric.name):
            continue
        key = f"{c.key.metric.namespace}.{c.key.metric.name}"
        out[key] = out.get(key, 0) + c.committed
    return dict(sorted(out.items()))


def enforce_dead_letter_share(out_dir: str, manifest: dict, config: RunConfig) -> None:
    """Fail a stage whose dead letters exceed ``config.max_dead_letter_share``.

    The stage is withdrawn (its manifest deleted, if already written) so nothing
    downstream reads it; its shards stay for inspection. Raises PoisonError naming
    the stage and quoting its first dead-letter errors verbatim."""
    lines = manifest.get("accounting", {})
    try:
        accounting.check_dead_letter_share(lines, config.max_dead_letter_share, where=out_dir)
    except accounting.PoisonError as exc:
        path = rio.join(out_dir, rio.MANIFEST)
        if FileSystems.exists(path):
            FileSystems.delete([path])
        over = [s for s, share in accounting.dead_letter_shares(lines).items()
                if share > config.max_dead_letter_share]
        columns = sorted({"mix" if s == "journey" else s for s in over})
        raise accounting.PoisonError(f"stage {manifest.get('stage', '?')} failed: {exc}"
                                     + failures.quote_errors(out_dir, columns)) from None


def publish_manifest(out_dir: str, manifest: dict, folders: List[str]) -> None:
    """Write a stage's manifest (last: it makes the stage visible), then remove the empty
    hidden temporary folders its writers left in ``folders``
    (:func:`transforms.core.io.remove_empty_temp_dirs`)."""
    rio.write_json(rio.join(out_dir, rio.MANIFEST), manifest)
    rio.remove_empty_temp_dirs(folders)


def base_manifest(stage: str, config: RunConfig) -> dict:
    return {
        "stage": stage,
        "producer": f"reasoning-corpus {VERSION}",
        "schema_version": SCHEMA_VERSION,
        "config_hash": config.config_hash,
        "seed": config.seed,
        "config": Redactor.from_env(secret_envs(config)).value(config.to_dict()),
    }
