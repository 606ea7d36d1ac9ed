"""Stage 2 — curate: Rollouts → verified, filtered, deduplicated VerifiedRollouts."""
from __future__ import annotations

from typing import List

from pipelines import launch

from publish.manifest import clear_stage, load_stage_manifest, relativize
from pipelines.config import RunConfig
from schemas.records import DeadLetter, Rejection, Rollout, VerifiedRollout
from publish import accounting
from transforms.core import io as rio
from transforms.decontam.matching import count_by_benchmark
from transforms.decontam.transform import DecontaminateBenchmarks
from transforms.dedup.exact import DedupExact
from transforms.dedup.transform import DedupMinHash
from transforms.filters.transform import FilterRollouts
from transforms.verify.transform import VerifyAnswers

OUTPUTS = {"curated": VerifiedRollout, "rejections": Rejection, "dead_letters": DeadLetter}


def build(pipeline, config: RunConfig, rollout_files: List[str], out_dir: str) -> None:
    rollouts = pipeline | "ReadRollouts" >> rio.ReadRecords(rollout_files, Rollout)
    verified = rollouts | "Verify" >> VerifyAnswers(config.curate.verify)
    filtered = verified.kept | "Filter" >> FilterRollouts(config.curate.filters)
    clean = filtered.kept | "Decontaminate" >> DecontaminateBenchmarks(config.curate.decontam)
    exact = clean.kept | "DedupExact" >> DedupExact(config.curate.dedup)
    deduped = exact.kept | "DedupMinHash" >> DedupMinHash(config.curate.dedup)
    rejected, dead = launch.merge_stage_outputs(
        pipeline, "Curate", [verified, filtered, clean, exact, deduped])
    launch.write_outputs({"curated": deduped.kept, "rejections": rejected, "dead_letters": dead},
                         out_dir, OUTPUTS, max_rows=config.mix.max_rows_per_shard)


def run(config: RunConfig, in_dir: str, out_dir: str, beam_args: List[str]) -> dict:
    upstream = load_stage_manifest(in_dir, "sample")
    rollout_files = [f["path"] for f in upstream["outputs"]["rollouts"]["files"]]
    rollouts_in = upstream["outputs"]["rollouts"]["rows"]
    clear_stage(out_dir, list(OUTPUTS))
    launch.run_pipeline(lambda p: build(p, config, rollout_files, out_dir), beam_args)
    outputs = accounting.collect(out_dir, OUTPUTS)
    funnel = accounting.funnel(outputs)
    lines = {"curate": accounting.check_balance(
        "curate", rollouts_in, kept=outputs["curated"]["rows"],
        rejected=outputs["rejections"]["rows"], dead=outputs["dead_letters"]["rows"])}
    manifest = launch.base_manifest("curate", config)
    contamination = count_by_benchmark(
        rio.read_columns(accounting.paths(outputs, "rejections"), ["reason", "detail"]))
    manifest.update(outputs=relativize(outputs, out_dir), funnel=funnel, accounting=lines,
                    contamination=contamination, upstream={"sample": in_dir})
    rio.write_json(rio.join(out_dir, rio.MANIFEST), manifest)
    return manifest
