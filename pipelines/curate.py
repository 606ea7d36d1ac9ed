"""Stage 2 — curate: Rollouts → verified, filtered, deduplicated VerifiedRollouts.

Besides the curated rows, rejections and dead letters, the stage hands the mix stage
what it needs from the rejected rows, typed, so nothing downstream re-reads rejection
payloads: every wrong attempt it rejected (``wrong_attempts``, VerifiedRollout rows with
any verdict but ``correct``: a copy of some rejected rows, see
:mod:`transforms.verify.attempts`), whatever the mix config will take from them, and the
card's statistics of every verified rollout (aggregated in the pipeline, stored in the
manifest under ``verified_stats``, see :mod:`publish.verified`). Its config is its own:
nothing here reads the mix section.
"""
from __future__ import annotations

import time
from typing import List, Optional

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from pipelines import launch, meters, progress, registry, usage
from pipelines.config import RunConfig
from publish import accounting
from publish.manifest import clear_stage, load_stage_manifest, relativize
from publish.verified import VerifiedStats, verified_row
from schemas.records import DeadLetter, Rejection, Rollout, VerifiedRollout
from transforms.core import io as rio
from transforms.core.progress import tap
from transforms.decontam.matching import count_by_benchmark
from transforms.decontam.transform import DecontaminateBenchmarks
from transforms.dedup.config import DedupConfig
from transforms.dedup.exact import DedupExact
from transforms.dedup.transform import DedupMinHash
from transforms.filters.transform import FilterRollouts
from transforms.verify.attempts import WRONG_ATTEMPTS, is_wrong_attempt, rejected_rollouts
from transforms.verify.transform import VerifyAnswers

OUTPUTS = {"curated": VerifiedRollout, "rejections": Rejection, "dead_letters": DeadLetter,
           WRONG_ATTEMPTS: VerifiedRollout}
#: The pipeline's statistics of every verified rollout (read into the manifest's ``verified_stats``).
VERIFIED_STATS = "verified_stats.json"


def build(pipeline, config: RunConfig, rollout_files: List[str], out_dir: str,
          progress_dir: Optional[str] = None, dedup: Optional[DedupConfig] = None) -> None:
    """``dedup``: the dedup config with the registry's signature indexes (default: the config's)."""
    read = pipeline | "ReadRollouts" >> rio.ReadStageRecords(rollout_files, Rollout, "curate")
    rollouts = read.kept
    verified = rollouts | "Verify" >> VerifyAnswers(config.curate.verify)
    # live progress (pipelines.meters): rollouts into Verify, and out of it
    tap(rollouts, "Progress verified", progress_dir, "verified")
    for name, out in zip(("kept", "rejected", "dead"), verified):
        tap(out, f"Progress filtered {name}", progress_dir, "filtered")
    filtered = verified.kept | "Filter" >> FilterRollouts(config.curate.filters)
    clean = filtered.kept | "Decontaminate" >> DecontaminateBenchmarks(config.curate.decontam)
    exact = clean.kept | "DedupExact" >> DedupExact(config.curate.dedup)
    deduped = exact.kept | "DedupMinHash" >> DedupMinHash(dedup or config.curate.dedup)
    rejected, dead = launch.merge_stage_outputs(
        pipeline, "Curate", [read, verified, filtered, clean, exact, deduped])
    # the rejected VerifiedRollouts, read from their payloads once, here in the pipeline
    rejected_verified = rejected | "RejectedRollouts" >> beam.FlatMap(rejected_rollouts).with_output_types(
        VerifiedRollout)
    wrong = rejected_verified | "WrongAttempts" >> beam.Filter(is_wrong_attempt).with_output_types(VerifiedRollout)
    _ = ((deduped.kept, rejected_verified)
         | "AllVerified" >> beam.Flatten()
         | "VerifiedColumns" >> beam.Map(verified_row)
         | "VerifiedStats" >> VerifiedStats()
         | "WriteVerifiedStats" >> beam.Map(rio.write_json_value, rio.join(out_dir, VERIFIED_STATS), "stats"))
    launch.write_outputs({"curated": deduped.kept, "rejections": rejected, "dead_letters": dead,
                          WRONG_ATTEMPTS: wrong},
                         out_dir, OUTPUTS, max_rows=config.output.max_rows_per_shard,
                         compression=config.output.compression,
                         env_names=launch.secret_envs(config))


def verified_stats(path: str) -> dict:
    """The pipeline's statistics of every verified rollout (``VERIFIED_STATS``)."""
    if not FileSystems.exists(path):
        raise accounting.AccountingError(f"curate: {path} is missing: the pipeline did not aggregate "
                                         f"its verified rollouts")
    return rio.read_json(path)["stats"]


def run(config: RunConfig, in_dir: str, out_dir: str, beam_args: List[str]) -> dict:
    started = time.monotonic()
    upstream = load_stage_manifest(in_dir, "sample",
                                   check=[] if launch.is_dry_run(beam_args) else ["rollouts"])
    rollout_files = [f["path"] for f in upstream["outputs"]["rollouts"]["files"]]
    rollouts_in = upstream["outputs"]["rollouts"]["rows"]
    clear_stage(out_dir, list(OUTPUTS))
    stats_path = rio.join(out_dir, VERIFIED_STATS)
    if FileSystems.exists(stats_path):
        FileSystems.delete([stats_path])
    live = progress.plan("curate", out_dir, config, lambda: meters.curate(rollouts_in))
    dedup = registry.curate_dedup(config)
    result = launch.run_pipeline(lambda p, folder: build(p, config, rollout_files, out_dir, folder, dedup),
                                 beam_args, live)
    outputs = accounting.collect(out_dir, OUTPUTS)
    funnel = accounting.funnel(outputs)
    lines = {"curate": accounting.check_balance(
        "curate", rollouts_in, kept=outputs["curated"]["rows"],
        rejected=outputs["rejections"]["rows"], dead=outputs["dead_letters"]["rows"])}
    # a copy of rejected rows for the journey step, not a fate: never a part of the balance
    lines["curate"][WRONG_ATTEMPTS] = outputs[WRONG_ATTEMPTS]["rows"]
    accounting.check_copies("curate", lines["curate"])
    manifest = launch.base_manifest("curate", config)
    contamination = count_by_benchmark(
        rio.read_columns(accounting.paths(outputs, "rejections"), ["reason", "detail"]))
    counters = launch.counters(result)
    manifest.update(outputs=relativize(outputs, out_dir), funnel=funnel, accounting=lines,
                    counters=counters, contamination=contamination,
                    verified_stats=verified_stats(stats_path), upstream={"sample": in_dir},
                    **registry.curate_entry(config, dedup),
                    **usage.stage_usage("curate", config, counters, started))
    manifest = launch.redacted(manifest, config)
    launch.publish_manifest(out_dir, manifest, [out_dir])
    return manifest
