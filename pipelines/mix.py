"""Stage 3 — mix: curated VerifiedRollouts → SFT examples by quota, Parquet shards, manifest."""
from __future__ import annotations

from typing import Dict, List, Optional

from pipelines import common
from pipelines.config import RunConfig
from schemas.records import DeadLetter, Rejection, SftExample, VerifiedRollout
from transforms import accounting
from transforms import io as rio
from transforms.mix import MixExamples

DATA = "data/train"
OUTPUTS = {DATA: SftExample, "rejections": Rejection, "dead_letters": DeadLetter}


def build(pipeline, config: RunConfig, curated_files: List[str], out_dir: str) -> None:
    curated = pipeline | "ReadCurated" >> rio.ReadRecords(curated_files, VerifiedRollout)
    mixed = curated | "Mix" >> MixExamples(config.mix, config.seed)
    common.write_outputs({DATA: mixed.kept, "rejections": mixed.rejected, "dead_letters": mixed.dead},
                         out_dir, OUTPUTS, max_rows=config.mix.max_rows_per_shard,
                         compression=config.mix.compression)


def run(config: RunConfig, in_dir: str, out_dir: str, beam_args: List[str],
        sample_dir: Optional[str] = None) -> dict:
    upstream = common.load_stage_manifest(in_dir, "curate")
    curated_files = [f["path"] for f in upstream["outputs"]["curated"]["files"]]
    curated_in = upstream["outputs"]["curated"]["rows"]
    common.clear_stage(out_dir, list(OUTPUTS))
    common.run_pipeline(lambda p: build(p, config, curated_files, out_dir), beam_args)
    outputs = accounting.collect(out_dir, OUTPUTS)
    data_files = accounting.paths(outputs, DATA)
    funnel = accounting.funnel(outputs)
    lines = {"mix": accounting.check_balance(
        "mix", curated_in, selected=outputs[DATA]["rows"], rejected=outputs["rejections"]["rows"],
        dead=outputs["dead_letters"]["rows"])}
    targets = config.mix.targets()
    selected = {k: 0 for k in targets}
    selected.update(rio.column_counts(data_files, ["kind"]))
    supply = {k: 0 for k in targets}
    supply.update(rio.column_counts(curated_files, ["kind"]))
    shortfall = {k: targets[k] - selected.get(k, 0) for k in targets if selected.get(k, 0) < targets[k]}

    # the funnel and accounting of the whole run, upstream stages first
    stages: Dict[str, dict] = {}
    full_funnel = {"rejected": {}, "dead_letters": {}}
    upstream_manifests = [upstream]
    if sample_dir:
        upstream_manifests.insert(0, common.load_stage_manifest(sample_dir, "sample"))
    for m in upstream_manifests + [{"accounting": lines, "funnel": funnel}]:
        stages.update(m.get("accounting", {}))
        for kind in full_funnel:
            full_funnel[kind].update(m.get("funnel", {}).get(kind, {}))

    manifest = common.base_manifest("mix", config)
    manifest.update(
        outputs=common.relativize(outputs, out_dir),
        rows=outputs[DATA]["rows"],
        targets=targets,
        supply=supply,
        selected=selected,
        shortfall=shortfall,
        counts={
            "by_kind": rio.column_counts(data_files, ["kind"]),
            "by_domain": rio.column_counts(data_files, ["domain"]),
            "by_source": rio.column_counts(data_files, ["source"]),
            "by_verifier": rio.column_counts(data_files, ["verifier"]),
        },
        funnel=full_funnel,
        accounting=stages,
        upstream={"curate": in_dir, **({"sample": sample_dir} if sample_dir else {})},
    )
    rio.write_json(rio.join(out_dir, rio.MANIFEST), manifest)  # last: makes the corpus visible
    return manifest
