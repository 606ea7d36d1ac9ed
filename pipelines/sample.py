"""Stage 1 — sample: sources → Problems → n Rollouts each."""
from __future__ import annotations

from typing import List

from pipelines import common
from pipelines.config import RunConfig
from schemas.records import DeadLetter, Problem, Rejection, Rollout
from transforms import accounting
from transforms import io as rio
from transforms.ingest import ReadProblems, check_sources
from transforms.sample import GenerateRollouts

OUTPUTS = {"problems": Problem, "rollouts": Rollout, "rejections": Rejection, "dead_letters": DeadLetter}


def build(pipeline, config: RunConfig, out_dir: str) -> None:
    problems = pipeline | "Ingest" >> ReadProblems(config.sources, config.ingest, config.seed,
                                                   config.config_hash)
    rollouts = problems.kept | "Sample" >> GenerateRollouts(config.sample, config.seed,
                                                            config.config_hash)
    rejected, dead = common.merge_stage_outputs(pipeline, "Sample", [problems, rollouts])
    common.write_outputs(
        {"problems": problems.kept, "rollouts": rollouts.kept, "rejections": rejected,
         "dead_letters": dead},
        out_dir, OUTPUTS, max_rows=config.mix.max_rows_per_shard)


def run(config: RunConfig, out_dir: str, beam_args: List[str]) -> dict:
    """Run the sample stage and write its manifest; returns the manifest."""
    if not config.sources:
        raise ValueError("no sources: give --input PATH or a config with 'sources'")
    check_sources(config.sources)
    common.clear_stage(out_dir, list(OUTPUTS))
    result = common.run_pipeline(lambda p: build(p, config, out_dir), beam_args)
    outputs = accounting.collect(out_dir, OUTPUTS)
    funnel = accounting.funnel(outputs)
    dead = accounting.by_stage(funnel["dead_letters"])
    rejected = accounting.by_stage(funnel["rejected"])
    problems = outputs["problems"]["rows"]
    read = common.counter(result, "ingest_lines")
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
    manifest = common.base_manifest("sample", config)
    manifest.update(outputs=common.relativize(outputs, out_dir), funnel=funnel, accounting=lines)
    rio.write_json(rio.join(out_dir, rio.MANIFEST), manifest)
    return manifest
