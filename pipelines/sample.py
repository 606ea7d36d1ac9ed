"""Stage 1 — sample: sources → Problems → n Rollouts each.

Resume: every model batch's new rollouts are persisted under ``OUT/journal``
first (see :mod:`transforms.sample.journal`). Running ``sample`` again on the same
output folder reads the journal, reuses every rollout still expected and
generates only the missing ones; the stage's outputs and manifest are then
written as for a fresh run. Delete ``OUT/journal`` to start over.
"""
from __future__ import annotations

import time
from typing import List, Optional, Sequence

import apache_beam as beam

from pipelines import launch, meters, progress, registry, usage
from pipelines.config import RunConfig
from publish import accounting
from publish.manifest import clear_stage, relativize
from schemas.records import DeadLetter, Problem, Rejection, Rollout
from transforms.core import io as rio
from transforms.ingest.planning import check_sources
from transforms.ingest.transform import ReadProblems
from transforms.sample.journal import list_journal
from transforms.sample.transform import GenerateRollouts

OUTPUTS = {"problems": Problem, "rollouts": Rollout, "rejections": Rejection, "dead_letters": DeadLetter}
#: The folder (under the stage's output) holding the persisted rollout chunks.
JOURNAL = "journal"


def read_journal(pipeline, journal_files: List[str]):
    """The rollouts persisted by earlier runs (an empty PCollection when none)."""
    if not journal_files:
        return pipeline | "NoJournal" >> beam.Create([]).with_output_types(Rollout)
    return pipeline | "ReadJournal" >> rio.ReadRecords(journal_files, Rollout)


def build(pipeline, config: RunConfig, out_dir: str, journal_files: Sequence[str] = (),
          progress_dir: Optional[str] = None, seen: Optional[Sequence[str]] = None) -> None:
    """``journal_files``: rollouts persisted earlier (this folder's journal, the registry's);
    ``seen``: with ``registry.new_sources_only``, the problem ids registered runs sampled."""
    problems = pipeline | "Ingest" >> ReadProblems(config.sources, config.ingest, config.seed,
                                                   config.config_hash)
    parts = [problems]
    if seen is not None:
        problems = registry.skip_seen(pipeline, problems.kept, seen, config.config_hash)
        parts.append(problems)
    rollouts = problems.kept | "Sample" >> GenerateRollouts(
        config.sample, config.seed, config.config_hash,
        completed=read_journal(pipeline, list(journal_files)),
        journal_dir=rio.join(out_dir, JOURNAL), progress=progress_dir)
    rejected, dead = launch.merge_stage_outputs(pipeline, "Sample", parts + [rollouts])
    launch.write_outputs(
        {"problems": parts[0].kept, "rollouts": rollouts.kept, "rejections": rejected,
         "dead_letters": dead},
        out_dir, OUTPUTS, max_rows=config.output.max_rows_per_shard, compression=config.output.compression,
        env_names=launch.secret_envs(config))


def run(config: RunConfig, out_dir: str, beam_args: List[str]) -> dict:
    """Run the sample stage and write its manifest; returns the manifest."""
    started = time.monotonic()
    if not config.sources:
        raise ValueError("no sources: give --input PATH or a config with 'sources'")
    check_sources(config.sources)
    clear_stage(out_dir, list(OUTPUTS))
    journal_files = list_journal(rio.join(out_dir, JOURNAL))
    local_chunks = len(journal_files)
    journal_files += registry.reused_journal(config)
    seen = registry.seen_problems(config)
    live = progress.plan("sample", out_dir, config, lambda: meters.sample(config), model="teacher")
    result = launch.run_pipeline(lambda p, folder: build(p, config, out_dir, journal_files, folder, seen),
                                 beam_args, live)
    outputs = accounting.collect(out_dir, OUTPUTS)
    funnel = accounting.funnel(outputs)
    dead = accounting.by_stage(funnel["dead_letters"])
    rejected = accounting.by_stage(funnel["rejected"])
    problems = outputs["problems"]["rows"]
    read = launch.counter(result, "ingest_lines")
    ingest_in = problems + dead.get("ingest", 0) + rejected.get("ingest", 0)
    if read is not None:
        accounting.check_balance("ingest", read, problems=problems,
                                 rejected=rejected.get("ingest", 0), dead=dead.get("ingest", 0))
    sampled = len(rio.column_counts(accounting.paths(outputs, "rollouts"), ["problem_id"]))
    lines = {
        "ingest": accounting.check_balance("ingest", ingest_in, problems=problems,
                                           rejected=rejected.get("ingest", 0),
                                           dead=dead.get("ingest", 0)),
        "sample": accounting.check_balance("sample", problems, sampled=sampled,
                                           rejected=rejected.get("sample", 0),
                                           dead=dead.get("sample", 0)),
    }
    rollouts = outputs["rollouts"]["rows"]
    if rollouts != sampled * config.sample.n:
        raise accounting.AccountingError(
            f"sample: {sampled} problems sampled but {rollouts} rollouts (n={config.sample.n})")
    lines["sample"]["rollouts"] = rollouts
    reused = launch.counter(result, "rollouts_reused")
    manifest = launch.base_manifest("sample", config)
    counters = launch.counters(result)
    manifest.update(outputs=relativize(outputs, out_dir), funnel=funnel, accounting=lines,
                    counters=counters,
                    resume={"journal_chunks_read": local_chunks, "rollouts_reused": reused,
                            "rollouts_generated": None if reused is None else rollouts - reused,
                            "teacher_loads": launch.counter(result, "model_loads") or 0},
                    **registry.sample_entry(config, len(journal_files) - local_chunks, seen),
                    **usage.stage_usage("sample", config, counters, started))
    manifest = launch.redacted(manifest, config)
    launch.publish_manifest(out_dir, manifest, [out_dir, rio.join(out_dir, JOURNAL)])
    return manifest
