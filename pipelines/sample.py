"""Stage 1 — sample: sources → Problems → n Rollouts each.

Resume: every new rollout is persisted under ``OUT/journal`` as it arrives
(see :mod:`transforms.sample.journal`); the streamed files are compacted into
chunks before the pipeline starts (what a killed run left) and after it ends. Running ``sample`` again on the same
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
from pipelines.problems import CurateProblems, benchmark_names
from publish import accounting
from publish.manifest import clear_stage, relativize
from schemas.records import DeadLetter, Problem, Rejection, Rollout
from transforms.core import io as rio
from transforms.ingest.planning import check_sources
from transforms.ingest.transform import ReadProblems
from transforms.sample.adaptive import CLOSE_REASONS
from transforms.sample.journal import compact_journal, list_journal
from transforms.sample.rounds import AdaptiveRollouts
from transforms.sample.transform import GenerateRollouts
from transforms.verify.checker import AnswerChecker

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
    to_sample = problems.kept
    if seen is not None:
        skipped = registry.skip_seen(pipeline, to_sample, seen, config.config_hash)
        parts.append(skipped)
        to_sample = skipped.kept
    if config.problems.enabled:  # curated before sampling: nothing is sampled for a rejected problem
        parts.append(to_sample | "CurateProblems" >> CurateProblems(config.problems))
        to_sample = parts[-1].kept
    completed = read_journal(pipeline, list(journal_files))
    if config.sample.adaptive.enabled:  # rounds, the curate verifier between them
        rollouts = to_sample | "Sample" >> AdaptiveRollouts(
            config.sample, config.seed, config.config_hash, AnswerChecker(config.curate.verify),
            completed=completed, journal_dir=rio.join(out_dir, JOURNAL), progress=progress_dir)
    else:
        rollouts = to_sample | "Sample" >> GenerateRollouts(
            config.sample, config.seed, config.config_hash, completed=completed,
            journal_dir=rio.join(out_dir, JOURNAL), progress=progress_dir,
            templates={s.name: config.sample.template_for(s.template) for s in config.sources if s.template})
    rejected, dead = launch.merge_stage_outputs(pipeline, "Sample", parts + [rollouts])
    launch.write_outputs(
        {"problems": parts[0].kept, "rollouts": rollouts.kept, "rejections": rejected,
         "dead_letters": dead},
        out_dir, OUTPUTS, max_rows=config.output.max_rows_per_shard, compression=config.output.compression,
        env_names=launch.secret_envs(config))


def check_rollout_counts(config: RunConfig, outputs: dict, sampled: int, rollouts: int, imported: int = 0) -> None:
    """Fixed n: n rollouts per sampled problem (one per imported answer); adaptive: 1 to n
    each (read from the files)."""
    n = config.sample.n
    if not config.sample.adaptive.enabled:
        if rollouts != (sampled - imported) * n + imported:
            raise accounting.AccountingError(
                f"sample: {sampled} problems sampled ({imported} imported, one rollout each) but {rollouts} "
                f"rollouts (n={n})")
        return
    per_problem = rio.column_counts(accounting.paths(outputs, "rollouts"), ["problem_id"])
    over = sorted(pid for pid, count in per_problem.items() if count > n)
    if over:
        raise accounting.AccountingError(f"sample: {len(over)} problems have more than n={n} rollouts ({over[0]})")


def adaptive_summary(counters: dict, sampled: int, rollouts: int) -> dict:
    """The manifest's ``adaptive`` entry: why problems stopped, rollouts per problem."""
    closed = {reason: counters.get(f"sample.adaptive_closed_{reason}", 0) for reason in CLOSE_REASONS}
    return {"closed": closed, "correct": counters.get("sample.adaptive_correct", 0),
            "rollouts_per_problem": round(rollouts / sampled, 3) if sampled else None}


def run(config: RunConfig, out_dir: str, beam_args: List[str]) -> dict:
    """Run the sample stage and write its manifest; returns the manifest."""
    started = time.monotonic()
    if not config.sources:
        raise ValueError("no sources: give --input PATH or a config with 'sources'")
    check_sources(config.sources)
    benchmarks = benchmark_names(config.problems)  # a required benchmark missing: an error before anything runs
    clear_stage(out_dir, list(OUTPUTS))
    compact_journal(rio.join(out_dir, JOURNAL))  # what a killed run streamed
    journal_files = list_journal(rio.join(out_dir, JOURNAL))
    local_chunks = len(journal_files)
    journal_files += registry.reused_journal(config)
    seen = registry.seen_problems(config)
    live = progress.plan("sample", out_dir, config, lambda: meters.sample(config), model="teacher")
    result = launch.run_pipeline(lambda p, folder: build(p, config, out_dir, journal_files, folder, seen),
                                 beam_args, live)
    compact_journal(rio.join(out_dir, JOURNAL))
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
    imported = launch.counter(result, "prompts_imported") or 0  # one rollout each (an imported answer)
    check_rollout_counts(config, outputs, sampled, rollouts, imported)
    lines["sample"]["rollouts"] = rollouts
    reused = launch.counter(result, "rollouts_reused")
    manifest = launch.base_manifest("sample", config)
    if config.problems.enabled:
        manifest["problems"] = {"benchmarks": benchmarks}
    counters = launch.counters(result)
    if config.sample.adaptive.enabled:
        manifest["adaptive"] = adaptive_summary(counters, sampled, rollouts)
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
